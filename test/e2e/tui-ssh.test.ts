// The TUI on nodes reached through real sshd servers on loopback (the remote path), in a real
// terminal: a person walks one node through its stages, declines once, meets a failing node.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireLab } from '../support/lab.js';
import { createLabHomelab, type LabHomelab } from '../support/lab-homelab.js';
import { BIN, ROOT, ensureBuilt } from './build.js';
import { treeContents } from '../support/files.js';
import { openTerminal, type Terminal } from './tmux.js';

const ok = requireLab('tmux', 'docker', 'sshd');

describe.skipIf(!ok)('the TUI over ssh in a real terminal', () => {
  const id = randomBytes(3).toString('hex');
  const good = `tui${id}a`;
  const bad = `tui${id}b`;
  let hl: LabHomelab;
  let term: Terminal;

  beforeAll(async () => {
    ensureBuilt();
    hl = await createLabHomelab({
      nodes: [
        { name: good, services: ['web'] },
        { name: bad, services: [{ name: 'api', secrets: ['API_TOKEN'] }] },
      ],
    });
    hl.bootstrap(good);
    hl.bootstrap(bad);
    term = openTerminal({
      cols: 110,
      rows: 32,
      env: { CI: 'false', TERM: 'xterm-256color' },
      cwd: ROOT,
    });
  }, 180_000);

  afterAll(async () => {
    term?.kill();
    await hl?.cleanup();
  }, 120_000);

  test('decline, prepare -> deploy -> verify with Enter and y, a failing prepare, q', async () => {
    term.type('clear; echo BEFORE-TUI-MARKER');
    await term.press('Enter');
    await term.waitFor('BEFORE-TUI-MARKER');
    term.type(`node ${BIN} --repo ${hl.repoDir}`);
    await term.press('Enter');
    await term.waitFor(
      (rows) =>
        rows[0]?.startsWith('lab │ main @') === true &&
        rows.some((r) => r.includes('ssh ×2')) &&
        rows.filter((r) => r.includes('never deployed')).length === 2,
      60_000,
    );

    // Declining leaves the node as it was.
    const before = treeContents(join(hl.rootOf(good), 'state'));
    await term.press('Enter');
    await term.waitFor(`Run prepare on ${good}?`);
    await term.press('Escape');
    await term.waitFor('declined, nothing ran');
    expect(treeContents(join(hl.rootOf(good), 'state'))).toEqual(before);

    for (const stage of ['prepare', 'deploy']) {
      await term.press('Enter');
      await term.waitFor(`Run ${stage} on ${good}?`);
      await term.press('y');
      await term.waitFor(`${stage} on ${good}: ok`, 90_000);
    }
    await term.press('Enter');
    await term.waitFor(`verify on ${good}: ok`, 90_000);
    await term.waitFor(
      new RegExp(`${good}\\s+worker\\s+verify ok\\s+healthy\\s+up to date`),
      30_000,
    );
    const page = await (await fetch(`http://127.0.0.1:${hl.ports.get(`${good}/web`)}/`)).text();
    expect(page).toContain(`${good}/web`);
    const detail = term.screen().join('\n');
    expect(detail).toMatch(/prepare ✓ \S+ → deploy ✓ \S+ → verify ✓ \S+/);
    expect(detail).toContain('web  running/healthy');

    // The node without its secret: prepare fails, the screen names the missing key and the file.
    await term.press('j');
    await term.waitFor(`${bad} · worker`);
    await term.press('Enter');
    await term.waitFor(`Run prepare on ${bad}?`);
    await term.press('y');
    await term.waitFor(`prepare on ${bad}: failed`, 60_000);
    // The failure opens the guided recover view; Esc returns to the node's detail.
    await term.waitFor(`Recover ${bad} · worker — ✗ prepare failed`, 60_000);
    await term.press('Escape');
    const failed = (await term.waitFor('fix the cause, then r resume')).join('\n');
    expect(failed).toContain('✗ prepare failed');
    expect(failed.replace(/\n/g, '')).toContain(`${hl.rootOf(bad)}/config/api/.env`);
    expect(failed).toContain('API_TOKEN');

    await term.press('q');
    const after = (await term.waitFor('BEFORE-TUI-MARKER', 30_000)).join('\n');
    expect(after).not.toContain('q quit');
  }, 600_000);
});
