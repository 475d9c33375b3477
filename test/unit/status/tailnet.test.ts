import { describe, expect, it } from 'vitest';
import { describeTailnet, parseTailscaleStatus } from '../../../src/core/tailnet.js';

// The fields `tailscale status --json` prints (BackendState, Self, Peer), trimmed to what we read.
const running = JSON.stringify({
  BackendState: 'Running',
  Self: {
    HostName: 'saturn',
    DNSName: 'saturn.tail1234.ts.net.',
    TailscaleIPs: ['fd7a:115c:a1e0::1', '100.64.0.1'],
    Online: true,
  },
  Peer: {
    'nodekey:a': { HostName: 'mercury', Online: true },
    'nodekey:b': { HostName: 'solaria', Online: true },
    'nodekey:c': { HostName: 'venus', Online: false },
  },
  MagicDNSSuffix: 'tail1234.ts.net',
});

describe('the tailnet in the header', () => {
  it.each([
    [running, 'tailnet up as saturn 100.64.0.1, 2/3 peers online'],
    [
      JSON.stringify({ BackendState: 'Stopped', Self: { HostName: 'saturn' } }),
      'tailnet Stopped: run tailscale up',
    ],
    [
      JSON.stringify({ BackendState: 'NeedsLogin' }),
      'tailnet NeedsLogin: run tailscale up and log in',
    ],
    ['not json', 'tailnet unknown (tailscale status --json printed no JSON)'],
    ['{}', 'tailnet unknown (tailscale status --json has no BackendState)'],
  ])('%s', (json, text) => {
    expect(describeTailnet(parseTailscaleStatus(json))).toBe(text);
  });

  it('says when tailscale is not installed', () => {
    expect(describeTailnet({ state: 'missing' })).toBe('tailscale not installed on this machine');
  });
});
