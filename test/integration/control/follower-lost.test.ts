// Losing the follower of a stage never loses the stage nor fakes its end: `homelab run verify`'s own
// ssh client killed (SIGKILL, at several points), or the node's ssh control master killed, and the
// stage goes on detached on the node; SATURN re-attaches to the same run from the next unread line
// and reports the node's own end (its run-end record): result, exit code, no record twice.
// (The sshd side dropping the session is reattach.test.ts.) Real sshd, deploy.sh and Docker.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeProject } from '../../../src/core/inventory/model.js';
import { runCli } from '../../support/cli.js';
import { createLabHomelab, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('docker', 'sshd');
const NODE = `fl${Math.random().toString(36).slice(2, 7)}`;

interface Proc {
  readonly pid: number;
  readonly args: string;
}

function processes(): Proc[] {
  return execFileSync('ps', ['-e', '-o', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(.*)$/.exec(l))
    .flatMap((m) => (m ? [{ pid: Number(m[1]), args: m[2] ?? '' }] : []));
}

/**
 * The sshd processes below a listener, by parent id (never by name alone: other tests' sshd run
 * here too). What runs on the node under them (the detached stage) is left alone: a network
 * outage does not kill the node's processes.
 */
function sshdSessions(pid: number): number[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  const below = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [child = '', parent = '', comm = ''] of table) {
      if (comm === 'sshd' && below.has(Number(parent)) && !below.has(Number(child))) {
        below.add(Number(child));
        grew = true;
      }
    }
  }
  below.delete(pid);
  return [...below];
}

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(!ok)('a lost follower re-attaches and reports the node’s end', () => {
  let hl: LabHomelab;
  let root = '';
  const cli = (args: string[]) =>
    runCli(args, { cwd: hl.repoDir, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  const newestLog = (): string => {
    const dir = join(root, 'logs', 'deploy');
    const last = readdirSync(dir)
      .filter((f) => f.startsWith('deploy_'))
      .sort()
      .at(-1);
    return last ? readFileSync(join(dir, last), 'utf8') : '';
  };
  /** Restarts the service: httpd comes up after its start delay, so verify waits that long. */
  const slowAgain = (): void => {
    execFileSync('docker', ['compose', '-p', composeProject(NODE, 'slow'), 'restart', '-t', '0'], {
      stdio: 'ignore',
    });
  };

  /** Runs verify through the CLI; once the node's log matches `at`, `kill` runs; returns the CLI's result. */
  async function verifyKilled(at: RegExp, kill: () => void) {
    const logsBefore = readdirSync(join(root, 'logs', 'deploy')).length;
    const running = cli(['run', 'verify', '--node', NODE, '--yes', '--raw']);
    await waitFor('the new run', () =>
      readdirSync(join(root, 'logs', 'deploy')).length > logsBefore && at.test(newestLog())
        ? true
        : undefined,
    );
    kill();
    const res = await running;
    const records = res.stdout.split('\n').filter((l) => l.startsWith('{'));
    return { res, records, log: newestLog() };
  }

  const clientOf = (stage: string): Proc | undefined =>
    processes().find(
      (p) =>
        p.args.startsWith('ssh ') &&
        p.args.includes(`${stage} --root ${root} --node ${NODE}`) &&
        !p.args.includes('ControlMaster=yes'),
    );
  const masterOf = (): Proc | undefined =>
    processes().find(
      (p) =>
        p.args.startsWith('ssh ') &&
        p.args.includes('ControlMaster=yes') &&
        p.args.includes(`ControlPath=`) &&
        p.args.includes(`/${NODE}-`),
    );

  beforeAll(async () => {
    hl = await createLabHomelab({
      nodes: [{ name: NODE, services: [{ name: 'slow', startDelay: 3 }] }],
    });
    hl.bootstrap(NODE);
    root = hl.rootOf(NODE);
    for (const stage of ['prepare', 'deploy', 'verify']) {
      const res = await cli(['run', stage, '--node', NODE, '--yes']);
      expect(res.code, res.stderr).toBe(0);
    }
  }, 120_000);
  afterAll(async () => {
    await hl?.cleanup();
  });

  const expectNodesEnd = (
    got: Awaited<ReturnType<typeof verifyKilled>>,
    result: 'ok' | 'failed',
    code: number,
  ): void => {
    const { res, records, log } = got;
    const detail = `${res.stdout}\n${res.stderr}\nnode log:\n${log}`;
    expect(res.code, detail).toBe(code);
    expect(res.stderr, detail).toContain(
      result === 'ok' ? `verify ok on ${NODE}` : `verify failed on ${NODE}`,
    );
    expect(res.stderr).not.toMatch(/exited 1\d\d/);
    expect(res.stdout + res.stderr).toMatch(/lost the view of run .* re-attaching from line \d+/);
    // Every record arrives once (each carries its own timestamp), and all of the node's arrive.
    expect(records.length - new Set(records).size, detail).toBe(0);
    const nodeRecords = log.split('\n').filter((l) => l.startsWith('@homelab/1 '));
    expect(records.length).toBe(nodeRecords.length);
    expect(records.filter((r) => r.includes('"type":"run-end"'))).toHaveLength(1);
    expect(log).toContain(`"result":"${result}"`);
  };

  it.each([
    ['just after the run record', /@homelab\/1 run /],
    ['after the lock is taken', /"step":"lock","status":"ok"/],
    ['while verify waits for health', /@homelab\/1 stage-start /],
  ])(
    'homelab run’s own ssh client killed %s: the node’s ok, exit 0',
    async (_point, at) => {
      slowAgain();
      const got = await verifyKilled(at, () => {
        const client = clientOf('verify');
        if (!client) throw new Error('no ssh client of verify found');
        process.kill(client.pid, 'SIGKILL');
      });
      expectNodesEnd(got, 'ok', 0);
    },
    60_000,
  );

  it('the ssh control master killed mid-verify: a new connection, the node’s ok, exit 0', async () => {
    slowAgain();
    const got = await verifyKilled(/@homelab\/1 stage-start /, () => {
      const master = masterOf();
      if (!master) throw new Error('no ssh master found');
      process.kill(master.pid, 'SIGKILL');
    });
    expectNodesEnd(got, 'ok', 0);
  }, 60_000);

  it('the network gone for 3 s (sshd and its sessions killed, then back): the node’s ok, exit 0', async () => {
    slowAgain();
    const dir = hl.labs.get(NODE)!.dir;
    let restarted: Promise<void> | undefined;
    const got = await verifyKilled(/@homelab\/1 stage-start /, () => {
      const listener = Number(readFileSync(join(dir, 'sshd.pid'), 'utf8').trim());
      const sessions = sshdSessions(listener);
      process.kill(listener, 'SIGKILL');
      for (const pid of sessions) process.kill(pid, 'SIGKILL');
      restarted = new Promise((resolve, reject) =>
        setTimeout(() => {
          try {
            execFileSync('/usr/sbin/sshd', [
              '-f',
              join(dir, 'sshd_config'),
              '-E',
              join(dir, 'sshd.log'),
            ]);
            resolve();
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        }, 3000),
      );
    });
    await restarted;
    expectNodesEnd(got, 'ok', 0);
  }, 90_000);

  it('the client killed while verify fails on the node: the node’s failure, exit 1', async () => {
    // Once verify waits for the restarted service, its container is killed: verify fails, and says so.
    slowAgain();
    const got = await verifyKilled(/@homelab\/1 stage-start /, () => {
      execFileSync('docker', ['compose', '-p', composeProject(NODE, 'slow'), 'kill'], {
        stdio: 'ignore',
      });
      const client = clientOf('verify');
      if (!client) throw new Error('no ssh client of verify found');
      process.kill(client.pid, 'SIGKILL');
    });
    expectNodesEnd(got, 'failed', 1);
    expect(got.res.stderr).toMatch(/verify failed on \S+: verify failed.*exited/);
  }, 90_000);
});
