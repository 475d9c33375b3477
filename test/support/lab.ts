// Gate for tests that need the real stack (Docker engine + Compose v2, sshd, tmux).
// In CI (CI=true) a missing part is an error: the suite fails instead of going green without it.
// Elsewhere the tests are skipped and say so loudly, with the command that installs the part.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export type LabPart = 'docker' | 'sshd' | 'tmux' | 'shellcheck' | 'registry';

/** The lab's image registry (scripts/dev/setup-lab.sh starts it there). */
export const LAB_REGISTRY = process.env.HOMELAB_LAB_REGISTRY ?? '127.0.0.1:5000';

const probes: Record<LabPart, () => boolean> = {
  docker: () =>
    succeeds('docker', ['info', '--format', '{{.ServerVersion}}']) &&
    succeeds('docker', ['compose', 'version']),
  sshd: () => existsSync('/usr/sbin/sshd') && succeeds('ssh', ['-V']),
  tmux: () => succeeds('tmux', ['-V']),
  shellcheck: () => succeeds('shellcheck', ['--version']),
  registry: () =>
    succeeds('curl', ['-fsS', '--max-time', '3', '-o', '/dev/null', `http://${LAB_REGISTRY}/v2/`]),
};

function succeeds(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}

const cache = new Map<LabPart, boolean>();

export function hasLabPart(part: LabPart): boolean {
  let ok = cache.get(part);
  if (ok === undefined) {
    ok = probes[part]();
    cache.set(part, ok);
  }
  return ok;
}

export const inCI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Returns true when every part is present. In CI a missing part throws (the file fails);
 * elsewhere it prints a loud warning and returns false, so the caller uses describe.skipIf(!ok).
 */
export function requireLab(...parts: LabPart[]): boolean {
  const missing = parts.filter((p) => !hasLabPart(p));
  if (missing.length === 0) return true;
  const msg = `real-stack test needs ${missing.join(', ')}: run scripts/dev/setup-lab.sh (as root) to install and start it`;
  if (inCI) throw new Error(`CI=true and ${msg}`);
  console.warn(`\n*** SKIPPED: ${msg} ***\n`);
  return false;
}
