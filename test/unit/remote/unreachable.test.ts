// Every stderr text below was printed by a real OpenSSH 9.2 client on this machine (none invented):
// - refused:       ssh -p <closed port> user@127.0.0.1
// - banner:        a TCP listener that accepts and never speaks, ConnectTimeout=2
// - connect t/o:   `unshare -n` namespace with a veth whose peer never answers, ConnectTimeout=1
// - no route:      `unshare -n` namespace with `ip route add unreachable 10.9.9.9`
// - net unreach:   `unshare -n` namespace (loopback down)
// - resolve:       `unshare -n`, ssh user@no-such-node.invalid
// - host keys:     empty known_hosts / known_hosts with another ed25519 key for [127.0.0.1]:PORT
// - auth:          a client key that is not in authorized_keys
// - lost:          remote `kill -9 $PPID` (the session's sshd) and `kill -TERM $PPID`
// - 127:           a missing command through the login shell (bash)
import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../../src/core/remote/unreachable.js';

const MISMATCH = `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that a host key has just been changed.
The fingerprint for the ED25519 key sent by the remote host is
SHA256:27jH+XKG2xK7gpJdw2ezi24de0nuCVoZOPJP6R57fm4.
Please contact your system administrator.
Add correct host key in wrong_known to get rid of this message.
Offending ED25519 key in wrong_known:1
  remove with:
  ssh-keygen -f "wrong_known" -R "[127.0.0.1]:22411"
Host key for [127.0.0.1]:22411 has changed and you have requested strict checking.
Host key verification failed.
`;

const SSH_CASES: ReadonlyArray<readonly [string, string, string, string]> = [
  [
    'refused port',
    'ssh: connect to host 127.0.0.1 port 22999: Connection refused\n',
    'no-route',
    'ssh: connect to host 127.0.0.1 port 22999: Connection refused',
  ],
  [
    'no banner',
    'Connection timed out during banner exchange\nConnection to 127.0.0.1 port 22998 timed out\n',
    'timeout',
    'Connection timed out during banner exchange',
  ],
  [
    'connect timeout',
    'ssh: connect to host 10.8.8.8 port 22: Connection timed out\n',
    'timeout',
    'ssh: connect to host 10.8.8.8 port 22: Connection timed out',
  ],
  [
    'no route',
    'ssh: connect to host 10.9.9.9 port 22: No route to host\n',
    'no-route',
    'ssh: connect to host 10.9.9.9 port 22: No route to host',
  ],
  [
    'network unreachable',
    'ssh: connect to host 127.0.0.1 port 22411: Network is unreachable\n',
    'no-route',
    'Network is unreachable',
  ],
  [
    'unresolvable',
    'ssh: Could not resolve hostname no-such-node.invalid: Temporary failure in name resolution\n',
    'no-route',
    'Could not resolve hostname no-such-node.invalid',
  ],
  [
    'unknown host key',
    'No ED25519 host key is known for [127.0.0.1]:22411 and you have requested strict checking.\nHost key verification failed.\n',
    'host-key-unknown',
    'No ED25519 host key is known for [127.0.0.1]:22411',
  ],
  [
    'changed host key',
    MISMATCH,
    'host-key-mismatch',
    'WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!',
  ],
  [
    'key refused',
    'homelab-test@127.0.0.1: Permission denied (publickey).\n',
    'auth-refused',
    'homelab-test@127.0.0.1: Permission denied (publickey).',
  ],
  [
    'session killed',
    'client_loop: send disconnect: Broken pipe\n',
    'connection-lost',
    'client_loop: send disconnect: Broken pipe',
  ],
  [
    'closed by node',
    'Connection to 127.0.0.1 closed by remote host.\n',
    'connection-lost',
    'Connection to 127.0.0.1 closed by remote host.',
  ],
];

