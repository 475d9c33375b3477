// Service logs and the command log in a real terminal, the node behind a real sshd on loopback:
// `l` opens the service's logs (the last lines, then new lines as the container prints them), `/`
// filters them, `t` shows timestamps, a secret the container prints never reaches the screen; `@`
// lists the commands SATURN ran on the node, the last stage's argv as it went out, with its exit
// code. Also `homelab logs` and `--verbose` on the same node.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireLab } from '../support/lab.js';
import { createLabHomelab, git, type LabHomelab } from '../support/lab-homelab.js';
import { runCli } from '../support/cli.js';
import { BIN, ROOT, ensureBuilt } from './build.js';
import { openTerminal, type Terminal } from './tmux.js';

const ok = requireLab('tmux', 'docker', 'sshd');

const SECRET = 'Lg-e2e-Secret-7x9q4w';

describe.skipIf(!ok)('service logs and the command log in a real terminal', () => {
  const id = randomBytes(3).toString('hex');
  const node = `lgs${id}`;
  const sayDir = `/tmp/homelab-say-${id}`;
  let hl: LabHomelab;
  let term: Terminal;
  let sha = '';
  let n = 0;
  const say = (text: string): void => {
    n += 1;
    writeFileSync(join(sayDir, `.${n}.tmp`), text);
    renameSync(join(sayDir, `.${n}.tmp`), join(sayDir, `${n}.txt`));
  };

  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(sayDir, { recursive: true });
    chmodSync(sayDir, 0o777);
    hl = await createLabHomelab({ nodes: [{ name: node, services: ['talk'] }] });
    // A service that prints what the test drops in its folder (no healthcheck: running is healthy).
    writeFileSync(
      join(hl.repoDir, 'hosts', node, 'talk', 'docker-compose.yml'),
      [
        'services:',
        '  talk:',
        '    image: busybox:1.36',
        '    network_mode: none',
        '    stop_signal: SIGKILL',
        '    environment:',
        '      TOKEN: "${TOKEN:-}"',
        `    volumes: ["${sayDir}:/say"]`,
        '    command: ["sh", "-c", "echo talk started; echo token=$$TOKEN; while :; do for f in /say/*.txt; do [ -f $$f ] && cat $$f && rm -f $$f; done; sleep 0.2; done"]',
        '',
      ].join('\n'),
    );
    sha = hl.commit('a talking service');
    hl.bootstrap(node);
    hl.writeEnv(node, 'talk', `TOKEN=${SECRET}\n`);
    for (const stage of ['prepare', 'deploy']) {
      const r = await runCli(['run', stage, '--node', node, '--yes', '--repo', hl.repoDir], {
        cwd: hl.repoDir,
      });
      if (r.code !== 0) throw new Error(`${stage}: ${r.stdout}${r.stderr}`);
    }
    expect(git(hl.repoDir, 'rev-parse', 'HEAD')).toBe(sha);
    term = openTerminal({
      cols: 160,
      rows: 45,
      env: { CI: 'false', TERM: 'xterm-256color' },
      cwd: ROOT,
    });
  }, 240_000);

  afterAll(async () => {
    term?.kill();
    await hl?.cleanup();
    rmSync(sayDir, { recursive: true, force: true });
  }, 120_000);

  test('homelab logs prints the last lines redacted; --verbose prints the command it ran', async () => {
    const r = await runCli(
      ['logs', node, 'talk', '--tail', '20', '--verbose', '--repo', hl.repoDir],
      {
        cwd: hl.repoDir,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('talk-1 | talk started');
    expect(r.stdout).toContain('talk-1 | token=[REDACTED]');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stderr).toMatch(
      new RegExp(
        `homelab: ran ${node} exit 0 \\S+  \\S+/deploy\\.sh logs talk --root \\S+ --node ${node} --tail 20\\n`,
      ),
    );
    const bad = await runCli(['logs', node, 'nope', '--repo', hl.repoDir], { cwd: hl.repoDir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${node} has no service "nope"`);
  }, 60_000);

  test('l opens the logs, / filters them, new lines follow, @ lists the last stage argv', async () => {
    term.type(`node ${BIN} --repo ${hl.repoDir}`);
    await term.press('Enter');
    await term.waitFor((rows) => rows.some((r) => /deploy ok|deploy ✓/.test(r)), 60_000);

    // The last stage, run from here: verify (Enter; it changes nothing, so it does not ask).
    await term.press('Enter');
    await term.waitFor(`verify on ${node}: ok`, 90_000);

    await term.press('l');
    await term.waitFor(`logs: talk on ${node}`);
    await term.waitFor('talk-1 | talk started', 30_000);
    expect(term.screen().join('\n')).toContain('talk-1 | token=[REDACTED]');

    // New lines as the container prints them.
    say('first new line\n');
    await term.waitFor('talk-1 | first new line', 30_000);

    // Filter: only matching lines, and new ones are filtered as they come.
    await term.press('/');
    await term.waitFor('filter:');
    term.type('apple');
    await term.press('Enter');
    await term.waitFor('filter "apple"');
    say(`green apple\nbanana ${SECRET}\nred apple\n`);
    const filtered = await term.waitFor('talk-1 | red apple', 30_000);
    const body = filtered.join('\n');
    expect(body).toContain('talk-1 | green apple');
    expect(body).not.toContain('banana');
    expect(body).not.toContain('talk started');
    expect(body).toMatch(/filter "apple": 2 lines of \d+/);

    // Timestamps on, then the filter cleared: every line again, the secret never on screen.
    await term.press('t');
    await term.waitFor(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} talk-1 \| red apple/);
    await term.press('/', 'Escape');
    const all = (await term.waitFor((rows) => rows.some((r) => r.includes('| banana')))).join('\n');
    expect(all).toContain('banana [REDACTED]');
    expect(all).not.toContain(SECRET);

    // Pause: new lines are counted, not shown; p again follows.
    await term.press('p');
    await term.waitFor('PAUSED');
    say('while paused\n');
    await term.waitFor('PAUSED (+1 new)', 30_000);
    expect(term.screen().join('\n')).not.toContain('while paused');
    await term.press('p');
    await term.waitFor('| while paused');

    // The command log: the verify stage's argv as it went out, with its exit code.
    await term.press('Escape');
    await term.waitFor((rows) => !rows.some((r) => r.includes(`logs: talk on ${node}`)));
    await term.press('@');
    const cmds = await term.waitFor(`commands on ${node}`);
    const root = hl.rootOf(node);
    const flat = cmds.join('\n').replace(/\s+/g, '');
    const verify = `${root}/repo/scripts/deploy/deploy.sh verify --root ${root} --node ${node} --detach --ref ${sha} --run s`;
    expect(flat).toContain(verify.replace(/\s+/g, ''));
    expect(flat).toContain(
      `${root}/repo/scripts/deploy/deploy.shlogstalk--root${root}--node${node}--tail200--follow`,
    );
    expect(cmds.some((r) => new RegExp(`${node} exit 0 \\S+`).test(r))).toBe(true);
    await term.press('Escape');
    await term.press('q');
    await term.waitFor((rows) => !rows.some((r) => r.includes('q quit')), 30_000);
  }, 400_000);
});
