import { promises as fsp } from 'node:fs';
import path from 'node:path';

/**
 * Write `data` to `file` atomically: write a temporary file in the same folder, flush it to disk, then
 * rename it over the target (creating the folder if needed). Readers see either the old or the new content, never a partial file.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let handle: fsp.FileHandle | undefined;
  await fsp.mkdir(dir, { recursive: true });
  try {
    handle = await fsp.open(tmp, 'w');
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, file);
  } catch (err) {
    if (handle) await handle.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}
