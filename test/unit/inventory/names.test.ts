// Names that reach remote shells, and the "did you mean" distance.
import { describe, expect, it } from 'vitest';
import {
  dnsLabelFlaw,
  isDnsLabel,
  isEnvName,
  isHostAddress,
  toDnsLabel,
} from '../../../src/core/inventory/names.js';
import { editDistance, suggest } from '../../../src/core/inventory/suggest.js';

describe('names', () => {
  it.each([
    ['saturn', true],
    ['nas-2', true],
    ['a', true],
    ['0', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['-a', false],
    ['a-', false],
    ['Saturn', false],
    ['my node', false],
    ['a;rm -rf', false],
    ['$(x)', false],
    ['`id`', false],
    ['a_b', false],
    ['a.b', false],
    ['', false],
    ['sölaria', false],
  ])('isDnsLabel(%j) is %s', (name, ok) => {
    expect(isDnsLabel(name)).toBe(ok);
  });

  it('says why a name is rejected and offers a label', () => {
    expect(dnsLabelFlaw('Bad Node')).toBe('it contains uppercase letters and a space');
    expect(dnsLabelFlaw('-x')).toBe('it starts or ends with "-"');
    expect(dnsLabelFlaw('')).toBe('it is empty');
    expect(toDnsLabel('Bad Node!')).toBe('bad-node');
  });

  it('secret names are environment variable names', () => {
    expect(['POSTGRES_PASSWORD', '_X', 'A1'].every(isEnvName)).toBe(true);
    expect(['1A', 'db-password', 'lower', 'A B', 'X=1', ''].some(isEnvName)).toBe(false);
  });

  it('addresses never start with "-" (ssh would read an option)', () => {
    expect(
      ['saturn', '100.64.0.7', 'fd7a:115c:a1e0::1', 'saturn.tail1234.ts.net'].every(isHostAddress),
    ).toBe(true);
    expect(['-oProxyCommand=x', 'a b', 'a;b', ''].some(isHostAddress)).toBe(false);
  });
});

describe('suggest', () => {
  it.each([
    ['', '', 0],
    ['services', 'servises', 1],
    ['kitten', 'sitting', 3],
    ['ssh', 'sssh', 1],
    ['abc', '', 3],
  ])('editDistance(%j, %j) = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it('suggests the nearest key within reach, or a key containing the word', () => {
    const keys = [
      'address',
      'role',
      'tags',
      'transport',
      'user',
      'root',
      'repo',
      'wave',
      'ssh',
      'services',
    ];
    expect(suggest('servises', keys)).toBe('services');
    expect(suggest('adress', keys)).toBe('address');
    expect(suggest('Wave', keys)).toBe('wave');
    expect(suggest('tailscale', ['tailscale-ssh', 'ssh', 'local'])).toBe('tailscale-ssh');
    expect(suggest('colour', keys)).toBeUndefined();
    expect(suggest('x', keys)).toBeUndefined();
  });
});
