// `homelab status` asks each node once, so each node costs ONE ssh process: the command on a
// connection of its own, no control master (`ssh -M -N -f`), no multiplexed client and no
// `ssh -O exit`. With --resources (two commands per node) the one connection per node stays.
// Counted by an ssh shim first on PATH, against real sshd servers on loopback and the real
// deploy.sh.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { createLabHomelab, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('docker', 'sshd');
const id = Math.random().toString(36).slice(2, 7);
const NODES = [`ha${id}`, `hb${id}`];

describe.skipIf(!ok)('homelab status: one ssh process per node', () => {
  let hl: LabHomelab;
  let shimDir = '';
  let n = 0;

  /** Runs the CLI with the ssh shim; returns its output and the argv of every ssh it started. */
  async function cli(args: string[]): Promise<{ code: number; stdout: string; ssh: string[] }> {
    n += 1;
    const log = join(hl.dir, `ssh-${n}.log`);
    const r = await runCli(args, {
      cwd: hl.repoDir,
      env: {
        PATH: `${shimDir}:${process.env.PATH ?? ''}`,
        HOME: process.env.HOME,
        SSH_SHIM_LOG: log,
      },
    });
    const ssh = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    return { code: r.code, stdout: r.stdout, ssh };
  }

  beforeAll(async () => {
    hl = await createLabHomelab({ nodes: NODES.map((name) => ({ name, services: ['web'] })) });
    NODES.forEach((name) => hl.bootstrap(name));
    shimDir = join(hl.dir, 'ssh-shim');
    mkdirSync(shimDir, { recursive: true });
    const real = execFileSync('bash', ['-c', 'command -v ssh'], { encoding: 'utf8' }).trim();
    writeFileSync(
      join(shimDir, 'ssh'),
      `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >>"\${SSH_SHIM_LOG:-/dev/null}"\nexec ${real} "$@"\n`,
    );
    chmodSync(join(shimDir, 'ssh'), 0o755);
  }, 120_000);

  afterAll(async () => {
    await hl?.cleanup();
    if (shimDir) rmSync(shimDir, { recursive: true, force: true });
  });

  it('status: one plain ssh per node, no master, no exit', async () => {
    const r = await cli(['status', '--json']);
    const nodes = (JSON.parse(r.stdout) as { nodes: Array<{ node: string; reachable: boolean }> })
      .nodes;
    expect(nodes.map((x) => `${x.node} ${x.reachable}`).sort()).toEqual(
      NODES.map((x) => `${x} true`).sort(),
    );
    expect(r.ssh, r.ssh.join('\n')).toHaveLength(NODES.length);
    for (const argv of r.ssh) {
      expect(argv).toContain('ControlMaster=no');
      expect(argv).toContain('deploy.sh status');
      expect(argv).not.toMatch(/ -O | -M | -N /);
    }
  }, 60_000);

  it('status --resources: one connection per node for its two commands', async () => {
    const r = await cli(['status', '--json', '--resources']);
    expect(r.code === 0 || r.code === 1, r.stdout).toBe(true);
    const masters = r.ssh.filter((a) => / -N -f /.test(a) || a.endsWith(' -N -f'));
    expect(masters.length, r.ssh.join('\n')).toBe(NODES.length);
    expect(r.ssh.filter((a) => / -O exit /.test(a))).toHaveLength(NODES.length);
  }, 60_000);
});
