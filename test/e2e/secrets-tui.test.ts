// The secret-planting corpus (test/support/secrets-corpus.ts) seen through the TUI in a real terminal
// (tmux), over a real sshd and Docker: the node's .env and override hold secrets of every shape,
// the container prints them and its healthcheck fails with them; a person runs prepare, deploy and
// verify, the recover view opens, diagnose runs, the prompt is built. Every screen the terminal
// showed on the way (sampled while it ran), and the prompt the view saved, carry no piece of any.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireLab } from '../support/lab.js';
import { createLabHomelab, type LabHomelab } from '../support/lab-homelab.js';
import { secretCorpus } from '../support/secrets-corpus.js';
import { BIN, ROOT, ensureBuilt } from './build.js';
import { openTerminal, type Terminal } from './tmux.js';

const ok = requireLab('tmux', 'docker', 'sshd');

describe.skipIf(!ok)('the TUI shows no secret, in the log pane or the recover view', () => {
  const id = Math.random().toString(36).slice(2, 7);
  const node = `st${id}`;
  const corpus = secretCorpus(id);
  const state = mkdtempSync(join(tmpdir(), 'homelab-e2e-secrets-'));
  let hl: LabHomelab;
  let term: Terminal;
  const screens = new Set<string>();
  let sampler: ReturnType<typeof setInterval> | undefined;

  beforeAll(async () => {
    ensureBuilt();
    hl = await createLabHomelab({ nodes: [{ name: node, services: ['web'] }] });
    hl.bootstrap(node);
    hl.writeEnv(node, 'web', corpus.envText);
    writeFileSync(
      join(hl.rootOf(node), 'config', 'web', 'docker-compose.override.yml'),
      corpus.override,
    );
    writeFileSync(
      join(hl.repoDir, 'hosts', node, 'web', 'docker-compose.yml'),
      corpus.compose(hl.ports.get(`${node}/web`) ?? 0, false),
    );
    hl.commit('web: print every secret');
    term = openTerminal({
      cols: 160,
      rows: 45,
      env: { CI: 'false', TERM: 'xterm-256color', HOMELAB_STATE_DIR: state },
      cwd: ROOT,
    });
  }, 180_000);

  afterAll(async () => {
    if (sampler) clearInterval(sampler);
    term?.kill();
    await hl?.cleanup();
    rmSync(state, { recursive: true, force: true });
  }, 120_000);

  test('prepare, deploy, verify fail on the planted secrets; the view, diagnose and the prompt show none', async () => {
    const look = (): string[] => {
      const rows = term.screen();
      screens.add(rows.join('\n'));
      return rows;
    };
    sampler = setInterval(look, 150);
    term.type(`node ${BIN} --repo ${hl.repoDir}`);
    await term.press('Enter');
    await term.waitFor((rows) => rows.some((r) => r.includes(node)), 60_000);
    await term.waitFor('never deployed', 60_000);
    const inView = (rows: string[]): boolean => rows.some((r) => r.includes(`Recover ${node} `));
    for (const stage of ['prepare', 'deploy', 'verify']) {
      if (inView(look())) break;
      await term.press('Enter');
      const rows = await term.waitFor(
        (r) => inView(r) || r.some((l) => l.includes(`Run ${stage} on ${node}?`)),
        30_000,
      );
      if (inView(rows)) break;
      await term.press('y');
      await term.waitFor(
        (r) => inView(r) || r.some((l) => new RegExp(`${stage} on ${node}: (ok|failed)`).test(l)),
        150_000,
      );
    }
    await term.waitFor(new RegExp(`Recover ${node} .*(deploy|verify) failed`), 60_000);
    await term.waitFor(/diagnose: \d+ failing/, 90_000);
    look();
    // Expand the failing finding (all of its evidence), then the full log, then the prompt.
    await term.press('Enter');
    look();
    await term.press('l');
    await term.waitFor(/full log/, 60_000);
    await term.waitFor('== ', 60_000);
    look();
    await term.press('Escape');
    await term.press('p');
    await term.waitFor('saved: ', 60_000);
    look();
    for (let i = 0; i < 4 && inView(look()); i++) {
      await term.press('Escape');
      await new Promise((r) => setTimeout(r, 300));
    }
    await term.waitFor((rows) => !inView(rows), 30_000);
    look();
    clearInterval(sampler);
    sampler = undefined;

    const all = [...screens].join('\n');
    // The stage's log and the view really were on screen, with the redactions in place.
    expect(all).toContain('[REDACTED]');
    expect(all).toContain('SMTP_PASS=[REDACTED]');
    expect(all).toMatch(/unhealthy|exited/);
    const saved = readdirSync(join(state, 'recover')).filter((f) => f.startsWith(`${node}-`));
    expect(saved.length).toBeGreaterThanOrEqual(1);
    const prompts = saved.map((f) => readFileSync(join(state, 'recover', f), 'utf8'));
    expect(prompts.join('\n')).toContain(`# Recover node \`${node}\``);

    const leaks = [
      ...[...screens].flatMap((s, i) => corpus.leaks(`screen ${i}`, s)),
      ...prompts.flatMap((p, i) => corpus.leaks(`saved prompt ${saved[i]}`, p)),
    ];
    expect(leaks).toEqual([]);
    expect(screens.size).toBeGreaterThan(10);
    await term.press('q');
  }, 600_000);
});
