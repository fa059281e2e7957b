/**
 * The last line of CI ("N passed, N failed, N skipped") read from vitest's JSON
 * report: each failed test counts once, and a file that failed without a
 * failed test (it did not load) counts as one failure.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, test } from 'vitest';

const run = promisify(execFile);
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function summarize(report: unknown): Promise<{ line: string; code: number }> {
  dir = await mkdtemp(join(tmpdir(), 'wafka-ci-'));
  const file = join(dir, 'vitest.json');
  await writeFile(file, JSON.stringify(report));
  try {
    const { stdout } = await run(process.execPath, ['.ci/summarize.mjs', file]);
    return { line: stdout.trim(), code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; code: number };
    return { line: failed.stdout.trim(), code: failed.code };
  }
}

const passing = (n: number) => Array.from({ length: n }, () => ({ status: 'passed' }));

describe('the CI summary line', () => {
  test('a failed test inside a describe block counts once (vitest counts the block and the file as two failed suites)', async () => {
    const { line } = await summarize({
      numPassedTests: 3, numFailedTests: 1, numPendingTests: 0, numTodoTests: 0, numFailedTestSuites: 2,
      testResults: [
        { status: 'passed', assertionResults: passing(2) },
        { status: 'failed', assertionResults: [...passing(1), { status: 'failed' }] },
      ],
    });
    expect(line).toBe('3 passed, 1 failed, 0 skipped');
  });

  test('a file that failed to load counts as one failure', async () => {
    const { line } = await summarize({
      numPassedTests: 2, numFailedTests: 0, numPendingTests: 1, numTodoTests: 0, numFailedTestSuites: 1,
      testResults: [{ status: 'passed', assertionResults: passing(2) }, { status: 'failed', assertionResults: [] }],
    });
    expect(line).toBe('2 passed, 1 failed, 1 skipped');
  });

  test('a run in which no test passed fails, and a missing report is a failure', async () => {
    expect((await summarize({ numPassedTests: 0, numFailedTests: 0, testResults: [] })).code).toBe(1);
    const missing = await run(process.execPath, ['.ci/summarize.mjs', '/nonexistent/vitest.json']).catch((error: { stdout: string }) => error);
    expect((missing as { stdout: string }).stdout.trim()).toBe('0 passed, 1 failed');
  });
});
