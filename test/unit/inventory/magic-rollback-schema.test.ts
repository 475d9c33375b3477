// `confirm: required` (node or service) and `confirmTimeout` in the topology: bad values are
// file:line:field errors, good ones reach the node's manifest as its `confirm` record.
import { describe, expect, it } from 'vitest';
import { renderManifest } from '../../../src/core/inventory/manifest.js';
import { parseTopology } from '../../../src/core/inventory/parse.js';

const topology = (node: string, service = '      - name: web'): string =>
  [
    'homelab: lab',
    'git:',
    '  remote: ssh://git@saturn/homelab.git',
    'nodes:',
    '  edge:',
    '    address: edge',
    node,
    '    services:',
    service,
    '',
  ]
    .filter((l) => l !== '')
    .join('\n');

const manifestOf = (text: string): string => {
  const { inventory, problems } = parseTopology(text);
  expect(problems).toEqual([]);
  const node = inventory?.nodes[0];
  if (!inventory || !node) throw new Error('no inventory');
  return renderManifest(inventory, node);
};

describe('confirm in the topology', () => {
  it.each([
    ['the node', '    confirm: required', '      - name: web'],
    ['a service', '    wave: 0', '      - name: web\n        confirm: required'],
  ])('confirm: required on %s is the manifest record confirm/required/60', (_what, node, svc) => {
    expect(manifestOf(topology(node, svc))).toContain('\nconfirm\trequired\t60\n');
  });

  it('confirmTimeout sets the seconds; optional carries only them; none, no record', () => {
    expect(manifestOf(topology('    confirm: required\n    confirmTimeout: 20'))).toContain(
      '\nconfirm\trequired\t20\n',
    );
    expect(manifestOf(topology('    confirmTimeout: 20'))).toContain('\nconfirm\toptional\t20\n');
    expect(manifestOf(topology('    wave: 0'))).not.toContain('confirm');
  });

  it.each([
    ['    confirm: yes', 7, 'nodes.edge.confirm'],
    ['    confirmTimeout: 0', 7, 'nodes.edge.confirmTimeout'],
    ['    confirmTimeout: 99999', 7, 'nodes.edge.confirmTimeout'],
    ['    confirmTimeout: "60"', 7, 'nodes.edge.confirmTimeout'],
  ])('%s is refused at its line and field', (line, at, field) => {
    const { inventory, problems } = parseTopology(topology(line));
    expect(inventory).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'inventory/topology.yaml', line: at, field });
  });

  it('a service confirm that is not required or optional is refused at its line', () => {
    const { problems } = parseTopology(
      topology('    wave: 0', '      - name: web\n        confirm: always'),
    );
    expect(problems[0]).toMatchObject({ line: 10, field: 'nodes.edge.services[0].confirm' });
    expect(problems[0]?.message).toMatch(/optional|required/);
  });

  it('a misspelt key suggests confirm', () => {
    const { problems } = parseTopology(topology('    confrim: required'));
    expect(problems[0]?.message).toContain('did you mean "confirm"');
  });
});
