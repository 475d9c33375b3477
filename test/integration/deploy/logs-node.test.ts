// `deploy.sh logs SERVICE`, real bash, real Docker with Compose v2: the last lines with their
// timestamps, new lines followed as the container prints them, every .env value and credential
// shape redacted on the node (one line at a time, a private key's lines whole), usage refused
// before docker runs, and a follower whose reader went away ends by itself (the heartbeat).
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLab } from '../../support/lab.js';
import { collect, NodeFixture } from '../../support/node-fixture.js';

const ok = requireLab('docker');

const TOKEN = 'zq7-Logs-Secret-9f3k2m';

/** A container that prints what the test drops in its mounted folder, one file at a time. */
function talker(): string {
  return [
    'services:',
    '  talk:',
    '    image: busybox:1.36',
    '    network_mode: none',
    '    stop_signal: SIGKILL',
    '    environment:',
    '      TOKEN: "${TOKEN:-}"',
    '    volumes: ["./say:/say"]',
    '    command: ["sh", "-c", "echo started; echo token=$$TOKEN; while :; do for f in /say/*.txt; do [ -f $$f ] && cat $$f && rm -f $$f; done; sleep 0.2; done"]',
    '',
  ].join('\n');
}

async function until<T>(what: string, f: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True when a `docker compose … logs … --follow` runs in process group `pgid` (read from /proc). */
function composeLogsFollowing(pgid: number): boolean {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // pid (comm) state ppid pgrp …: comm may hold spaces, so count from its closing parenthesis.
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp !== pgid) continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.includes('compose') && argv.includes('logs') && argv.includes('--follow'))
        return true;
    } catch {
      // The process ended while we looked.
    }
  }
  return false;
}

describe.skipIf(!ok)('deploy.sh logs', () => {
  let fx: NodeFixture;
  let sayDir = '';
  let n = 0;
  const say = (text: string): void => {
    n += 1;
    // Written aside, then renamed: the container never reads half a file.
    writeFileSync(join(sayDir, `.${n}.tmp`), text);
    renameSync(join(sayDir, `.${n}.tmp`), join(sayDir, `${n}.txt`));
  };

  beforeAll(async () => {
    fx = NodeFixture.create('lg');
    fx.writeService('talk', talker());
    mkdirSync(join(fx.serviceDir('talk'), 'say'), { recursive: true });
    writeFileSync(join(fx.serviceDir('talk'), 'say', '.keep'), '');
    fx.writeManifest({ extra: ['secret\ttalk\tTOKEN'] });
    fx.writeEnv('talk', `TOKEN=${TOKEN}\n`);
    const sha = fx.commit('talker');
    fx.cloneNode();
    sayDir = join(fx.repo, 'hosts', fx.node, 'talk', 'say');
    for (const [stage, args] of [
      ['prepare', ['--ref', sha]],
      ['deploy', []],
    ] as const) {
      const r = await fx.run(stage, args);
      if (r.code !== 0) throw new Error(`${stage} exited ${r.code}:\n${r.stdout}${r.stderr}`);
    }
    await until('the first line', () => {
      const r = fx.containerStates('talk');
      return r[0] === 'running' ? true : undefined;
    });
  }, 120_000);

  afterAll(() => fx?.cleanup());

  it('prints the last lines with timestamps, the .env value redacted', async () => {
    let r = await fx.run('logs', ['talk', '--tail', '50']);
    for (let i = 0; i < 50 && !r.stdout.includes('started'); i++) {
      await new Promise((res) => setTimeout(res, 200));
      r = await fx.run('logs', ['talk', '--tail', '50']);
    }
    expect(r.code).toBe(0);
    // Compose starts each line with an erase-line sequence; SATURN strips every control sequence.
    expect(r.stdout.replace(/\x1b\[2K/g, '')).toMatch(
      /^talk-1\s+\| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z started$/m,
    );
    expect(r.stdout).toContain('token=[REDACTED]');
    expect(r.stdout).not.toContain(TOKEN);
  });

  it('refuses bad arguments before docker runs', async () => {
    for (const [args, want] of [
      [[], /logs needs a service name/],
      [['Bad_Name'], /not a DNS label/],
      [['talk', '--tail', '1; id'], /--tail must be/],
      [['talk', '--since', '$(id)'], /--since must be/],
      [['talk', 'other'], /unknown option 'other'/],
    ] as const) {
      const r = await fx.run('logs', args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(want);
    }
    const missing = await fx.run('logs', ['nothere']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/has no service nothere/);
  });

  it('follows new lines as the container prints them, each redacted on the way', async () => {
    const child = fx.spawn('logs', ['talk', '--tail', '0', '--follow']);
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    const done = collect(child, 60_000);
    try {
      // Lines printed before compose attached are not followed (--tail 0): ping until one shows.
      let pings = 0;
      await until('a followed line', () => {
        if (out.includes('ping ')) return true;
        if (pings++ % 10 === 0) say(`ping ${pings}\n`);
        return undefined;
      });
      say('first followed line\n');
      await until('the first followed line', () =>
        out.includes('first followed line') ? true : undefined,
      );
      say(
        `again ${TOKEN} and Authorization: Bearer abcdefgh12345678\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n-----END OPENSSH PRIVATE KEY-----\nafter the key\n`,
      );
      await until('the line after the key', () =>
        out.includes('after the key') ? true : undefined,
      );
      expect(out).not.toContain(TOKEN);
      expect(out).not.toContain('abcdefgh12345678');
      expect(out).not.toContain('b3BlbnNzaC1rZXktdjEAAAAABG5vbmU');
      expect(out).toMatch(/again \[REDACTED\]/);
    } finally {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    }
    await done;
  }, 60_000);

  it('ends by itself when its reader is gone (the heartbeat write fails)', async () => {
    const child = fx.spawn('logs', ['talk', '--tail', '0', '--follow']);
    const done = collect(child, 60_000);
    // Following: the script's `docker compose logs --follow` runs (in its process group).
    await until('docker compose logs --follow', () =>
      child.pid !== undefined && composeLogsFollowing(child.pid) ? true : undefined,
    );
    // The reader goes away: stdout and stderr closed, as when the ssh channel closes.
    child.stdout?.destroy();
    child.stderr?.destroy();
    const t0 = Date.now();
    const r = await done;
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.code === null || r.code !== 0).toBe(true);
  }, 60_000);
});
