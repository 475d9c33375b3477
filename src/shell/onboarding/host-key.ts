// Host key onboarding for the ssh transport: before the first connection, `node bootstrap` shows
// the node's host key fingerprints (from ssh-keyscan) and asks before adding them to the
// known_hosts file the inventory names (or ~/.ssh/known_hosts). Host key checking itself stays
// strict everywhere (StrictHostKeyChecking=yes); nothing is ever accepted silently.
import { appendFile, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import type { NodeSpec } from '../../core/inventory/model.js';

/** The known_hosts file ssh reads for the node. */
export function knownHostsFileOf(node: NodeSpec, env: NodeJS.ProcessEnv): string {
  const f = node.ssh.knownHostsFile;
  const home = env.HOME ?? homedir();
  if (f === undefined) return join(home, '.ssh', 'known_hosts');
  return f.startsWith('~/') ? join(home, f.slice(2)) : f;
}

/** The name the node's keys are filed under: `host`, or `[host]:port` off port 22. */
export function hostPattern(node: NodeSpec): string {
  const port = node.ssh.port ?? 22;
  return port === 22 ? node.address : `[${node.address}]:${port}`;
}

/** True when the file already holds a key for the node (ssh then checks it; a changed key fails). */
export async function hostKeyKnown(node: NodeSpec, env: NodeJS.ProcessEnv): Promise<boolean> {
  const r = await execa(
    'ssh-keygen',
    ['-F', hostPattern(node), '-f', knownHostsFileOf(node, env)],
    {
      reject: false,
      stdin: 'ignore',
    },
  );
  return r.exitCode === 0 && String(r.stdout).trim() !== '';
}

export interface ScannedKeys {
  /** known_hosts lines, as ssh-keyscan printed them. */
  readonly lines: readonly string[];
  /** `256 SHA256:... [host]:port (ED25519)`, one per key. */
  readonly fingerprints: readonly string[];
}

export async function scanHostKeys(node: NodeSpec): Promise<ScannedKeys | { error: string }> {
  const scan = await execa(
    'ssh-keyscan',
    ['-T', String(node.ssh.connectTimeout), '-p', String(node.ssh.port ?? 22), '--', node.address],
    { reject: false, stdin: 'ignore', timeout: (node.ssh.connectTimeout + 5) * 1000 },
  );
  const lines = String(scan.stdout)
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length === 0)
    return {
      error: `ssh-keyscan ${hostPattern(node)} returned no host key (${String(scan.stderr).trim().split('\n').pop() ?? 'no answer'})`,
    };
  const fp = await execa('ssh-keygen', ['-l', '-f', '-'], {
    reject: false,
    input: `${lines.join('\n')}\n`,
  });
  return { lines, fingerprints: String(fp.stdout).split('\n').filter(Boolean) };
}

/** Appends the scanned lines to the node's known_hosts file (created with its folder). */
export async function addHostKeys(
  node: NodeSpec,
  env: NodeJS.ProcessEnv,
  lines: readonly string[],
): Promise<string> {
  const file = knownHostsFileOf(node, env);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await appendFile(file, `${lines.join('\n')}\n`, { mode: 0o644 });
  return file;
}
