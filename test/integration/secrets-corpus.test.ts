// The secret-planting corpus: values of every shape in a node's .env and host-local override, made
// to reach the container's log, its healthcheck output (cut by Docker at 4096 bytes), a Compose error
// (a bad duration interpolated from a secret) and diagnose; then every output a person or a model
// sees is searched for any readable piece of them: the node's logs and state files, every stage's
// stdout and stderr, `homelab status --json`, `homelab recover` (stdout, --out onto an existing
// file, the saved copy, the ai.command's stdin). Real git, sshd, bash, Docker with Compose v2.
//
// Each secret carries markers (letters and digits only, so every encoding -- raw, Go-quoted, JSON,
// \xNN -- prints them unchanged): a marker found anywhere is a leak, whatever form it leaked in.
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliOutput } from '../support/cli.js';
import { createLabHomelab, type LabHomelab } from '../support/lab-homelab.js';
import { requireLab } from '../support/lab.js';
import { secretCorpus } from '../support/secrets-corpus.js';

const ok = requireLab('docker', 'sshd');
const id = Math.random().toString(36).slice(2, 7);
const NODE = `sc${id}`;
const corpus = secretCorpus(id);
const PLANTED = corpus.planted;

describe.skipIf(!ok)('secrets stay on the node in every form they take', () => {
  let hl: LabHomelab;
  let state: string;
  const outputs: Array<{ where: string; text: string }> = [];
  const seen = (where: string, r: CliOutput): CliOutput => {
    outputs.push(
      { where: `${where} stdout`, text: r.stdout },
      { where: `${where} stderr`, text: r.stderr },
    );
    return r;
  };
  const cli = (args: string[]) =>
    runCli(args, {
      cwd: hl.repoDir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HOMELAB_STATE_DIR: state },
    });
  let containerLog = '';
  let outFile = '';
  let aiStdin = '';

  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), 'homelab-secrets-state-'));
    hl = await createLabHomelab({ nodes: [{ name: NODE, services: ['web'] }], connectTimeout: 3 });
    const port = hl.ports.get(`${NODE}/web`) ?? 0;
    hl.bootstrap(NODE);
    hl.writeEnv(NODE, 'web', corpus.envText);
    writeFileSync(
      join(hl.rootOf(NODE), 'config', 'web', 'docker-compose.override.yml'),
      corpus.override,
    );
    writeFileSync(
      join(hl.repoDir, 'hosts', NODE, 'web', 'docker-compose.yml'),
      corpus.compose(port, false),
    );
    hl.commit('web: print every secret');

    for (const stage of ['prepare', 'deploy', 'verify']) {
      const r = seen(stage, await cli(['run', stage, '--node', NODE, '--yes']));
      if (stage === 'prepare') expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    const project = `${NODE}_web`;
    const ids = execFileSync(
      'docker',
      ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`],
      {
        encoding: 'utf8',
      },
    ).trim();
    containerLog = execFileSync('docker', ['logs', ids.split('\n')[0] ?? ''], { encoding: 'utf8' });
    seen('status', await cli(['status', '--json']));
    seen('recover', await cli(['recover', NODE]));
    outFile = join(state, 'existing-prompt.md');
    writeFileSync(outFile, 'old\n');
    chmodSync(outFile, 0o644);
    seen('recover --out', await cli(['recover', NODE, '--out', outFile]));
    outputs.push({ where: 'recover --out file', text: readFileSync(outFile, 'utf8') });

    // A Compose error made of a secret: prepare fails, diagnose and recover see it.
    writeFileSync(
      join(hl.repoDir, 'hosts', NODE, 'web', 'docker-compose.yml'),
      corpus.compose(port, true),
    );
    hl.commit('web: an interval from the .env');
    const prep = seen(
      'prepare (bad duration)',
      await cli(['run', 'prepare', '--node', NODE, '--yes']),
    );
    expect(prep.code).toBe(1);
    seen('diagnose', await cli(['run', 'diagnose', '--node', NODE, '--yes']));
    seen('status (after)', await cli(['status', '--json']));
    const got = join(state, 'ai-stdin.md');
    appendFileSync(
      join(hl.repoDir, 'inventory', 'topology.yaml'),
      `ai:\n  command: [sh, -c, "cat > ${got}; echo MODEL SAYS ok"]\n`,
    );
    seen('recover --ai', await cli(['recover', NODE, '--ai']));
    aiStdin = readFileSync(got, 'utf8');
    outputs.push({ where: 'ai.command stdin', text: aiStdin });
    const dir = join(state, 'recover');
    for (const f of readdirSync(dir))
      outputs.push({ where: `saved copy ${f}`, text: readFileSync(join(dir, f), 'utf8') });
    // What the node keeps: every file under logs/ and state/.
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile())
          outputs.push({ where: `node file ${p}`, text: readFileSync(p, 'latin1') });
      }
    };
    for (const sub of ['logs', 'state']) {
      mkdirSync(join(hl.rootOf(NODE), sub), { recursive: true });
      walk(join(hl.rootOf(NODE), sub));
    }
  }, 300_000);

  afterAll(async () => {
    await hl?.cleanup();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  it('planted them where they leak: the container log holds every value raw', () => {
    for (const p of PLANTED)
      for (const needle of p.needles) expect(containerLog, p.name).toContain(needle);
  });

  it('the outputs carry the failure (health output, Compose error, diagnose), redacted', () => {
    const all = outputs.map((o) => o.text).join('\n');
    expect(all).toContain('[REDACTED]');
    expect(all).toMatch(/invalid duration/);
    expect(all).toMatch(/service\.(unhealthy|exited|restarting)|unhealthy/);
    expect(outputs.some((o) => o.where.startsWith('node file'))).toBe(true);
    expect(aiStdin).toContain(`# Recover node \`${NODE}\``);
  });

  it('no readable piece of any secret in any output', () => {
    const leaks = outputs.flatMap((o) => corpus.leaks(o.where, o.text));
    expect(leaks).toEqual([]);
    expect(outputs.length).toBeGreaterThan(20);
  });

  it('recover --out onto an existing 0644 file leaves it 0600', () => {
    expect(statSync(outFile).mode & 0o777).toBe(0o600);
  });
});
