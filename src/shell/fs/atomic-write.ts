// The one way SATURN writes a file it must never leave half-written (manifests, the topology, the
// recover prompt): a temp file in the same folder, written and fsynced, renamed over the target,
// then the folder fsynced. A reader sees the old file or the new one, never a part; after a crash or
// a power cut the file is old or new, never empty. On failure the temp file is removed.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** Mode of the written file, exactly (the umask does not apply). Default 0o644. */
  readonly mode?: number;
  /** Mode of folders created on the way (the umask applies). Default 0o755. */
  readonly dirMode?: number;
}

/** The temp name beside `path`: hidden, unique per call, recognisable (`.<name>.<hex>.tmp`). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `data` to `path` atomically and durably; creates the folders it needs. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o644;
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: options.dirMode ?? 0o755 });
  const tmp = tempPathFor(path);
  try {
    // 'wx': a fresh file only (never follows a planted symlink); chmod: exactly `mode`.
    const handle = await open(tmp, 'wx', mode);
    try {
      await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}
