const root = await navigator.storage.getDirectory();
const file = await root.getFileHandle('smoke.bin', { create: true });
const handle = await (file as any).createSyncAccessHandle();
handle.truncate(0);
handle.write(new Uint8Array([1, 2, 3, 4, 5]), { at: 0 });
const size = handle.getSize();
handle.close();
await root.removeEntry('smoke.bin');
postMessage(String(size));
