// The README's "run it": `homelab demo` in a real terminal (tmux), driven with the keys a person
// presses and read off the screen. Real git, real deploy.sh, real Docker with busybox services.
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Inventory } from '../../src/core/inventory/model.js';
import { teardownDemo } from '../../src/shell/demo/build.js';
import { loadInventory } from '../../src/shell/inventory/load.js';
import { requireLab } from '../support/lab.js';
import { BIN, ROOT, ensureBuilt } from './build.js';
import { treeContents } from '../support/files.js';
import { openTerminal, type Terminal } from './tmux.js';

const ok = requireLab('tmux', 'docker');

/** Every file under a folder with its content: what a stage would change on the node. */
describe.skipIf(!ok)('homelab demo in a real terminal', () => {
  let term: Terminal;
  const base = mkdtempSync(join(tmpdir(), 'homelab-e2e-'));
  const dir = join(base, 'lab');
  let inventory: Inventory | undefined;

  beforeAll(() => {
    ensureBuilt();
    term = openTerminal({
      cols: 100,
      rows: 30,
      env: { CI: 'false', TERM: 'xterm-256color' },
      cwd: ROOT,
    });
  }, 180_000);

  afterAll(async () => {
    term?.kill();
    if (inventory) await teardownDemo({ inventory });
    await rm(base, { recursive: true, force: true });
  }, 120_000);

  test('walk a node through its stages, decline, fail, fix and resume, resize, quit', async () => {
    term.type('clear; echo BEFORE-TUI-MARKER');
    await term.press('Enter');
    await term.waitFor('BEFORE-TUI-MARKER');
    term.type(`node ${BIN} demo --dir ${dir}`);
    await term.press('Enter');
    await term.waitFor(
      (rows) =>
        rows.join('\n').includes('demo-lab') && rows.some((r) => r.includes('no services yet')),
      60_000,
    );
    expect(term.screen().join('\n')).not.toContain('BEFORE-TUI-MARKER');

    inventory = (await loadInventory(join(dir, 'saturn'))).inventory;
    expect(inventory).toBeDefined();
    const [edge, , notes] = inventory!.nodes;
    const head = execFileSync(
      'git',
      ['-C', join(dir, 'saturn'), 'rev-parse', '--short=7', 'HEAD'],
      { encoding: 'utf8' },
    ).trim();

    // Enter asks first, naming node, stage, commit and services; declining changes nothing.
    const before = treeContents(join(edge!.root, 'state'));
    await term.press('Enter');
    const dialog = (await term.waitFor(`Run prepare on ${edge!.name}?`)).join('\n');
    expect(dialog).toContain(`commit   ${head}`);
    expect(dialog).toContain(`${edge!.name}: proxy`);
    expect(dialog).toContain('no (default)');
    await term.press('n');
    await term.waitFor('declined, nothing ran');
    expect(treeContents(join(edge!.root, 'state'))).toEqual(before);
    expect(existsSync(join(edge!.root, 'state', 'deploy', 'current_stage'))).toBe(false);

    // prepare -> deploy -> verify: Enter each time; prepare and deploy change the node and ask
    // first (y), verify only reads it and does not.
    for (const stage of ['prepare', 'deploy']) {
      await term.press('Enter');
      await term.waitFor(`Run ${stage} on ${edge!.name}?`);
      await term.press('y');
      await term.waitFor(`${stage} on ${edge!.name}: ok`, 90_000);
    }
    await term.press('Enter');
    await term.waitFor(`verify on ${edge!.name}: ok`, 90_000);
    await term.waitFor(
      new RegExp(`${edge!.name}\\s+proxy \\[dns\\]\\s+verify ok\\s+healthy\\s+up to date`),
      30_000,
    );
    // The selected node's resources (deploy.sh resources, read with a refresh at most every 30 s).
    await term.waitFor(/(in \d+ containers?|no containers run) · (disk|docker) /, 60_000);
    const port = /127\.0\.0\.1:(\d+)/.exec(
      readFileSync(join(dir, 'saturn', 'hosts', edge!.name, 'proxy', 'docker-compose.yml'), 'utf8'),
    )?.[1];
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(page).toContain(`proxy on ${edge!.name}`);

    // The broken node: prepare fails and the screen says why.
    await term.press('j', 'j');
    await term.waitFor(`${notes!.name} · apps`);
    await term.press('Enter');
    await term.waitFor(`Run prepare on ${notes!.name}?`);
    await term.press('y');
    const failed = (await term.waitFor(`prepare on ${notes!.name}: failed`, 60_000)).join('\n');
    expect(failed).toContain('missing NOTES_TOKEN');
    expect(failed).toMatch(new RegExp(`${notes!.name}\\s+apps\\s+prepare failed`));
    // The failure opens the guided recover view in place of the detail pane; Esc goes back to the
    // node's detail, which shows the failure and its way out too.
    await term.waitFor(`Recover ${notes!.name} · apps — ✗ prepare failed`, 60_000);
    await term.press('Escape');
    const detail = (await term.waitFor('fix the cause, then r resume')).join('\n');
    expect(detail).toContain('✗ prepare failed');

    // The fix the banner shows, then r: resume finishes the pipeline.
    appendFileSync(join(notes!.root, 'config', 'notes', '.env'), 'NOTES_TOKEN=demo-secret\n');
    await term.press('r');
    await term.waitFor(`Run resume on ${notes!.name}?`);
    await term.press('y');
    await term.waitFor(`resume on ${notes!.name}: ok`, 120_000);
    await term.waitFor(
      new RegExp(`${notes!.name}\\s+apps\\s+verify ok\\s+healthy\\s+up to date`),
      30_000,
    );

    // Resize: 80x24 keeps every row inside the screen with header, nodes and footer.
    term.resize(80, 24);
    const small = await term.waitFor(
      (rows) =>
        rows[0]?.includes('demo-lab') === true &&
        rows.some((r) => r.startsWith('── wave') && r.length === 80) &&
        rows.some((r) => r.includes('q quit')),
    );
    expect(term.size()).toEqual({ cols: 80, rows: 24 });
    expect(small.length).toBeLessThanOrEqual(24);
    expect(small.every((r) => r.length <= 80)).toBe(true);
    expect(small[0]).toContain('demo-lab');
    expect(small.some((r) => r.includes('q quit'))).toBe(true);
    for (const n of inventory!.nodes) expect(small.some((r) => r.includes(n.name))).toBe(true);
    // A wide terminal puts the detail beside the nodes.
    term.resize(160, 40);
    await term.waitFor((rows) =>
      rows.some((r) => /wave 0/.test(r) && r.includes(`${notes!.name} · apps`)),
    );

    // q leaves the alternate screen: the shell's earlier output is back.
    await term.press('q');
    const after = (await term.waitFor('remove it:', 30_000)).join('\n');
    expect(after).toContain('BEFORE-TUI-MARKER');
    expect(after).not.toContain('q quit');
  }, 600_000);

  test('without a Docker engine the demo says so and runs stages as --dry-run, changing nothing', async () => {
    // A `docker` first on PATH that cannot reach an engine, as on a machine without one.
    const shim = join(base, 'no-docker');
    mkdirSync(shim, { recursive: true });
    writeFileSync(
      join(shim, 'docker'),
      '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n',
    );
    chmodSync(join(shim, 'docker'), 0o755);
    const dry = openTerminal({
      cols: 110,
      rows: 32,
      env: { CI: 'false', TERM: 'xterm-256color', PATH: `${shim}:${process.env.PATH ?? ''}` },
      cwd: ROOT,
    });
    const where = join(base, 'dry');
    try {
      dry.type(`node ${BIN} demo --dir ${where}`);
      await dry.press('Enter');
      await dry.waitFor(
        'DRY RUN: stages print what they would do and change nothing (no Docker engine here)',
        60_000,
      );
      await dry.waitFor(
        (rows) => rows.filter((r) => r.includes('never deployed')).length === 4,
        60_000,
      );
      const inv = (await loadInventory(join(where, 'saturn'))).inventory!;
      const edge = inv.nodes[0]!;
      // What a stage changes: state, config and the checkout (a diagnose the recover view runs
      // may add its own log file; that is not a change to the node).
      const nodeState = (): unknown => ({
        state: treeContents(join(edge.root, 'state')),
        config: treeContents(join(edge.root, 'config')),
        head: execFileSync('git', ['-C', edge.repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }),
      });
      const before = nodeState();
      await dry.press('Enter');
      const dialog = (await dry.waitFor(`Run prepare on ${edge.name}?`)).join('\n');
      expect(dialog).toContain('dry run: nothing will change on the node');
      await dry.press('y');
      await dry.waitFor(new RegExp(`prepare on ${edge.name}: (ok|failed)`), 60_000);
      // deploy.sh's dry prepare still fails when docker does not answer; the recover view then
      // opens over the log: Esc returns to it.
      if (dry.screen().join('\n').includes('Recover ')) await dry.press('Escape');
      await dry.waitFor('would run: git', 10_000);
      expect(nodeState()).toEqual(before);
      await dry.press('q');
      await dry.waitFor('remove it:', 30_000);
    } finally {
      dry.kill();
    }
  }, 300_000);
});
