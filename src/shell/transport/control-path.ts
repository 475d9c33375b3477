// Where a runner keeps the control socket of its node's shared ssh connection.
// Unix socket paths are limited to ~104 bytes, so the socket lives in a short private folder
// (/tmp/homelab-ssh-<uid>, mode 0700, owned by us) under a short hash, never under the repo or $HOME.
import { createHash } from 'node:crypto';
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeSpec } from '../../core/inventory/model.js';

export function defaultControlDir(): string {
  return `/tmp/homelab-ssh-${process.getuid?.() ?? 'user'}`;
}

let counter = 0;

/**
 * A socket path unique to this runner (process id and a counter go into the hash), so closing one
 * runner never stops a connection another runner or another homelab process is using.
 */
export function controlPathFor(node: NodeSpec, dir: string): string {
  counter += 1;
  const key = [
    process.pid,
    counter,
    node.transport,
    node.user,
    node.address,
    node.ssh.port ?? '',
    node.ssh.identityFile ?? '',
    node.ssh.knownHostsFile ?? '',
  ].join('\0');
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return join(dir, `${node.name.slice(0, 20)}-${hash}`);
}

/** Creates the folder (0700) or checks that an existing one is ours and private. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new Error(
      `${dir} must be a folder owned by uid ${uid ?? '?'} with mode 0700 (it holds ssh control sockets); remove it and retry`,
    );
  }
}
