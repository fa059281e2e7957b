import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { NodeFileBackend } from '../../src/storage/node-fs.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('node-fs open files', () => {
  test('past openFilesMax an open is KAFKA_STORAGE_ERROR naming the limit; closing a file makes room', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wafka-fds-'));
    dirs.push(dir);
    const backend = await NodeFileBackend.create(dir, { openFilesMax: 3 });
    const files = await Promise.all(['a', 'b', 'c'].map((name) => backend.openFile(`p/${name}`)));
    const error = await backend.openFile('p/d').catch((e) => e);
    expect(error).toMatchObject({ type: 'KAFKA_STORAGE_ERROR', retriable: true });
    expect(error.message).toContain('the limit (openFilesMax) is 3');
    await files[0].close();
    const d = await backend.openFile('p/d');
    await Promise.all([d, ...files.slice(1)].map((f) => f.close()));
    await expect(NodeFileBackend.create(dir, { openFilesMax: 0 })).rejects.toThrow(RangeError);
  });
});
