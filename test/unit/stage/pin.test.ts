import { describe, expect, it } from 'vitest';
import type { NodeStatusRecord } from '../../../src/core/protocol/events.js';
import { pinStage, sameCommit } from '../../../src/core/stage/pin.js';

const HEAD = 'a'.repeat(40);
const OLD = 'b'.repeat(40);
const OTHER = 'c'.repeat(40);

function status(over: Partial<NodeStatusRecord> = {}): NodeStatusRecord {
  return {
    node: 'n1',
    bootstrapped: true,
    repoCommit: HEAD,
    stage: 'deploy',
    stageStatus: 'ok',
    run: 'r1',
    target: HEAD,
    deployed: HEAD,
    knownGood: OLD,
    lock: null,
    services: [],
    ...over,
  };
}

describe('pinStage', () => {
  it('pins prepare to the confirmed commit, else HEAD, with --ref', () => {
    expect(pinStage({ node: 'n1', stage: 'prepare', head: HEAD })).toEqual({
      ok: true,
      commit: HEAD,
      ref: true,
    });
    expect(pinStage({ node: 'n1', stage: 'prepare', head: HEAD, confirmed: OLD })).toMatchObject({
      ok: true,
      commit: OLD,
    });
  });

  it.each(['deploy', 'verify'] as const)(
    '%s refuses a node checked out at another commit, naming both and the fix',
    (stage) => {
      for (const at of [OLD, '', OTHER.slice(0, 7)]) {
        const pin = pinStage({ node: 'n1', stage, head: HEAD, status: status({ repoCommit: at }) });
        expect(pin.ok).toBe(false);
        if (!pin.ok)
          expect(pin.message).toBe(
            `the node is at ${at ? at.slice(0, 7) : 'nothing'}, not aaaaaaa: prepare first (homelab run prepare --node n1)`,
          );
      }
      expect(pinStage({ node: 'n1', stage, head: HEAD, status: status() })).toEqual({
        ok: true,
        commit: HEAD,
        ref: true,
      });
    },
  );

  it('verify refuses a checkout that is not deployed yet', () => {
    const pin = pinStage({
      node: 'n1',
      stage: 'verify',
      head: HEAD,
      status: status({ deployed: OLD }),
    });
    expect(pin).toMatchObject({ ok: false, commit: HEAD });
    if (!pin.ok) expect(pin.message).toContain('bbbbbbb');
  });

  it('resume goes towards the node target, and refuses a confirmed commit other than it', () => {
    const st = status({ stage: 'deploy', stageStatus: 'interrupted', target: OLD });
    expect(pinStage({ node: 'n1', stage: 'resume', head: HEAD, status: st })).toEqual({
      ok: true,
      commit: OLD,
      ref: true,
    });
    const pin = pinStage({ node: 'n1', stage: 'resume', head: HEAD, confirmed: HEAD, status: st });
    expect(pin.ok).toBe(false);
    if (!pin.ok)
      expect(pin.message).toMatch(/continues towards bbbbbbb, not aaaaaaa: prepare first/);
  });

  it('rollback goes to the known-good, refuses none or a changed one, without --ref', () => {
    expect(pinStage({ node: 'n1', stage: 'rollback', head: HEAD, status: status() })).toEqual({
      ok: true,
      commit: OLD,
      ref: false,
    });
    expect(
      pinStage({ node: 'n1', stage: 'rollback', head: HEAD, status: status({ knownGood: '' }) }),
    ).toMatchObject({ ok: false });
    expect(
      pinStage({ node: 'n1', stage: 'rollback', head: HEAD, confirmed: OTHER, status: status() }),
    ).toMatchObject({ ok: false, commit: OTHER });
  });

  it('diagnose is not pinned', () => {
    expect(pinStage({ node: 'n1', stage: 'diagnose', head: HEAD })).toEqual({
      ok: true,
      commit: '',
      ref: false,
    });
  });

  it('compares abbreviated commits, never empty or too short ones', () => {
    expect(sameCommit(HEAD, HEAD.slice(0, 7))).toBe(true);
    expect(sameCommit(HEAD.slice(0, 7), HEAD)).toBe(true);
    expect(sameCommit(HEAD, OLD)).toBe(false);
    expect(sameCommit('', '')).toBe(false);
    expect(sameCommit(HEAD, 'aaaa')).toBe(false);
  });
});
