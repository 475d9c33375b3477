// The ssh transport against a real OpenSSH server on loopback: what arrives on the node, what the
// operator sees when a node cannot be reached, cancellation, and one shared connection per node.
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/core/inventory/model.js';
import { createRunner } from '../../../src/shell/transport/runner.js';
import type { NodeRunner } from '../../../src/shell/transport/types.js';
import { requireLab } from '../../support/lab.js';
import { freePort } from '../../../src/shell/free-port.js';
import { startSshd, type SshdLab } from '../../support/sshd.js';
import { collect, hex, HEX_ARGS, NASTY_ARGS } from './helpers.js';

const ok = requireLab('sshd');

function countLogins(lab: SshdLab): number {
  return readFileSync(lab.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('Accepted publickey')).length;
}

/** Local processes (not the remote user's) whose command line contains marker. */
function localProcessesWith(marker: string, user: string): string[] {
  const ps = execFileSync('ps', ['-e', '-o', 'user:32=,pid=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .filter(
      (l) => l.includes(marker) && !l.trimStart().startsWith(`${user} `) && !l.includes('ps -e'),
    );
}

/** Kills the remote user's processes whose command line contains marker (by pid). */
function killRemote(marker: string, user: string): void {
  const ps = execFileSync('ps', ['-u', user, '-o', 'pid=,args='], { encoding: 'utf8' });
  for (const line of ps.split('\n')) {
    if (!line.includes(marker)) continue;
    try {
      process.kill(Number(line.trim().split(/\s+/)[0]), 'SIGKILL');
    } catch {
      // gone
    }
  }
}

describe.skipIf(!ok)('ssh transport on a real sshd', () => {
  let lab: SshdLab;
  let node: NodeSpec;
  let runner: NodeRunner;
  let controlDir: string;
  const runners: NodeRunner[] = [];
  const track = (r: NodeRunner): NodeRunner => {
    runners.push(r);
    return r;
  };

  beforeAll(async () => {
    lab = await startSshd({ setEnv: { HOMELAB_TEST_MARK: 'from-sshd' } });
    node = lab.node('alpha');
    controlDir = mkdtempSync('/tmp/hl-ctl-');
    runner = track(createRunner(node, { controlDir }));
  });

  afterAll(async () => {
    for (const r of runners) await r.close();
    await lab?.stop();
    if (controlDir) rmSync(controlDir, { recursive: true, force: true });
  });

  it('delivers every argument byte for byte (spaces, quotes, $(), backticks, ;, newlines, non-ASCII, empty)', async () => {
    const { result, out, err } = await collect(runner, [...HEX_ARGS, ...NASTY_ARGS]);
    expect(err).toEqual([]);
    expect(result).toMatchObject({ exitCode: 0, cancelled: false, timedOut: false });
    expect(result.unreachable).toBeUndefined();
    expect(out).toEqual(NASTY_ARGS.map(hex));
  });

  it('runs as the node user with the environment sshd sets', async () => {
    const { out } = await collect(runner, ['bash', '-c', 'echo "$(id -un) $HOMELAB_TEST_MARK"']);
    expect(out).toEqual([`${lab.user} from-sshd`]);
  });

  it('streams stdout and stderr line by line, in order, while the command runs', async () => {
    const seen: Array<{ stream: string; line: string; at: number }> = [];
    const started = Date.now();
    const result = await runner.run(
      [
        'bash',
        '-c',
        'for i in 1 2 3 4; do echo "out $i"; echo "err $i" >&2; sleep 0.3; done; printf "no newline"',
      ],
      {
        onStdout: (line) => seen.push({ stream: 'out', line, at: Date.now() - started }),
        onStderr: (line) => seen.push({ stream: 'err', line, at: Date.now() - started }),
      },
    );
    expect(result.exitCode).toBe(0);
    expect(seen.filter((s) => s.stream === 'out').map((s) => s.line)).toEqual([
      'out 1',
      'out 2',
      'out 3',
      'out 4',
      'no newline',
    ]);
    expect(seen.filter((s) => s.stream === 'err').map((s) => s.line)).toEqual([
      'err 1',
      'err 2',
      'err 3',
      'err 4',
    ]);
    // The first line arrived long before the command ended (~1.2 s): it was streamed, not buffered.
    const first = seen[0]?.at ?? Infinity;
    expect(first).toBeLessThan(result.durationMs - 600);
  });

  it('passes input to the remote stdin, and closes stdin when there is none', async () => {
    const text = 'first line\nsecond: $(not run) `nor this`\nünïcode ✓\n';
    const echoed = await collect(runner, ['cat'], { input: text });
    expect(echoed.out).toEqual(['first line', 'second: $(not run) `nor this`', 'ünïcode ✓']);
    const counted = await collect(runner, ['wc', '-c'], { input: text });
    expect(counted.out.map((l) => l.trim())).toEqual([String(Buffer.byteLength(text))]);
    const t0 = Date.now();
    const none = await collect(runner, ['cat']);
    expect(none.result.exitCode).toBe(0);
    expect(none.out).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('returns the remote exit code and keeps the remote command failure apart from unreachable', async () => {
    const { result } = await collect(runner, ['bash', '-c', 'exit 3']);
    expect(result.exitCode).toBe(3);
    expect(result.unreachable).toBeUndefined();
  });

  it('reports a command missing on the node as command-not-found (127)', async () => {
    const { result, err } = await collect(runner, ['homelab-no-such-command', 'arg']);
    expect(result.exitCode).toBe(127);
    expect(result.unreachable?.reason).toBe('command-not-found');
    expect(result.unreachable?.message).toContain('homelab-no-such-command: command not found');
    expect(err.join('\n')).toContain('command not found');
  });

  it('reports a closed port as no-route with the refusal and a hint', async () => {
    const port = await freePort();
    const r = track(
      createRunner({ ...node, name: 'closed', ssh: { ...node.ssh, port } }, { controlDir }),
    );
    const { result } = await collect(r, ['true']);
    expect(result.exitCode).toBeNull();
    expect(result.unreachable?.reason).toBe('no-route');
    expect(result.unreachable?.message).toContain(`port ${port}: Connection refused`);
    expect(result.unreachable?.message).toContain('sshd');
  });

  it('reports a host that accepts TCP but never answers as timeout, within the connect timeout', async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => sockets.push(s));
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
    );
    try {
      const r = track(
        createRunner(
          { ...node, name: 'silent', ssh: { ...node.ssh, port, connectTimeout: 1 } },
          { controlDir },
        ),
      );
      const t0 = Date.now();
      const { result } = await collect(r, ['true']);
      const took = Date.now() - t0;
      expect(result.unreachable?.reason).toBe('timeout');
      expect(result.unreachable?.message).toMatch(/timed out/);
      expect(took).toBeLessThan(8000);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it('refuses a node whose host key differs from known_hosts (host-key-mismatch), and an unknown one', async () => {
    const wrong = track(
      createRunner(
        { ...node, name: 'mitm', ssh: { ...node.ssh, knownHostsFile: lab.wrongKnownHostsFile } },
        { controlDir },
      ),
    );
    const mismatch = await collect(wrong, ['bash', '-c', 'touch ~/should-not-run']);
    expect(mismatch.result.exitCode).toBeNull();
    expect(mismatch.result.unreachable?.reason).toBe('host-key-mismatch');
    expect(mismatch.result.unreachable?.message).toContain(
      'REMOTE HOST IDENTIFICATION HAS CHANGED',
    );

    const emptyKnown = join(lab.dir, 'empty_known_hosts');
    writeFileSync(emptyKnown, '');
    const unknown = track(
      createRunner(
        { ...node, name: 'newhost', ssh: { ...node.ssh, knownHostsFile: emptyKnown } },
        { controlDir },
      ),
    );
    const u = await collect(unknown, ['true']);
    expect(u.result.unreachable?.reason).toBe('host-key-unknown');
    expect(u.result.unreachable?.message).toMatch(
      /No ED25519 host key is known for \[127\.0\.0\.1\]:\d+/,
    );
    // Host key checking stayed on: nothing was added to known_hosts behind the operator's back.
    expect(readFileSync(emptyKnown, 'utf8')).toBe('');
  });

  it('reports a key the node does not accept as auth-refused', async () => {
    const r = track(
      createRunner(
        { ...node, name: 'badkey', ssh: { ...node.ssh, identityFile: lab.otherKeyFile } },
        { controlDir },
      ),
    );
    const { result } = await collect(r, ['true']);
    expect(result.exitCode).toBeNull();
    expect(result.unreachable?.reason).toBe('auth-refused');
    expect(result.unreachable?.message).toContain(
      `${lab.user}@127.0.0.1: Permission denied (publickey)`,
    );
  });

  it('never waits for a prompt: a key the node accepts but that needs a passphrase fails fast', async () => {
    const key = join(lab.dir, 'passphrase_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret words', '-f', key]);
    appendFileSync(join(lab.dir, 'authorized_keys'), readFileSync(`${key}.pub`));
    const r = track(
      createRunner(
        { ...node, name: 'locked', ssh: { ...node.ssh, identityFile: key } },
        { controlDir },
      ),
    );
    const t0 = Date.now();
    const { result } = await collect(r, ['true']);
    expect(result.unreachable?.reason).toBe('auth-refused');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('reuses one connection per node: the control socket is checked alive and only one login happens', async () => {
    const dir = mkdtempSync('/tmp/hl-mux-');
    const r = createRunner(lab.node('beta'), { controlDir: dir });
    try {
      const before = countLogins(lab);
      const t0 = performance.now();
      const first = await r.run(['true']);
      const cold = performance.now() - t0;
      const warm: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        const res = await r.run(['true']);
        warm.push(performance.now() - t);
        expect(res.exitCode).toBe(0);
      }
      expect(first.exitCode).toBe(0);
      const sockets = readdirSync(dir);
      expect(sockets).toHaveLength(1);
      const socket = join(dir, sockets[0] as string);
      const check = execFileSync(
        'ssh',
        ['-o', `ControlPath=${socket}`, '-O', 'check', `${lab.user}@127.0.0.1`],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      expect(check).toBe('');
      expect(countLogins(lab) - before).toBe(1);
      const median = [...warm].sort((a, b) => a - b)[2] ?? 0;
      console.log(
        `[transport figures] cold command incl. opening the master: ${cold.toFixed(0)} ms; over the open master: median ${median.toFixed(0)} ms (${warm.map((w) => w.toFixed(0)).join(', ')})`,
      );
      await r.close();
      expect(readdirSync(dir)).toEqual([]);
      await r.close(); // safe twice
    } finally {
      await r.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parallel first commands to one node share one master, without the mux race warning', async () => {
    const r = track(createRunner(lab.node('gamma'), { controlDir }));
    const before = countLogins(lab);
    const all = await Promise.all(
      Array.from({ length: 8 }, (_, i) => collect(r, ['bash', '-c', `echo run-${i}`])),
    );
    expect(all.map((c) => c.out)).toEqual(Array.from({ length: 8 }, (_, i) => [`run-${i}`]));
    const stderr = all.flatMap((c) => c.err);
    expect(
      stderr.filter((l) => /ControlSocket|multiplexing|mux_client|muxclient/i.test(l)),
    ).toEqual([]);
    expect(stderr).toEqual([]);
    expect(countLogins(lab) - before).toBe(1);
  });

  it('reopens the shared connection when the master went away', async () => {
    const dir = mkdtempSync('/tmp/hl-mux-');
    const r = createRunner(lab.node('delta'), { controlDir: dir });
    try {
      expect((await r.run(['true'])).exitCode).toBe(0);
      const socket = join(dir, readdirSync(dir)[0] as string);
      execFileSync('ssh', ['-o', `ControlPath=${socket}`, '-O', 'exit', `${lab.user}@127.0.0.1`], {
        stdio: 'ignore',
      });
      const again = await collect(r, ['echo', 'back']);
      expect(again.out).toEqual(['back']);
      expect(again.err).toEqual([]);
    } finally {
      await r.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports connection-lost when the shared connection dies under a running command', async () => {
    const dir = mkdtempSync('/tmp/hl-mux-');
    const r = createRunner(lab.node('epsilon'), { controlDir: dir });
    try {
      expect((await r.run(['true'])).exitCode).toBe(0);
      const socket = join(dir, readdirSync(dir)[0] as string);
      const masterPid = Number(
        /pid=(\d+)/.exec(
          execFileSync('bash', ['-c', `ssh -o ControlPath=${socket} -O check x@127.0.0.1 2>&1`], {
            encoding: 'utf8',
          }),
        )?.[1],
      );
      expect(masterPid).toBeGreaterThan(1);
      const pending = collect(r, ['bash', '-c', 'echo running; sleep 3']);
      setTimeout(() => process.kill(masterPid, 'SIGTERM'), 400);
      const { result, out } = await pending;
      expect(out).toEqual(['running']);
      expect(result.exitCode).toBeNull();
      expect(result.unreachable?.reason).toBe('connection-lost');
      // And the next command reconnects.
      expect((await collect(r, ['echo', 'again'])).out).toEqual(['again']);
    } finally {
      await r.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cancels a long remote command quickly through AbortSignal; the local process group is gone', async () => {
    const marker = `31.${process.pid}${Date.now() % 1000}`;
    const controller = new AbortController();
    let abortedAt = 0;
    const pending = runner.run(['bash', '-c', `echo started; exec sleep ${marker}`], {
      signal: controller.signal,
      onStdout: (line) => {
        if (line === 'started') {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    const result = await pending;
    const latency = performance.now() - abortedAt;
    try {
      expect(abortedAt).toBeGreaterThan(0);
      expect(result).toMatchObject({ cancelled: true, exitCode: null, timedOut: false });
      expect(latency).toBeLessThan(2000);
      console.log(
        `[transport figures] cancel latency (abort -> run() resolved): ${latency.toFixed(0)} ms`,
      );
      expect(localProcessesWith(marker, lab.user)).toEqual([]);
      // The connection is still usable after a cancel.
      expect((await collect(runner, ['echo', 'still here'])).out).toEqual(['still here']);
    } finally {
      killRemote(marker, lab.user);
    }
  });

  it('stops a remote command at timeoutMs and says so', async () => {
    const marker = `32.${process.pid}${Date.now() % 1000}`;
    const t0 = performance.now();
    const result = await runner.run(['sleep', marker], { timeoutMs: 700 });
    const took = performance.now() - t0;
    try {
      expect(result).toMatchObject({ timedOut: true, cancelled: false, exitCode: null });
      expect(took).toBeLessThan(3000);
      expect(localProcessesWith(marker, lab.user)).toEqual([]);
    } finally {
      killRemote(marker, lab.user);
    }
  });
});
