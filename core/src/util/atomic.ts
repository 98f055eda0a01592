import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';

/**
 * Write `data` to `file` atomically: write a temporary file in the same folder, flush it to disk, then
 * rename it over the target (creating the folder if needed). Readers see either the old or the new content, never a partial file.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let handle: fsp.FileHandle | undefined;
  await makeDirs(dir);
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

/** An error like the ones `fs` throws: `code` set, the message starting with it. */
function fsError(code: string, message: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${message}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

/**
 * The folders of `dir` that do not exist yet (outermost first) and the nearest one that does; an error (with
 * the `fs` code) when that one is a file.
 */
function missingFolders(dir: string): { missing: string[]; existing: string } {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    let st: fs.Stats;
    try {
      st = fs.statSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: a component above is a file, found further up
      if ((code === 'ENOENT' || code === 'ENOTDIR') && path.dirname(d) !== d) {
        missing.unshift(d);
        continue;
      }
      throw e;
    }
    if (!st.isDirectory()) throw fsError('ENOTDIR', `${d} is a file, not a folder`);
    return { missing, existing: d };
  }
}

/**
 * `mkdir -p`, one level at a time. Node's `mkdir(dir, { recursive: true })` loops forever where creating a
 * folder in an existing one fails with ENOENT (as under /proc); this stops with that error instead.
 */
export async function makeDirs(dir: string): Promise<void> {
  const { missing } = missingFolders(dir);
  for (const d of missing) {
    try {
      await fsp.mkdir(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(d).isDirectory()) continue; // made meanwhile
      throw e;
    }
  }
}

/**
 * Why `dir` cannot be a results folder, or undefined when it can: an existing folder must take a new file, a
 * missing one must be creatable (its nearest existing parent a folder in which a folder can be made). Checks
 * by trying — a probe file or folder, removed at once — so nothing is left behind.
 */
export function unwritableFolderReason(dir: string): string | undefined {
  const abs = path.resolve(dir);
  let found: { missing: string[]; existing: string };
  try {
    found = missingFolders(abs);
  } catch (e) {
    return (e as Error).message.replace(/^[A-Z]+: /, '');
  }
  const probe = `.odemor-probe-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  if (found.missing.length === 0) {
    const file = path.join(abs, probe);
    try {
      fs.closeSync(fs.openSync(file, 'wx'));
      fs.rmSync(file, { force: true });
      return undefined;
    } catch (e) {
      return `cannot write files in ${abs} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
  }
  const first = found.missing[0]!;
  try {
    fs.mkdirSync(first);
    fs.rmdirSync(first);
    return undefined;
  } catch (e) {
    return `cannot create folders in ${found.existing} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
}
