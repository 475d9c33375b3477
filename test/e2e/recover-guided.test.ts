// The guided recover view in a real terminal (tmux), on the demo homelab (real git, deploy.sh,
// Docker): a failed prepare opens the view by itself; the prompt is built, saved and copied; after
// the fix, "resume" (confirmed) brings the node back; a bad commit is undone with "rollback"
// (confirmed, showing the commit and what it changes back) to the known-good one.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Inventory } from '../../src/core/inventory/model.js';
import { teardownDemo } from '../../src/shell/demo/build.js';
import { loadInventory } from '../../src/shell/inventory/load.js';
import { requireLab } from '../support/lab.js';
import { BIN, ROOT, ensureBuilt } from './build.js';
import { openTerminal, type Terminal } from './tmux.js';

const ok = requireLab('tmux', 'docker');

const TOKEN = `notes-token-${Math.random().toString(36).slice(2, 8)}-Zk4`;

function git(dir: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-C', dir, '-c', 'user.email=e2e@homelab.test', '-c', 'user.name=e2e', ...args],
    { encoding: 'utf8' },
  ).trim();
}

describe.skipIf(!ok)('guided recover view in a real terminal', () => {
  let term: Terminal;
  const base = mkdtempSync(join(tmpdir(), 'homelab-e2e-recover-'));
  const dir = join(base, 'lab');
  const state = join(base, 'state');
  let inventory: Inventory | undefined;

  beforeAll(() => {
    ensureBuilt();
    term = openTerminal({
      cols: 120,
      rows: 45,
      env: { CI: 'false', TERM: 'xterm-256color', HOMELAB_STATE_DIR: state },
      cwd: ROOT,
    });
  }, 180_000);

  afterAll(async () => {
    term?.kill();
    if (inventory) await teardownDemo({ inventory });
    await rm(base, { recursive: true, force: true });
  }, 120_000);

  test('failed prepare -> view opens -> prompt -> fix -> resume -> healthy; bad commit -> rollback -> known-good', async () => {
    term.type(`node ${BIN} demo --dir ${dir}`);
    await term.press('Enter');
    await term.waitFor(
      (rows) =>
        rows.join('\n').includes('demo-lab') && rows.some((r) => r.includes('no services yet')),
      60_000,
    );
    inventory = (await loadInventory(join(dir, 'saturn'))).inventory;
    const notes = inventory!.nodes.find((n) => n.role === 'apps')!;
    const saturn = join(dir, 'saturn');

    // The broken node: prepare fails, and the guided view opens by itself.
    // Select it: every key acts, in order.
    await term.press('j', 'j');
    await term.waitFor((rows) => rows.some((r) => r.startsWith('▸') && r.includes(notes.name)));
    await term.waitFor(`${notes.name} · apps`);
    await term.press('Enter');
    await term.waitFor(`Run prepare on ${notes.name}?`);
    await term.press('y');
    await term.waitFor(`Recover ${notes.name} · apps — ✗ prepare failed at step secrets`, 60_000);
    await term.waitFor('✗ secret.file-missing (notes)', 60_000);
    // Actions wait for diagnose to finish (the view says so while it runs).
    const opened = (await term.waitFor(/diagnose: \d+ failing/, 60_000)).join('\n');
    expect(opened).toContain('NOTES_TOKEN');
    // Its actions are the footer's keys (the key table's 'recover' mode): those that act now.
    expect(opened).toContain('r resume');
    expect(opened).toContain('p prompt');
    expect(opened).toContain('Esc back');

    // The prompt: saved under the state folder and shown.
    await term.press('p');
    const shown = (await term.waitFor('saved: ', 60_000)).join('\n');
    expect(shown).toContain('copied to the clipboard (OSC 52)');
    const saved = readdirSync(join(state, 'recover')).filter((f) => f.startsWith(`${notes.name}-`));
    expect(saved).toHaveLength(1);
    const prompt = readFileSync(join(state, 'recover', saved[0]!), 'utf8');
    expect(prompt).toContain(`# Recover node \`${notes.name}\` of homelab \`demo-lab\``);
    expect(prompt).toContain('[fail] secret.file-missing (notes)');
    await term.press('Escape');
    await term.waitFor('Esc back');

    // Resume asks first; declining runs nothing.
    await term.press('r');
    // Asked by the app's one confirmation dialog.
    await term.waitFor(`Run resume on ${notes.name}?`);
    await term.press('n');
    await term.waitFor('resume: not run');

    // The fix on the node, then resume (confirmed): the node becomes healthy, the view says so.
    appendFileSync(join(notes.root, 'config', 'notes', '.env'), `NOTES_TOKEN=${TOKEN}\n`);
    await term.press('r');
    await term.waitFor(`Run resume on ${notes.name}?`);
    await term.press('y');
    await term.waitFor(`resume ok on ${notes.name}`, 180_000);
    await term.waitFor(`Recover ${notes.name} · apps — no failed stage`, 60_000);
    await term.waitFor(new RegExp(`${notes.name}\\s+apps\\s+verify ok\\s+healthy`), 60_000);
    const good = git(saturn, 'rev-parse', 'HEAD');
    expect(readFileSync(join(notes.root, 'state', 'deploy', 'known_good'), 'utf8').trim()).toBe(
      good,
    );
    expect(term.screen().join('\n')).not.toContain(TOKEN);

    // A bad commit for this node: prepare, deploy (and verify) it; the failure reopens the view.
    await term.press('Escape');
    await term.waitFor((rows) => !rows.join('\n').includes('Esc back'));
    const composeFile = join(saturn, 'hosts', notes.name, 'notes', 'docker-compose.yml');
    writeFileSync(
      composeFile,
      readFileSync(composeFile, 'utf8').replace(
        /command: \[.*\]/,
        'command: ["sh", "-c", "echo fatal: schema 7 missing; exit 5"]',
      ),
    );
    git(saturn, 'commit', '-qam', 'notes: schema 7');
    git(saturn, 'push', '-q', 'origin', 'HEAD:main');
    git(saturn, 'rev-parse', 'HEAD');
    await term.press('R');
    // The refresh has read the new commit before Enter acts on it.
    await term.waitFor(new RegExp(`${notes.name}\\s+apps.*\\d+ behind`), 30_000);
    for (const stage of ['prepare', 'deploy']) {
      await term.waitFor(`${notes.name} · apps`, 30_000);
      await term.press('Enter');
      await term.waitFor(`Run ${stage} on ${notes.name}?`, 30_000);
      await term.press('y');
      await term.waitFor(new RegExp(`${stage} on ${notes.name}: (ok|failed)`), 120_000);
      if (term.screen().join('\n').includes('Esc back')) break;
    }
    if (!term.screen().join('\n').includes('Esc back')) {
      await term.press('Enter');
      await term.waitFor(`verify on ${notes.name}: failed`, 120_000);
    }
    await term.waitFor(
      new RegExp(`Recover ${notes.name} · apps — ✗ (deploy|verify) failed`),
      60_000,
    );
    await term.waitFor('exited with code 5', 60_000);
    await term.waitFor(/diagnose: \d+ failing/, 60_000);

    // Rollback names the known-good commit and what it changes back, asks, then runs.
    await term.press('b');
    const question = (await term.waitFor(`Run rollback on ${notes.name}?`)).join('\n');
    expect(question).toContain(`commit   ${good.slice(0, 7)}`);
    expect(question).toContain(`${notes.name}: notes`);
    await term.press('y');
    await term.waitFor(`rollback ok on ${notes.name}`, 180_000);
    await term.waitFor(`Recover ${notes.name} · apps — no failed stage`, 60_000);
    expect(readFileSync(join(notes.root, 'state', 'deploy', 'deployed'), 'utf8').trim()).toBe(good);

    // Back; g opens the view again on the selected node, by hand.
    await term.press('Escape');
    await term.waitFor((rows) => !rows.join('\n').includes('Esc back'));
    await term.press('g');
    await term.waitFor(`Recover ${notes.name} · apps — no failed stage`, 30_000);
    await term.waitFor(/diagnose: \d+ failing/, 60_000);
    await term.press('Escape');
    await term.waitFor((rows) => !rows.join('\n').includes('Esc back'));
    await term.press('q');
    await term.waitFor('remove it:', 30_000);
  }, 900_000);
});
