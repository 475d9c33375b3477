// deploy.sh diagnose, node-wide: disk thresholds (a df that reports a full disk), the checkout
// (dirty, at another commit than the target, behind its remote), host-local overrides, GPU tag;
// the load check at many figures (a busy CPU is at most a warning, never a failure).
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLab } from '../../support/lab.js';
import { DiagNode, type DeployRun, type DiagFinding } from '../../support/diagnose-node.js';

const ok = requireLab('docker');

function one(findings: DiagFinding[], id: string): DiagFinding {
  const hit = findings.filter((f) => f.id === id);
  expect(hit, `${id} in ${findings.map((f) => f.id).join(', ')}`).toHaveLength(1);
  return hit[0] as DiagFinding;
}

/** A df that reports the given use% for every filesystem (the real one for everything else). */
function fakeDf(dir: string, pct: number): void {
  writeFileSync(
    join(dir, 'df'),
    `#!/bin/sh\necho "Filesystem 1024-blocks Used Available Capacity Mounted on"\necho "/dev/fake 1000000 ${pct * 10000} ${(100 - pct) * 10000} ${pct}% /"\n`,
  );
  chmodSync(join(dir, 'df'), 0o755);
}

describe.skipIf(!ok)('deploy.sh diagnose: node-wide checks', () => {
  let node: DiagNode;
  let bin: string;
  let full: DeployRun;
  let nearly: DeployRun;
  let target = '';

  beforeAll(async () => {
    node = new DiagNode({
      services: {
        web: 'services:\n  web:\n    image: busybox:1.36\n    network_mode: host\n    command: ["sleep", "600"]\n',
      },
      tags: ['gpu', 'media'],
    });
    bin = mkdtempSync(join(tmpdir(), 'homelab-df-'));
    // SATURN moves on; the node fetched but still has the old commit checked out, with a local edit.
    node.writeRepo(`hosts/${node.node}/web/README.md`, 'notes\n');
    target = node.commit('web: readme');
    execFileSync('git', ['-C', node.repo, 'fetch', '-q'], { stdio: 'ignore' });
    writeFileSync(join(node.root, 'state', 'deploy', 'target'), `${target}\n`);
    appendFileSync(
      join(node.repo, 'hosts', node.node, 'web', 'docker-compose.yml'),
      '# tuned by hand on the node\n',
    );
    node.writeConfig(
      'web',
      'docker-compose.override.yml',
      'services:\n  web:\n    environment:\n      API_TOKEN: tok-override-123456\n',
    );
    fakeDf(bin, 96);
    full = await node.deploy('diagnose', { env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
    fakeDf(bin, 88);
    nearly = await node.deploy('diagnose', { env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
  }, 120_000);

  afterAll(() => {
    node?.cleanup();
    rmSync(bin, { recursive: true, force: true });
  });

  it('fails a filesystem at 95% and warns at 85%, with a way to free space', () => {
    const f = one(full.findings, 'disk.root');
    expect(f.severity).toBe('fail');
    expect(f.summary).toBe('root filesystem is 96% full');
    expect(f.hint).toMatch(/docker (system|image) prune/);
    expect(one(nearly.findings, 'disk.root')).toMatchObject({
      severity: 'warn',
      summary: 'root filesystem is 88% full',
    });
  });

  it('reports a dirty checkout, the wrong commit and a checkout behind its remote', () => {
    const dirty = one(full.findings, 'git.dirty');
    expect(dirty.severity).toBe('warn');
    expect(dirty.evidence).toContain(`hosts/${node.node}/web/docker-compose.yml`);
    const commit = one(full.findings, 'git.commit');
    expect(commit.severity).toBe('fail');
    expect(commit.summary).toContain(`the deploy target is ${target.slice(0, 12)}`);
    expect(commit.hint).toMatch(/prepare/);
    const behind = one(full.findings, 'git.behind');
    expect(behind.severity).toBe('warn');
    expect(behind.summary).toMatch(/1 commit\(s\) behind origin\/main/);
  });

  it('shows a host-local override, redacted', () => {
    const f = one(full.findings, 'override.present');
    expect(f.severity).toBe('ok');
    expect(f.evidence).toContain('API_TOKEN: [REDACTED]');
    expect(full.stdout).not.toContain('tok-override-123456');
  });

  it('on a node tagged gpu, says whether a GPU is visible', () => {
    const f = one(full.findings, 'gpu.devices');
    const present =
      existsSync('/dev/dri') ||
      (existsSync('/dev') && readdirSync('/dev').some((d) => d.startsWith('nvidia')));
    if (present) expect(['ok', 'fail']).toContain(f.severity);
    else {
      expect(f.severity).toBe('fail');
      expect(f.summary).toBe('Node is tagged gpu but no GPU device is visible');
      expect(f.hint).toMatch(/driver/);
    }
  });
});

/** The load finding real bash prints for these /proc/loadavg figures and core count. */
function judgeLoad(five: string, cpus: string): DiagFinding {
  const lib = join(process.cwd(), 'scripts', 'deploy', 'lib', 'diagnose.sh');
  const out = execFileSync(
    'bash',
    [
      '-c',
      'set -Eeuo pipefail; source "$1"; diag_judge_load "$2" "$3" "$4" "$5"',
      'judge',
      lib,
      five,
      five,
      five,
      cpus,
    ],
    { encoding: 'utf8' },
  );
  const line = out.split('\n').find((l) => l.startsWith('@homelab/1 finding '));
  expect(line, out).toBeDefined();
  return JSON.parse((line as string).slice('@homelab/1 finding '.length)) as DiagFinding;
}

describe('deploy.sh diagnose: load is a consequence, never a failure', () => {
  it.each([
    ['0.00', '1', 'ok'],
    ['1.49', '1', 'ok'],
    ['1.50', '1', 'warn'],
    ['2.99', '1', 'warn'],
    ['3.00', '1', 'warn'],
    ['12.00', '2', 'warn'],
    ['400.00', '2', 'warn'],
    ['9999.99', '1', 'warn'],
    ['7.00', '8', 'ok'],
    ['50.00', '16', 'warn'],
    ['5.00', '0', 'warn'],
    ['5.00', 'junk', 'warn'],
  ] as const)('load %s on %s CPU(s) is %s', (five, cpus, severity) => {
    const f = judgeLoad(five, cpus);
    expect(f.id).toBe('load');
    expect(f.severity).toBe(severity);
    expect(f.severity).not.toBe('fail');
    if (severity !== 'ok') expect(f.hint).toMatch(/top -o %CPU/);
  });
});
