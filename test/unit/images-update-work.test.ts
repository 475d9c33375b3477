// The pure parts of an images update: what changes (updateChanges, shared by the CLI and the TUI:
// one text), which nodes and services an update applies to (updateWork), and the walk's plan with
// that work instead of HEAD's (withWork: nodes verified at HEAD are to do when they have updates).
import { describe, expect, test } from 'vitest';
import { updateChanges, updateWork, type NodeImages } from '../../src/core/images/updates.js';
import { withWork, type WalkPlan } from '../../src/core/walk/plan.js';
import { image } from './tui/fixtures.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

describe('updateChanges', () => {
  test('service, tag, running digest -> the registry digest, and the running one’s age', () => {
    expect(
      updateChanges([image('web', 'updatable'), image('db', 'current')], ['web', 'db'], NOW),
    ).toEqual([
      'web  127.0.0.1:5000/web:latest  sha256:aaaaaaaaaaaa -> sha256:bbbbbbbbbbbb  (running one built 1d ago)',
    ]);
    expect(updateChanges([image('web', 'updatable')], ['db'], NOW)).toEqual([]);
  });
});

describe('updateWork', () => {
  const nodes: NodeImages[] = [
    { node: 'a', images: [image('web', 'updatable'), image('db', 'current')], error: '' },
    { node: 'b', images: [image('web', 'current')], error: '' },
    { node: 'c', images: [image('api', 'updatable'), image('web', 'updatable')], error: '' },
    { node: 'd', images: [], error: 'deploy.sh images did not answer in time' },
  ];
  test('per node its updatable services; nodes with none left out; errors named', () => {
    const w = updateWork(nodes, []);
    expect([...w.services]).toEqual([
      ['a', ['web']],
      ['c', ['api', 'web']],
    ]);
    expect(w.unknown).toEqual([]);
    expect(w.errors).toEqual([{ node: 'd', error: 'deploy.sh images did not answer in time' }]);
  });
  test('--service narrows it; a service no node runs is unknown', () => {
    const w = updateWork(nodes, ['api', 'nope']);
    expect([...w.services]).toEqual([['c', ['api']]]);
    expect(w.unknown).toEqual(['nope']);
  });
});

describe('withWork', () => {
  const plan: WalkPlan = {
    selected: ['n1', 'n2', 'n3', 'n4'],
    waves: [
      { wave: 0, todo: ['n2'], upToDate: ['n1'] },
      { wave: 1, todo: [], upToDate: ['n3', 'n4'] },
    ],
  };
  test('the work decides what is to do, up to date at HEAD or not, in topology order', () => {
    expect(
      withWork(
        plan,
        new Map([
          ['n1', 'deploy'],
          ['n4', 'deploy'],
        ]),
      ),
    ).toEqual({
      selected: plan.selected,
      waves: [
        { wave: 0, todo: ['n1'], upToDate: ['n2'] },
        { wave: 1, todo: ['n4'], upToDate: ['n3'] },
      ],
    });
    expect(withWork(plan, undefined)).toBe(plan);
  });
});
