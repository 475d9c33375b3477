// `homelab recover <node>` end to end over sshd: a node verified at a good commit, then a commit that
// breaks its service and plants secrets in the compose file, the node's .env and the container's log.
// The prompt must explain the failure and carry none of the secrets: not on stdout, not in --out,
// not in the copy saved under the state folder.
import {
  appendFileSync,
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
import { runCli, type CliOutput } from '../../support/cli.js';
import { createLabHomelab, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('docker', 'sshd');
const id = Math.random().toString(36).slice(2, 7);
const NODE = `rc${id}`;

// Values a careless homelab might leak, and none of which may reach the prompt. SATURN's inventory
// checks refuse credential-shaped literals in Git, so what Git can carry is an unshaped copy of a
// .env value; the shaped ones live where they do in real life: .env, a host-local override, logs.
const ENV_SECRET = `env-secret-${id}-Qx81`; // config/web/.env, echoed by the container, pasted into a compose label
const TSKEY = `tskey-auth-k${id}CNTRL-0123456789abcdef`; // config/web/.env, echoed by the container
const OVERRIDE_PW = `pw-in-override-${id}-77`; // the node's docker-compose.override.yml
// ...and a bearer token the service makes up at run time and prints (known to no file).
const ALL = [ENV_SECRET, TSKEY, OVERRIDE_PW];

function brokenCompose(): string {
  return [
    'services:',
    '  web:',
    '    image: busybox:1.36',
    '    network_mode: host',
    '    stop_signal: SIGKILL',
    '    labels:',
    `      note: "${ENV_SECRET}"`,
    '    environment:',
    '      WEB_TOKEN: ${WEB_TOKEN}',
    '      TS_AUTHKEY: ${TS_AUTHKEY}',
    `    command: ["sh", "-c", "echo token=$$WEB_TOKEN; echo auth $$TS_AUTHKEY; echo Authorization: Bearer $$(cat /proc/sys/kernel/random/uuid); echo 'fatal: database migration 0042 failed'; exit 4"]`,
    '',
  ].join('\n');
}

describe.skipIf(!ok)('homelab recover: the prompt explains the failure and leaks no secret', () => {
  let hl: LabHomelab;
  let state: string;
  let good = '';
  let bad = '';
  let res: CliOutput;
  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HOMELAB_STATE_DIR: state,
  });
  const cli = (args: string[]) => runCli(args, { cwd: hl.repoDir, env: env() });

  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), 'homelab-recover-state-'));
    hl = await createLabHomelab({
      nodes: [{ name: NODE, services: [{ name: 'web', secrets: ['WEB_TOKEN'] }] }],
      connectTimeout: 3,
    });
    hl.bootstrap(NODE);
    mkdirSync(join(hl.rootOf(NODE), 'config', 'web'), { recursive: true });
    writeFileSync(
      join(hl.rootOf(NODE), 'config', 'web', 'docker-compose.override.yml'),
      `services:\n  web:\n    environment:\n      DB_PASSWORD: ${OVERRIDE_PW}\n`,
    );
    hl.writeEnv(NODE, 'web', `WEB_TOKEN=${ENV_SECRET}\nTS_AUTHKEY="${TSKEY}"\n`);
    for (const stage of ['prepare', 'deploy', 'verify']) {
      const r = await cli(['run', stage, '--node', NODE, '--yes']);
      expect(r.code, `${stage}: ${r.stdout}\n${r.stderr}`).toBe(0);
    }
    good =
      (await cli(['status', '--json'])).stdout.match(/"knownGood":\s*"([0-9a-f]{40})"/)?.[1] ?? '';
    writeFileSync(join(hl.repoDir, 'hosts', NODE, 'web', 'docker-compose.yml'), brokenCompose());
    bad = hl.commit('web: run the migration on start');
    const prep = await cli(['run', 'prepare', '--node', NODE, '--yes']);
    expect(prep.code, prep.stdout + prep.stderr).toBe(0);
    // The container exits at once: deploy or, at the latest, verify fails.
    let failed = await cli(['run', 'deploy', '--node', NODE, '--yes']);
    if (failed.code === 0) failed = await cli(['run', 'verify', '--node', NODE, '--yes']);
    expect(failed.code, failed.stdout).toBe(1);
    res = await cli(['recover', NODE]);
    if (process.env.RECOVER_DUMP)
      writeFileSync(process.env.RECOVER_DUMP, res.stdout + '\n----\n' + res.stderr);
  }, 240_000);

  afterAll(async () => {
    await hl?.cleanup();
    rmSync(state, { recursive: true, force: true });
  });

  it('prints a prompt that names the failed stage, the commits and the diff between them', () => {
    expect(res.code, res.stderr).toBe(0);
    const p = res.stdout;
    expect(p).toContain(`# Recover node \`${NODE}\` of homelab \`lab\``);
    expect(p).toMatch(/failed stage: \*\*(deploy|verify)\*\*/);
    expect(p).toContain(`target commit: \`${bad.slice(0, 12)}\``);
    if (good) expect(p).toContain(`last known-good commit: \`${good.slice(0, 12)}\``);
    expect(p).toContain(`+    command: ["sh", "-c", "echo token=`);
    expect(p).toMatch(/\[fail\] service\.(exited|restarting) \(web\)/);
    expect(p).toContain('fatal: database migration 0042 failed');
    expect(p).toContain(`#### hosts/${NODE}/web/docker-compose.yml (web)`);
    expect(p).toContain('## What to answer');
  });

  it('carries none of the planted secrets, shaped or not', () => {
    for (const s of ALL) expect(res.stdout, s).not.toContain(s);
    for (const s of ALL) expect(res.stderr, s).not.toContain(s);
    expect(res.stdout).not.toMatch(/Bearer (?!\[REDACTED\])[0-9a-f-]{8,}/);
    // Redacted in place, so the model still sees where the secret was.
    expect(res.stdout).toContain('DB_PASSWORD: [REDACTED]');
    expect(res.stdout).toContain('note: "[REDACTED]"');
    // The header's value is replaced whole, scheme and all (the shared rule list's header family).
    expect(res.stdout).toMatch(/Authorization: \[REDACTED\]/);
  });

  it('saves a private copy under the state folder, as redacted as what was printed', () => {
    const dir = join(state, 'recover');
    const files = readdirSync(dir).filter((f) => f.startsWith(`${NODE}-`) && f.endsWith('.md'));
    expect(files).toHaveLength(1);
    const file = join(dir, files[0] as string);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = readFileSync(file, 'utf8');
    expect(saved.trimEnd()).toBe(res.stdout.trimEnd());
    expect(res.stderr).toContain(`saved a copy: ${file}`);
  });

  it('writes --out FILE and says how to set an AI command when --ai has none', async () => {
    const out = join(state, 'prompt.md');
    const r = await cli(['recover', NODE, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('## Diagnose findings');
    for (const s of ALL) expect(text).not.toContain(s);
    const ai = await cli(['recover', NODE, '--ai']);
    expect(ai.code).toBe(1);
    expect(ai.stderr).toContain('No AI command is configured');
    expect(ai.stderr).toContain('ai:');
  });

  it('hands the redacted prompt to ai.command on stdin and prints its answer', async () => {
    const got = join(state, 'ai-stdin.md');
    appendFileSync(
      join(hl.repoDir, 'inventory', 'topology.yaml'),
      `ai:\n  command: [sh, -c, "cat > ${got}; echo MODEL SAYS: fix the migration, then resume"]\n`,
    );
    const r = await cli(['recover', NODE, '--ai']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('MODEL SAYS: fix the migration, then resume');
    const stdin = readFileSync(got, 'utf8');
    expect(stdin).toContain(`# Recover node \`${NODE}\``);
    for (const s of ALL) expect(stdin).not.toContain(s);
  });
});