describe('classifyFailure: ssh exit 255', () => {
  it.each(SSH_CASES)('%s', (_name, stderr, reason, keyLine) => {
    for (const transport of ['ssh', 'tailscale-ssh'] as const) {
      const got = classifyFailure({ transport, exitCode: 255, stderr });
      expect(got?.reason).toBe(reason);
      expect(got?.message).toContain(keyLine);
      // One human line: the key stderr line, then the fix.
      expect(got?.message).not.toContain('\n');
      expect(got?.message.length).toBeGreaterThan(keyLine.length + 20);
    }
  });

  it('names the fix for each reason', () => {
    const hint = (stderr: string): string =>
      classifyFailure({ transport: 'ssh', exitCode: 255, stderr })?.message ?? '';
    expect(hint('ssh: connect to host 127.0.0.1 port 22999: Connection refused')).toMatch(
      /sshd|Tailscale SSH/,
    );
    expect(hint(MISMATCH)).toMatch(/ssh-keygen -R/);
    expect(hint('homelab-test@127.0.0.1: Permission denied (publickey).')).toMatch(
      /authorized_keys/,
    );
    expect(
      hint(
        'No ED25519 host key is known for [127.0.0.1]:22411 and you have requested strict checking.\nHost key verification failed.',
      ),
    ).toMatch(/known_hosts/);
  });

  it('a remote command that exits 255 on its own is not a transport failure', () => {
    expect(classifyFailure({ transport: 'ssh', exitCode: 255, stderr: '' })).toBeUndefined();
    expect(
      classifyFailure({ transport: 'ssh', exitCode: 255, stderr: 'deploy: giving up\n' }),
    ).toBeUndefined();
  });

  it('an unrecognised ssh-layer message is unknown, with the line', () => {
    const got = classifyFailure({
      transport: 'ssh',
      exitCode: 255,
      stderr: 'ssh: some new failure mode\n',
    });
    expect(got).toEqual({
      reason: 'unknown',
      message: expect.stringContaining('ssh: some new failure mode'),
    });
  });

  it('other exit codes are the remote command’s own', () => {
    expect(
      classifyFailure({ transport: 'ssh', exitCode: 1, stderr: 'Permission denied (publickey).' }),
    ).toBeUndefined();
    expect(classifyFailure({ transport: 'ssh', exitCode: 0, stderr: '' })).toBeUndefined();
  });
});

describe('classifyFailure: command not found and missing transports', () => {
  it('127 from the node shell is command-not-found, with the shell line', () => {
    const got = classifyFailure({
      transport: 'ssh',
      exitCode: 127,
      stderr: 'bash: nosuchcmd-xyz: command not found\n',
    });
    expect(got?.reason).toBe('command-not-found');
    expect(got?.message).toContain('bash: nosuchcmd-xyz: command not found');
    expect(classifyFailure({ transport: 'local', exitCode: 127, stderr: '' })?.reason).toBe(
      'command-not-found',
    );
  });

  it('ssh or tailscale missing on SATURN is transport-missing, with what to install', () => {
    const ssh = classifyFailure({
      transport: 'ssh',
      exitCode: null,
      stderr: '',
      spawnError: 'ENOENT: spawn ssh ENOENT',
    });
    expect(ssh?.reason).toBe('transport-missing');
    expect(ssh?.message).toMatch(/ssh is not installed.*openssh-client/);
    const ts = classifyFailure({
      transport: 'tailscale-ssh',
      exitCode: null,
      stderr: '',
      spawnError: 'ENOENT: spawn tailscale ENOENT',
    });
    expect(ts?.reason).toBe('transport-missing');
    expect(ts?.message).toMatch(/tailscale is not installed.*install Tailscale/);
  });

  it('the tailscale CLI failing before ssh (exit 1) is transport-missing; a remote exit 1 is not', () => {
    // Real output of `tailscale up` with no daemon (the same client check runs for `tailscale ssh`).
    const down =
      "failed to connect to local tailscaled; it doesn't appear to be running (sudo systemctl start tailscaled ?)\n";
    const got = classifyFailure({ transport: 'tailscale-ssh', exitCode: 1, stderr: down });
    expect(got?.reason).toBe('transport-missing');
    expect(got?.message).toMatch(
      /^failed to connect to local tailscaled.*systemctl start tailscaled/,
    );
    expect(
      classifyFailure({
        transport: 'tailscale-ssh',
        exitCode: 1,
        stderr: 'Tailscale is stopped.\n',
      })?.reason,
    ).toBe('transport-missing');
    expect(
      classifyFailure({
        transport: 'tailscale-ssh',
        exitCode: 1,
        stderr: 'deploy: verify failed\nTailscale is stopped.\n',
      }),
    ).toBeUndefined();
    expect(classifyFailure({ transport: 'ssh', exitCode: 1, stderr: down })).toBeUndefined();
  });

  it('a local command that does not exist is command-not-found', () => {
    expect(
      classifyFailure({
        transport: 'local',
        exitCode: null,
        stderr: '',
        spawnError: 'ENOENT: spawn nope ENOENT',
      })?.reason,
    ).toBe('command-not-found');
  });
});
