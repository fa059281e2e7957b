// A dedicated worker: FileSystemSyncAccessHandle exists only here, and the DOM lib does not declare it.
interface SyncHandle {
  write(buffer: Uint8Array, options?: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  close(): void;
}

const root = await navigator.storage.getDirectory();
const file = await root.getFileHandle('smoke.bin', { create: true });
const handle = await (file as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }).createSyncAccessHandle();
handle.truncate(0);
handle.write(new Uint8Array([1, 2, 3, 4, 5]), { at: 0 });
const size = handle.getSize();
handle.close();
await root.removeEntry('smoke.bin');
postMessage(String(size));

export {};
