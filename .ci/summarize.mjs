// Prints "N passed, N failed, N skipped" from vitest's JSON report (jest-compatible shape).
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/vitest.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.log('0 passed, 1 failed');
  console.error(`no test report at ${file}: ${error.message}`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// A test file that failed with no failed test in it (it did not load, or a hook threw) counts as one failure.
// vitest's numFailedTestSuites is not used: it counts every failing describe block as well as the file.
const failed = (report.numFailedTests ?? 0) + countFilesFailedWithoutFailedTests(report);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed === 0) process.exit(1);

function countFilesFailedWithoutFailedTests(r) {
  return (r.testResults ?? []).filter((file) => file.status === 'failed' && !(file.assertionResults ?? []).some((a) => a.status === 'failed')).length;
}
