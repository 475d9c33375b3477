// Helpers of the deploy-contract tests (test/integration/deploy/contract-*.test.ts): raw protocol
// records (every field, known to the parser or not), tmpfs and read-only mounts (root only), and a
// PATH shim for `sync` that fails on chosen file contents (a disk error at an exact write).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RawRecord {
  readonly event: string;
  readonly [field: string]: unknown;
}

/** Every `@homelab/1 EVENT {json}` line of the text, with all its fields. */
export function records(text: string): RawRecord[] {
  return text.split('\n').flatMap((line) => {
    const m = /^@homelab\/1 (\S+) (\{.*\})$/.exec(line);
    if (!m) return [];
    return [{ ...(JSON.parse(m[2] ?? '{}') as Record<string, unknown>), event: m[1] ?? '' }];
  });
}

export function failedSteps(text: string): RawRecord[] {
  return records(text).filter((r) => r.event === 'step' && r.status === 'fail');
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function run(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Puts DIR on a tmpfs of `kib` KiB holding a copy of its files, then fills it to the last block.
 * Returns the undo (unmount; the original files under it were never touched).
 */
export function fullTmpfs(dir: string, kib = 256): () => void {
  const copy = mkdtempSync(join(tmpdir(), 'homelab-copy-'));
  run('cp', ['-a', `${dir}/.`, copy]);
  run('mount', ['-t', 'tmpfs', '-o', `size=${kib}k,mode=700`, 'tmpfs', dir]);
  run('cp', ['-a', `${copy}/.`, dir]);
  rmSync(copy, { recursive: true, force: true });
  try {
    run('dd', ['if=/dev/zero', `of=${join(dir, '.fill')}`, 'bs=4k']);
  } catch {
    // dd ends with "No space left on device": the disk is full, as wanted
  }
  return () => run('umount', ['-l', dir]);
}

/** Bind-mounts DIR read-only over itself. Returns the undo. */
export function readOnly(dir: string): () => void {
  run('mount', ['--bind', dir, dir]);
  run('mount', ['-o', 'remount,bind,ro', dir]);
  return () => run('umount', ['-l', dir]);
}

/**
 * A folder with a `sync` that fails ("Input/output error") for any file whose content matches
 * the extended regex in $HOMELAB_TEST_SYNC_FAIL, and runs the real sync otherwise. Put it first
 * on PATH: deploy.sh's atomic_write syncs every temp file before renaming it.
 */
export function syncShim(): { dir: string; path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'homelab-shim-'));
  mkdirSync(dir, { recursive: true });
  const real = run('bash', ['-c', 'command -v sync']).trim();
  writeFileSync(
    join(dir, 'sync'),
    [
      '#!/bin/bash',
      'for a in "$@"; do',
      '  [[ "$a" == -- ]] && continue',
      '  if [[ -n "${HOMELAB_TEST_SYNC_FAIL:-}" && -f "$a" ]] && grep -Eq "${HOMELAB_TEST_SYNC_FAIL}" "$a"; then',
      `    echo "sync: error syncing '$a': Input/output error" >&2`,
      '    exit 1',
      '  fi',
      'done',
      `exec ${real} "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(join(dir, 'sync'), 0o755);
  return {
    dir,
    path: `${dir}:${process.env.PATH ?? ''}`,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Raw bash noise a user should never see: warnings, "line N:", mkdir/printf errors. */
export const RAW_BASH =
  /warning: command substitution|: line \d+: |^mkdir: |^printf: |^mv: |^mktemp: /m;
