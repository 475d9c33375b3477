// The tailscale stand-in's hold log, which every check-mode test reads to count the checks held at
// once. The CI failure of tailscale-check-tui.test.ts ("two checks held at once") came from here:
// an operator passes the check (the test removes the host's file) and says done at once (SATURN
// SIGTERMs the held connection); a signal that arrived just after the shim left its wait killed
// it before it wrote its `end` line (reproduced: 8 of 60 tries of the test below lost it), and the reader paired
// that hold's start with the next hold's end of the same host, making a hold that seemed to span
// another node's check. Now every start has an end line whenever the signal comes, and the reader
// pairs them by the shim's pid.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { maxConcurrentHolds, parseHolds, SHIM_DIR } from '../../support/tailscale-shim.js';

const dir = mkdtempSync('/tmp/hl-tsh-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(what: string, test: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the tailscale stand-in hold log', () => {
  it('pairs a start with its own end: a lost end line never spans another hold', () => {
    // a's first hold lost its end (the old shim, killed at the wrong moment); b then held; a again.
    const log = [
      'start a 100 11',
      'start b 200 12',
      'end b 300 12',
      'start a 400 13',
      'end a 500 13',
      'end a 501 13', // a second end of the same hold: ignored
    ].join('\n');
    const list = parseHolds(log);
    expect(list.map((h) => [h.host, h.start, h.end])).toEqual([
      ['a', 100, Infinity],
      ['b', 200, 300],
      ['a', 400, 500],
    ]);
    // Pairing by host alone made a's hold 100..500, overlapping b's: "2 held at once".
    expect(maxConcurrentHolds(list.filter((h) => h.end !== Infinity))).toBe(1);
  });

  it('writes the end line of every hold, whenever SIGTERM comes after the check passed', async () => {
    const tries = 60;
    let lost = 0;
    for (let i = 0; i < tries; i++) {
      const host = `h${i}`;
      // A folder per try: a late write cannot land in the next try's log.
      const checkDir = join(dir, `c${i}`);
      mkdirSync(checkDir);
      const log = join(checkDir, 'holds.log');
      writeFileSync(join(checkDir, host), '');
      const child = spawn(join(SHIM_DIR, 'tailscale'), ['ssh', `u@${host}`, '--', 'true'], {
        detached: true,
        stdio: 'ignore',
        env: {
          ...process.env,
          HOMELAB_SHIM_PORT: '1',
          HOMELAB_SHIM_KEY: '/dev/null',
          HOMELAB_SHIM_KNOWN_HOSTS: '/dev/null',
          HOMELAB_SHIM_CHECK_DIR: checkDir,
        },
      });
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      await until('the hold to start', () => existsSync(log) && readFileSync(log, 'utf8') !== '');
      // The operator passes the check and says done at once: the signal lands at a point of the
      // shim's way out that moves by 1 ms a try, over more than its 50 ms poll.
      rmSync(join(checkDir, host));
      await new Promise((r) => setTimeout(r, i));
      try {
        process.kill(-(child.pid ?? 0), 'SIGTERM');
      } catch {
        // already gone (it went on to ssh, which failed at once: port 1)
      }
      await exited;
      const list = parseHolds(readFileSync(log, 'utf8'));
      if (list.length !== 1 || list[0]?.end === Infinity) lost += 1;
    }
    expect(lost, `holds without an end line in ${tries} tries`).toBe(0);
  }, 60_000);
});
