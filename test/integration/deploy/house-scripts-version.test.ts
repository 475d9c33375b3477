// The node says which scripts it runs: real bash runs the real deploy.sh status from a node's
// checkout, and the status record's scripts_version is scripts/VERSION beside that deploy.sh (null
// when missing or not a number) with protocol 1. SATURN then names the node's version from the
// record, not from its own repo at the node's commit (homelab status's notes, scripts status's lines).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/core/inventory/model.js';
import type { NodeStatusRecord } from '../../../src/core/protocol/events.js';
import { summarizeNode, type NodeSummary } from '../../../src/core/status/summary.js';
import { nodeScriptsLines, nodeScriptsNotes } from '../../../src/shell/onboarding/node-scripts.js';
import { shippedScriptsVersion } from '../../../src/shell/onboarding/versions.js';
import { NodeFixture } from '../../support/node-fixture.js';

const shipped = shippedScriptsVersion();
let fx: NodeFixture;

beforeAll(() => {
  fx = NodeFixture.create('sv');
  // The homelab repo carries the tool's scripts and their stamp, as `homelab init` writes them.
  writeFileSync(join(fx.saturn, 'scripts', 'VERSION'), `${shipped}\n`);
  fx.writeManifest({ services: [] });
  fx.commit('scripts and an empty node');
  fx.cloneNode();
});
afterAll(() => fx.cleanup());

async function record(): Promise<NodeStatusRecord> {
  const r = await fx.run('status');
  expect(r.code, r.stderr).toBe(0);
  const ev = r.events.find((e) => e.type === 'status');
  if (ev?.type !== 'status') throw new Error(`no status record in:\n${r.stdout}`);
  return ev.status;
}

function summary(status: NodeStatusRecord): NodeSummary {
  const spec = { name: fx.node, wave: 0, role: 'test', tags: [], transport: 'local' };
  return summarizeNode(spec as unknown as NodeSpec, { reachable: true, status }, '', null);
}

const versionFile = (): string => join(fx.repo, 'scripts', 'VERSION');

describe('the node scripts version in the status record', () => {
  it('is scripts/VERSION of the checkout deploy.sh runs from, or null; protocol 1', async () => {
    const cases: Array<[string | undefined, number | null]> = [
      [`${shipped}\n`, shipped],
      ['7\n', 7],
      ['007', 7], // no newline, leading zeros
      ['x1\n', null],
      ['1.2\n', null],
      ['', null],
      [`${'9'.repeat(7)}\n`, null], // more digits than a version has
      [undefined, null], // before scripts/VERSION existed
    ];
    for (const [text, want] of cases) {
      if (text === undefined) rmSync(versionFile(), { force: true });
      else writeFileSync(versionFile(), text);
      const s = await record();
      expect(s.scriptsVersion, JSON.stringify(text)).toBe(want);
      expect(s.protocol).toBe(1);
    }
  });

  it('is what SATURN names, whatever its own repo holds at the node commit', async () => {
    // SATURN's repo says `shipped` at every commit; the node's checkout says otherwise.
    writeFileSync(versionFile(), `${shipped + 1}\n`);
    const newer = summary(await record());
    expect(newer.scriptsVersion).toBe(shipped + 1);
    expect(await nodeScriptsNotes(fx.saturn, [newer])).toEqual([
      `${fx.node} runs node scripts v${shipped + 1} (SATURN has v${shipped}), newer than this tool understands: upgrade homelab on SATURN`,
    ]);
    writeFileSync(versionFile(), 'junk\n');
    const unversioned = summary(await record());
    expect(await nodeScriptsNotes(fx.saturn, [unversioned])).toEqual([
      `${fx.node} runs node scripts from before scripts/VERSION (SATURN has v${shipped}): deploy it (homelab run prepare --node ${fx.node})`,
    ]);
    expect(await nodeScriptsLines(fx.saturn, [unversioned])).toEqual([
      `  ${fx.node}: node scripts from before scripts/VERSION (SATURN has v${shipped})`,
    ]);
    writeFileSync(versionFile(), `${shipped}\n`);
    const same = summary(await record());
    expect(await nodeScriptsNotes(fx.saturn, [same])).toEqual([]);
    expect(await nodeScriptsLines(fx.saturn, [same])).toEqual([
      `  ${fx.node}: node scripts v${shipped} (SATURN has v${shipped})`,
    ]);
  });

  it('an older node that does not say is read from SATURN at its commit, and said so', async () => {
    const old = { ...summary(await record()) } as Record<string, unknown>;
    delete old.scriptsVersion;
    const head = fx.commit('nothing new');
    const lines = await nodeScriptsLines(fx.saturn, [
      { ...old, target: head } as unknown as NodeSummary,
    ]);
    expect(lines).toEqual([
      `  ${fx.node}: node scripts v${shipped} (SATURN has v${shipped}), read from its checked-out commit`,
    ]);
    const gone = { ...old, reachable: false, reason: 'timeout' } as unknown as NodeSummary;
    expect(await nodeScriptsLines(fx.saturn, [gone])).toEqual([
      `  ${fx.node}: not reachable (timeout)`,
    ]);
  });
});
