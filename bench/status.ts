// Benchmark: `homelab status` over 1 and N nodes on loopback sshd, side by side with
// `ansible all -m raw` reading the same state file on the same hosts, and plain parallel ssh.
//
//   npm run build && npx tsx bench/status.ts [--nodes 20] [--runs 5] [--bin PATH]
//
// --bin: the homelab entry point to time (default bin/homelab.js, which runs dist/).
// Besides homelab, Ansible and plain ssh reading a state file, it times plain parallel ssh running
// each node's `deploy.sh status` (homelab's floor: the same ssh and node work, no CLI) and plain ssh
// with the classic key exchange (curve25519-sha256): what OpenSSH's default post-quantum exchange
// costs on this machine.
//
// Needs root and the lab (scripts/dev/setup-lab.sh): Docker, sshd, ansible. Each node is its own
// sshd on 127.0.0.1 with its own root; every node is bootstrapped and deployed (one busybox
// service) first, so `deploy.sh status` reads real state and real containers.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openControl } from '../src/shell/control/control.js';
import { mapLimit } from '../src/shell/fanout.js';
import { createLabHomelab } from '../test/support/lab-homelab.js';
import { median, timeIt, table } from './measure.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '20' },
    runs: { type: 'string', default: '5' },
    bin: { type: 'string' },
  },
});
const N = Number(values.nodes);
const RUNS = Number(values.runs);
const BIN = values.bin ?? join(import.meta.dirname, '..', 'bin', 'homelab.js');

const names = Array.from({ length: N }, (_, i) => `bench${String(i + 1).padStart(2, '0')}`);
console.error(`setting up ${N} nodes (each its own sshd, bootstrapped and deployed)...`);
const hl = await createLabHomelab({ nodes: names.map((name) => ({ name, services: ['web'] })) });
try {
  names.forEach((n) => hl.bootstrap(n));
  const control = await openControl({ repoDir: hl.repoDir });
  await mapLimit(names, 4, async (node) => {
    for (const stage of ['prepare', 'deploy'] as const) {
      const out = await control.runStage({ node, stage });
      if (out.result !== 'ok') throw new Error(`${stage} on ${node}: ${out.result} ${out.message}`);
    }
  });

  const status = (args: string[]) => () => {
    const r = spawnSync('node', [BIN, 'status', '--json', '--repo', hl.repoDir, ...args], {
      encoding: 'utf8',
    });
    const nodes = (JSON.parse(r.stdout) as { nodes: Array<{ reachable: boolean }> }).nodes;
    if (nodes.length !== (args.length ? 1 : N) || !nodes.every((n) => n.reachable))
      throw new Error(`status failed: ${r.stdout}${r.stderr}`);
  };
  const one = await timeIt(RUNS, status(['--node', names[0]!]));
  const all = await timeIt(RUNS, status([]));

  // In-process refresh over open connections: what the TUI pays every refresh.
  await control.probeAll();
  const warm = await timeIt(RUNS, async () => {
    const probes = await control.probeAll();
    if (!probes.every((p) => p.reachable)) throw new Error('probe failed');
  });
  await control.close();

  // The same hosts for ansible and plain ssh.
  const inv = join(hl.dir, 'ansible.ini');
  writeFileSync(
    inv,
    names
      .map((n) => {
        const lab = hl.labs.get(n)!;
        return `${n} ansible_host=127.0.0.1 ansible_port=${lab.port} ansible_user=${lab.user} ansible_ssh_private_key_file=${lab.keyFile} ansible_ssh_common_args='-o UserKnownHostsFile=${lab.knownHostsFile}' root=${hl.rootOf(n)}`;
      })
      .join('\n') + '\n',
  );
  const ansible = (cpDir: string) => () => {
    execFileSync(
      'ansible',
      [
        'all',
        '-i',
        inv,
        '-f',
        String(N),
        '-m',
        'raw',
        '-a',
        'cat {{ root }}/state/deploy/current_stage',
      ],
      {
        stdio: 'ignore',
        env: {
          ...process.env,
          ANSIBLE_SSH_CONTROL_PATH_DIR: cpDir,
          ANSIBLE_HOST_KEY_CHECKING: 'True',
        },
      },
    );
  };
  const freshDir = () => mkdtempSync(join(tmpdir(), 'hl-ans-'));
  const ansCold = await timeIt(RUNS, () => ansible(freshDir())());
  const warmDir = freshDir();
  ansible(warmDir)();
  const ansWarm = await timeIt(RUNS, ansible(warmDir));

  /** Plain ssh to every node at once, each running what `command(node)` says. */
  const plainSsh =
    (command: (node: string) => string, extra: readonly string[] = []) =>
    async () => {
      await Promise.all(
        names.map(
          (n) =>
            new Promise<void>((resolve, reject) => {
              const lab = hl.labs.get(n)!;
              const child = spawn(
                'ssh',
                [
                  '-p',
                  String(lab.port),
                  '-i',
                  lab.keyFile,
                  '-o',
                  `UserKnownHostsFile=${lab.knownHostsFile}`,
                  '-o',
                  'BatchMode=yes',
                  ...extra,
                  `${lab.user}@127.0.0.1`,
                  '--',
                  command(n),
                ],
                { stdio: 'ignore' },
              );
              child.on('exit', (code) =>
                code === 0 ? resolve() : reject(new Error(`ssh ${n} exit ${code}`)),
              );
            }),
        ),
      );
    };
  const cat = (n: string) => `cat ${hl.rootOf(n)}/state/deploy/current_stage`;
  const ssh = await timeIt(RUNS, plainSsh(cat));
  const sshStatus = await timeIt(
    RUNS,
    plainSsh((n) => {
      const root = hl.rootOf(n);
      return `${root}/repo/scripts/deploy/deploy.sh status --root ${root} --node ${n}`;
    }),
  );
  const sshClassic = await timeIt(RUNS, plainSsh(cat, ['-o', 'KexAlgorithms=curve25519-sha256']));

  console.log(`\nstatus over loopback sshd, ${RUNS} runs each, median (min–max):\n`);
  console.log(
    table([
      ['what', 'time'],
      [`homelab status --json, 1 node (new process, cold ssh)`, one.text],
      [`homelab status --json, ${N} nodes (new process, cold ssh)`, all.text],
      [`probeAll, ${N} nodes over open connections (TUI refresh)`, warm.text],
      [`ansible all -m raw cat state, ${N} nodes, -f ${N}, cold`, ansCold.text],
      [`ansible all -m raw cat state, ${N} nodes, ControlPersist warm`, ansWarm.text],
      [`plain ssh cat state, ${N} nodes in parallel, cold`, ssh.text],
      [`plain ssh deploy.sh status, ${N} nodes in parallel, cold`, sshStatus.text],
      [`plain ssh cat state, classic key exchange (curve25519-sha256), cold`, sshClassic.text],
    ]),
  );
  console.log(
    `\n${N} nodes / 1 node: ${(median(all.samples) / median(one.samples)).toFixed(2)}x (goal <= 1.5x)`,
  );
  console.log(
    `homelab ${N} nodes / ansible cold: ${(median(all.samples) / median(ansCold.samples)).toFixed(2)} (goal <= 0.5)`,
  );
  rmSync(warmDir, { recursive: true, force: true });
} finally {
  await hl.cleanup();
}
