/**
 * Small text checkpoint files kept with a log, in Kafka's checkpoint format:
 *
 *   <version>\n<entry count>\n<entry>\n...
 *
 * Written whole to `<name>.tmp`, flushed, then renamed over `<name>`. A
 * reader takes `<name>` if it parses (version known, count matches), else the
 * `.tmp` (a crash between remove and move on backends where rename is not
 * atomic), else nothing.
 */
import type { StorageBackend } from './backend.ts';

const VERSION = '0';
const CHECKPOINT_BYTES_MAX = 1 << 20;

export async function writeCheckpoint(backend: StorageBackend, path: string, entries: string[]): Promise<void> {
  const text = `${VERSION}\n${entries.length}\n${entries.map((e) => `${e}\n`).join('')}`;
  await replaceFile(backend, path, new TextEncoder().encode(text));
}

/** Writes `bytes` whole to `<path>.tmp`, flushes it, then renames it over `path`: a reader sees the old file or the new one. */
export async function replaceFile(backend: StorageBackend, path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const file = await backend.openFile(tmp);
  try {
    await file.truncate(0);
    await file.write(0, bytes);
    await file.flush();
  } finally {
    await file.close();
  }
  await backend.rename(tmp, path);
}

export async function readCheckpoint(backend: StorageBackend, path: string): Promise<string[] | undefined> {
  return (await readOne(backend, path)) ?? (await readOne(backend, `${path}.tmp`));
}

async function readOne(backend: StorageBackend, path: string): Promise<string[] | undefined> {
  let file;
  try {
    file = await backend.openFile(path, { create: false });
  } catch {
    return undefined;
  }
  try {
    if (file.size > CHECKPOINT_BYTES_MAX) return undefined;
    const text = new TextDecoder().decode(await file.read(0, file.size));
    const lines = text.split('\n');
    if (lines[0] !== VERSION || lines[lines.length - 1] !== '') return undefined;
    const count = Number(lines[1]);
    if (!Number.isSafeInteger(count) || count < 0 || lines.length !== count + 3) return undefined;
    return lines.slice(2, 2 + count);
  } finally {
    await file.close();
  }
}
