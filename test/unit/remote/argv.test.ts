import { describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/core/inventory/model.js';
import { controlArgv, masterArgv, transportArgv } from '../../../src/core/remote/argv.js';

const base: NodeSpec = {
  name: 'solaria',
  address: 'solaria.tail1234.ts.net',
  role: 'gpu',
  tags: ['gpu'],
  transport: 'ssh',
  user: 'deploy',
  root: '/opt/homelab',
  repo: '/opt/homelab/repo',
  wave: 1,
  ssh: { connectTimeout: 5 },
  services: [],
};

const COMMON = [
  '-o',
  'BatchMode=yes',
  '-o',
  'ConnectTimeout=5',
  '-o',
  'ServerAliveInterval=15',
  '-o',
  'ServerAliveCountMax=3',
];
const MUX = (mode: string): string[] => [
  '-o',
  `ControlMaster=${mode}`,
  '-o',
  'ControlPath=/tmp/homelab-ssh-0/solaria-abc',
  '-o',
  'ControlPersist=60',
];
const REMOTE = ['/opt/homelab/repo/scripts/deploy/deploy.sh', 'status', 'a b'];
const JOINED = "/opt/homelab/repo/scripts/deploy/deploy.sh status 'a b'";

describe('transportArgv', () => {
  it('ssh: options, host key checking on, destination, -- and one quoted command string', () => {
    expect(transportArgv(base, REMOTE)).toEqual({
      file: 'ssh',
      args: [
        ...COMMON,
        '-o',
        'StrictHostKeyChecking=yes',
        'deploy@solaria.tail1234.ts.net',
        '--',
        JOINED,
      ],
    });
  });

  it('ssh with port, key, known_hosts and a control socket', () => {
    const node: NodeSpec = {
      ...base,
      ssh: {
        connectTimeout: 3,
        port: 2222,
        identityFile: '/home/me/.ssh/homelab',
        knownHostsFile: '/home/me/.ssh/homelab_known_hosts',
      },
    };
    expect(
      transportArgv(node, ['true'], { controlPath: '/tmp/homelab-ssh-0/solaria-abc' }),
    ).toEqual({
      file: 'ssh',
      args: [
        '-o',
        'BatchMode=yes',
        '-o',
        'ConnectTimeout=3',
        '-o',
        'ServerAliveInterval=15',
        '-o',
        'ServerAliveCountMax=3',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'UserKnownHostsFile=/home/me/.ssh/homelab_known_hosts',
        '-p',
        '2222',
        '-i',
        '/home/me/.ssh/homelab',
        '-o',
        'IdentitiesOnly=yes',
        ...MUX('auto'),
        'deploy@solaria.tail1234.ts.net',
        '--',
        'true',
      ],
    });
  });

  it('ssh: a known_hosts path with spaces or % is written so ssh reads it back as one path', () => {
    const node: NodeSpec = {
      ...base,
      ssh: { connectTimeout: 5, knownHostsFile: '/home/me/my hosts/100%' },
    };
    expect(transportArgv(node, ['true']).args).toContain(
      'UserKnownHostsFile="/home/me/my hosts/100%%"',
    );
  });

  it('tailscale-ssh: `tailscale ssh user@host`, then the ssh options, then -- and the command', () => {
    const node: NodeSpec = {
      ...base,
      transport: 'tailscale-ssh',
      ssh: { connectTimeout: 5, knownHostsFile: '/ignored' },
    };
    expect(transportArgv(node, REMOTE, { controlPath: '/tmp/homelab-ssh-0/solaria-abc' })).toEqual({
      file: 'tailscale',
      args: ['ssh', 'deploy@solaria.tail1234.ts.net', ...COMMON, ...MUX('auto'), '--', JOINED],
    });
  });

  it('local: the argv itself, unquoted, no shell', () => {
    expect(transportArgv({ ...base, transport: 'local' }, ['deploy.sh', 'a b', '$(x)'])).toEqual({
      file: 'deploy.sh',
      args: ['a b', '$(x)'],
    });
  });

  it('refuses an empty command and a destination that ssh would read as an option', () => {
    expect(() => transportArgv(base, [])).toThrow(/empty/);
    expect(() => transportArgv({ ...base, address: '-oProxyCommand=sh' }, ['true'])).toThrow(
      /cannot be used/,
    );
    expect(() => transportArgv({ ...base, user: 'a b' }, ['true'])).toThrow(/cannot be used/);
  });
});

describe('masterArgv and controlArgv', () => {
  it('ssh master: ControlMaster=yes, no command, background after login', () => {
    expect(masterArgv(base, '/tmp/homelab-ssh-0/solaria-abc')).toEqual({
      file: 'ssh',
      args: [
        ...COMMON,
        '-o',
        'StrictHostKeyChecking=yes',
        ...MUX('yes'),
        '-N',
        '-f',
        'deploy@solaria.tail1234.ts.net',
      ],
    });
  });

  it('tailscale-ssh master: every option after the destination', () => {
    expect(
      masterArgv({ ...base, transport: 'tailscale-ssh' }, '/tmp/homelab-ssh-0/solaria-abc'),
    ).toEqual({
      file: 'tailscale',
      args: ['ssh', 'deploy@solaria.tail1234.ts.net', ...COMMON, ...MUX('yes'), '-N', '-f'],
    });
  });

  it('control commands talk to the socket with plain ssh', () => {
    expect(
      controlArgv(
        { ...base, transport: 'tailscale-ssh' },
        '/tmp/homelab-ssh-0/solaria-abc',
        'exit',
      ),
    ).toEqual({
      file: 'ssh',
      args: [
        '-o',
        'ControlPath=/tmp/homelab-ssh-0/solaria-abc',
        '-O',
        'exit',
        'deploy@solaria.tail1234.ts.net',
      ],
    });
  });

  it('the local transport has no connection to open', () => {
    expect(() => masterArgv({ ...base, transport: 'local' }, '/tmp/x')).toThrow();
  });
});
