import { describe, expect, test } from 'vitest';
import {
  KEY_TABLE,
  activeBindings,
  advanceStage,
  bindingFor,
  keyToken,
} from '../../../src/tui/keys.js';
import { initialState, reducer, type AppState } from '../../../src/tui/state/reducer.js';
import { footerItems } from '../../../src/tui/views/footer.js';
import { helpLines } from '../../../src/tui/views/help-overlay.js';
import type { Key } from 'ink';
import { HEAD, NODES, REPO, mixedProbes, status, up } from './fixtures.js';

function state(select: string): AppState {
  let s = initialState({ homelab: 'mesh-lab', nodes: NODES });
  s = reducer(s, { type: 'repo', repo: REPO });
  for (const probe of mixedProbes()) s = reducer(s, { type: 'probe', probe });
  return reducer(s, { type: 'select', node: select });
}

const noKey: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

describe('key table', () => {
  test('every binding has a label, a footer hint and a description', () => {
    for (const b of KEY_TABLE) {
      expect(b.label, b.command).not.toBe('');
      expect(b.hint, b.command).not.toBe('');
      expect(b.description.length, b.command).toBeGreaterThan(8);
      expect(b.modes.length, b.command).toBeGreaterThan(0);
    }
  });

  test('no key means two things in the same mode', () => {
    const seen = new Map<string, string>();
    for (const b of KEY_TABLE) {
      for (const mode of b.modes) {
        for (const k of b.keys) {
          const id = `${mode}:${k}`;
          expect(
            seen.get(id) ?? b.command,
            `${id} is bound to ${seen.get(id)} and ${b.command}`,
          ).toBe(b.command);
          seen.set(id, b.command);
        }
      }
    }
  });

  test('the help screen lists every binding of the table', () => {
    const lines = helpLines();
    for (const b of KEY_TABLE)
      expect(
        lines.some((l) => l.label === b.label && l.description === b.description),
        b.command,
      ).toBe(true);
  });

  test('the footer lists only keys that act now: Enter disappears on an up-to-date node', () => {
    const upToDate = footerItems(state('gateway'), 200).map((i) => i.key);
    const failed = footerItems(state('solaria'), 200).map((i) => i.key);
    expect(upToDate).not.toContain('Enter');
    expect(failed).toContain('Enter');
    // Nothing acts on an unreachable node but reading.
    const dead = footerItems(state('vega'), 200).map((i) => i.key);
    expect(dead).not.toContain('s');
    expect(dead).toContain('R/F5');
    expect(dead).toContain('q');
  });

  test('the footer keeps help and quit however narrow it gets', () => {
    const keys = footerItems(state('solaria'), 30).map((i) => i.key);
    expect(keys).toContain('?');
    expect(keys).toContain('q');
  });

  test('a confirmation offers only yes and no, and Enter means no', () => {
    const s = {
      ...state('solaria'),
      mode: {
        kind: 'confirm' as const,
        request: {
          title: 't',
          stage: 'deploy' as const,
          nodes: ['solaria'],
          commit: '',
          subject: '',
          services: {},
          warnings: [],
        },
      },
    };
    expect(activeBindings(s).map((b) => b.command)).toEqual(['yes', 'no']);
    expect(bindingFor('confirm', 'enter')?.command).toBe('no');
    expect(bindingFor('confirm', 'y')?.command).toBe('yes');
  });

  test.each([
    [{ ...noKey, upArrow: true }, '', 'up'],
    [{ ...noKey, return: true }, '\r', 'enter'],
    [{ ...noKey, escape: true }, '', 'esc'],
    [{ ...noKey, delete: true }, '', 'backspace'],
    [{ ...noKey, ctrl: true }, 'c', 'ctrl+c'],
    [{ ...noKey, shift: true }, 'D', 'D'],
    [noKey, 'j', 'j'],
  ])('keyToken %#', (key, input, want) => {
    expect(keyToken(input, key)).toBe(want);
  });

  test("in a dry run Enter follows this session's results, since the node itself never changes", () => {
    const fresh = up(
      'gateway',
      status('gateway', { stage: '', stageStatus: '', target: '', deployed: '', knownGood: '' }),
    );
    const dry = (stages: Array<['prepare' | 'deploy' | 'verify', 'ok' | 'failed']>): AppState => {
      let s = reducer(initialState({ homelab: 'x', nodes: NODES, dryRun: true }), {
        type: 'repo',
        repo: REPO,
      });
      s = reducer(s, { type: 'probe', probe: fresh });
      for (const [stage, result] of stages) {
        s = reducer(s, { type: 'stage-start', node: 'gateway', stage, commit: HEAD, at: 0 });
        s = reducer(s, {
          type: 'node-event',
          node: 'gateway',
          event: { type: 'stage-start', ts: 0, stage },
        });
        s = reducer(s, {
          type: 'node-event',
          node: 'gateway',
          event: { type: 'stage-end', ts: 1, stage, result, durationMs: 5 },
        });
      }
      return s;
    };
    expect(advanceStage(dry([]))).toBe('prepare');
    expect(advanceStage(dry([['prepare', 'ok']]))).toBe('deploy');
    expect(
      advanceStage(
        dry([
          ['prepare', 'ok'],
          ['deploy', 'ok'],
        ]),
      ),
    ).toBe('verify');
    expect(advanceStage(dry([['prepare', 'failed']]))).toBe('prepare');
    // Not a dry run: the node's own state decides.
    expect(advanceStage({ ...dry([['prepare', 'ok']]), dryRun: false })).toBe('prepare');
  });
});
