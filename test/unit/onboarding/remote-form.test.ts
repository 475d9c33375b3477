// git.remote forms, what a node needs for each, validate's warnings, and whether bootstrap passes
// --root (only when the topology names a root; else the node's HOMELAB_ROOT decides).
import { describe, expect, it } from 'vitest';
import { parseTopology } from '../../../src/core/inventory/parse.js';
import {
  remoteKind,
  remoteNeeds,
  remoteWarnings,
} from '../../../src/core/inventory/remote-form.js';
import {
  bootstrapArgv,
  topologyNamesRoot,
} from '../../../src/shell/onboarding/bootstrap-script.js';

const topo = (remote: string, transport: string, extra = ''): string =>
  `homelab: t\ngit:\n  remote: ${remote}\n${extra}nodes:\n  a:\n    address: a\n    transport: ${transport}\n`;

describe('git.remote forms', () => {
  it.each([
    ['ssh://homelab@saturn:2222/srv/git/lab.git', 'ssh'],
    ['git@saturn:lab.git', 'scp'],
    ['git://saturn/lab.git', 'git'],
    ['https://git.example.net/me/lab.git', 'https'],
    ['http://git.example.net/me/lab.git', 'http'],
    ['file:///srv/git/lab.git', 'file'],
    ['/srv/git/lab.git', 'path'],
    ['lab.git', 'relative'],
    ['ftp://x/lab.git', undefined],
  ])('%s is %s', (url, kind) => {
    expect(remoteKind(url)).toBe(kind);
  });

  it('says what the node needs for each form, and the ownership fix for a folder', () => {
    expect(remoteNeeds('ssh://g@s/x.git')).toContain('deploy key');
    expect(remoteNeeds('git://s/x.git')).toContain('git daemon');
    expect(remoteNeeds('https://s/x.git')).toContain('credential helper');
    expect(remoteNeeds('/srv/x.git')).toContain(
      'git config --global --add safe.directory /srv/x.git',
    );
  });

  it('warns about a folder remote for nodes reached over a transport, a relative path, http and unknown schemes', () => {
    const warn = (remote: string, transport: string): string[] => {
      const inv = parseTopology(topo(remote, transport)).inventory;
      if (!inv) throw new Error('invalid');
      return remoteWarnings(inv);
    };
    expect(warn('/srv/git/lab.git', 'local')).toEqual([]);
    expect(warn('ssh://s/lab.git', 'ssh')).toEqual([]);
    expect(warn('git://s/lab.git', 'ssh')).toEqual([]);
    expect(warn('/srv/git/lab.git', 'ssh')[0]).toContain('only nodes on SATURN itself can read');
    expect(warn('lab.git', 'local')[0]).toContain('relative path');
    expect(warn('http://s/lab.git', 'ssh')[0]).toContain('unencrypted');
    expect(warn('ftp://s/lab.git', 'ssh')[0]).toContain('nodes cannot fetch');
  });
});

describe('bootstrap and the node root', () => {
  it('passes --root only when the topology names one (node or defaults)', () => {
    const without = topo('/r.git', 'local');
    const withNode = without.replace('transport: local', 'transport: local\n    root: /srv/h');
    const withDefaults = topo('/r.git', 'local', 'defaults:\n  root: /srv/h\n');
    expect(topologyNamesRoot(without, 'a')).toBe(false);
    expect(topologyNamesRoot(withNode, 'a')).toBe(true);
    expect(topologyNamesRoot(withDefaults, 'a')).toBe(true);
    const inv = parseTopology(without).inventory;
    const node = inv?.nodes[0];
    if (!inv || !node) throw new Error('invalid');
    expect(bootstrapArgv(inv, node, false, false)).not.toContain('--root');
    expect(bootstrapArgv(inv, node, false, true)).toEqual(
      expect.arrayContaining(['--root', '/opt/homelab', '--repo', '/opt/homelab/repo']),
    );
  });
});
