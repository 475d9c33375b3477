// The history view and drift in the TUI, in a real terminal (tmux), on a real node (real deploy.sh,
// real Docker; transport local): runs started by two operators (HOMELAB_OPERATOR alice and bob)
// are listed newest first with who started them, Enter opens a run's log from the node; drift
// appears in the detail pane after the container is recreated by hand with another image and after
// a tracked file of the node's checkout is edited, and is gone after the fix and a redeploy.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { composeProject } from '../../src/core/inventory/model.js';
import { runCli } from '../support/cli.js';
import { requireLab } from '../support/lab.js';
import { createLabHomelab, type LabHomelab } from '../support/lab-homelab.js';
import { BIN, ROOT, ensureBuilt } from './build.js';
import { openTerminal, type Terminal } from './tmux.js';

const ok = requireLab('tmux', 'docker');

describe.skipIf(!ok)('history and drift in the TUI', () => {
  const id = randomBytes(3).toString('hex');
  const node = `hd${id}`;
  const tag = `homelab-hd-${id}:other`;
  let hl: LabHomelab;
  let term: Terminal;
  const as = (who: string, args: string[]) =>
    runCli(args, {
      cwd: hl.repoDir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HOMELAB_OPERATOR: who },
    });

  beforeAll(async () => {
    ensureBuilt();
    hl = await createLabHomelab({ nodes: [{ name: node, services: ['web'] }], transport: 'local' });
    hl.bootstrap(node);
    execFileSync('docker', ['tag', 'busybox:1.36', tag]);
    for (const [who, stage] of [
      ['alice', 'prepare'],
      ['bob', 'deploy'],
      ['bob', 'verify'],
    ] as const) {
      const r = await as(who, ['run', stage, '--node', node, '--yes']);
      expect(r.code, r.stderr).toBe(0);
    }
    term = openTerminal({
      cols: 120,
      rows: 32,
      env: { CI: 'false', TERM: 'xterm-256color' },
      cwd: ROOT,
    });
  }, 180_000);

  afterAll(async () => {
    term?.kill();
    await hl?.cleanup();
    try {
      execFileSync('docker', ['rmi', tag], { stdio: 'ignore' });
    } catch {
      // not tagged
    }
  }, 120_000);

  test('h lists the runs of alice and bob, newest first; Enter opens a run log; Esc back', async () => {
    term.type(`node ${BIN} --repo ${hl.repoDir}`);
    await term.press('Enter');
    await term.waitFor(new RegExp(`${node}\\s+worker\\s+verify ok\\s+healthy`), 60_000);
    await term.press('h');
    const rows = await term.waitFor((r) => r.some((l) => /history · 3 runs/.test(l)), 30_000);
    const runs = rows.filter((l) => l.includes(node) && /\b(ok|failed)\b/.test(l));
    expect(runs.map((l) => /\b(prepare|deploy|verify)\b/.exec(l)?.[1])).toEqual([
      'verify',
      'deploy',
      'prepare',
    ]);
    expect(runs.map((l) => /\b(alice|bob)\s*$/.exec(l)?.[1])).toEqual(['bob', 'bob', 'alice']);
    // The oldest run (alice's prepare): its log, read from the node.
    await term.press('j', 'j', 'Enter');
    await term.waitFor(/log of run \S+ on .* · \d+ lines/, 30_000);
    const log = term.screen().join('\n');
    expect(log).toMatch(/@homelab\/1 run .*"stage":"prepare"|prepare/);
    await term.press('Escape');
    await term.waitFor('history · 3 runs');
    await term.press('Escape');
    await term.waitFor(new RegExp(`${node} · worker`));
  }, 240_000);

  test('homelab history lists the same runs with who started them; --run prints a run log', async () => {
    const h = await as('carol', ['history', '--node', node]);
    expect(h.code, h.stderr).toBe(0);
    const rows = h.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^WHEN\s+NODE\s+STAGE\s+RESULT\s+COMMIT\s+DURATION\s+BY\s+RUN$/);
    expect(
      rows.slice(1).map((r) =>
        r
          .split(/\s{2,}/)
          .slice(2, 4)
          .concat(r.split(/\s+/).at(-2) ?? ''),
      ),
    ).toEqual([
      ['verify', 'ok', 'bob'],
      ['deploy', 'ok', 'bob'],
      ['prepare', 'ok', 'alice'],
    ]);
    const json = await as('carol', ['history', '--json']);
    const parsed = JSON.parse(json.stdout) as {
      entries: { run: string; stage: string; by: string }[];
    };
    const prep = parsed.entries.find((e) => e.stage === 'prepare');
    expect(prep?.by).toBe('alice');
    const log = await as('carol', ['history', '--node', node, '--run', prep?.run ?? '']);
    expect(log.code, log.stderr).toBe(0);
    expect(log.stdout).toContain(`"run":"${prep?.run ?? ''}"`);
    expect(log.stdout).toMatch(/stage-end .*"stage":"prepare","result":"ok"/);
  }, 60_000);

  test('drift: a container recreated with another image, an edited checkout file; gone after a redeploy', async () => {
    const compose = join(hl.rootOf(node), 'repo', 'hosts', node, 'web', 'docker-compose.yml');
    const other = join(hl.dir, 'by-hand.yml');
    writeFileSync(other, readFileSync(compose, 'utf8').replace('busybox:1.36', tag));
    execFileSync(
      'docker',
      ['compose', '-p', composeProject(node, 'web'), '-f', other, 'up', '-d', '--force-recreate'],
      { stdio: 'ignore' },
    );
    await term.press('R');
    await term.waitFor('drift: web config', 30_000);
    expect(term.screen().join('\n')).toMatch(/fix: redeploy: homelab run deploy --node/);

    const page = join(hl.rootOf(node), 'repo', 'hosts', node, 'web', 'www', 'index.html');
    appendFileSync(page, 'edited on the node\n');
    await term.press('R');
    await term.waitFor('drift: web config, checkout edited', 30_000);

    // The fix the screen gives for the checkout, then a redeploy.
    execFileSync('git', [
      '-C',
      join(hl.rootOf(node), 'repo'),
      'checkout',
      '--',
      `hosts/${node}/web/www/index.html`,
    ]);
    const r = await as('alice', ['run', 'deploy', '--node', node, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    await term.press('R');
    await term.waitFor((rows) => !rows.join('\n').includes('drift:'), 30_000);
    const st = await as('alice', ['status', '--node', node]);
    expect(st.stdout).not.toContain('drift on');
    await term.press('q');
  }, 240_000);
});
