// Benchmark: a fleet deploy. N loopback sshd nodes (1, 5, 10, 20), each with one service whose
// compose file changed, deployed three ways in alternating rounds in one run:
//   homelab  `homelab deploy --yes` (every node in one wave: one run per node, in parallel)
//   ansible  `ansible-playbook -f N`: raw git fetch + checkout, then `docker compose up -d --wait`
//   floor    `docker compose up -d --wait` of every node's project at once (no ssh, no git)
// then a no-change `homelab deploy --yes` of the whole fleet, and where one node's deploy spends its
// time (ssh, git, compose, health wait), read from the node's own records. The 1-minute load
// average is noted with every figure: the machine is shared.
//
//   npm run build && npx tsx bench/fleet.ts [--nodes 1,5,10,20] [--rounds 3] [--no-change]
//
// --no-change: only the no-change deploy (the largest --nodes, --rounds times), with where its time
// goes: the homelab process's own start and inventory read, the status calls, the rest.
//
// Needs root and the lab (scripts/dev/setup-lab.sh): Docker with Compose v2, sshd, ansible. Each
// node is its own sshd on 127.0.0.1 with its own root, bootstrapped and deployed first. The
// service is busybox httpd with a 1 s healthcheck: every way waits for the first healthy answer.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { manifestPath, renderManifest } from '../src/core/inventory/manifest.js';
import { composeProject } from '../src/core/inventory/model.js';
import { parseTopology } from '../src/core/inventory/parse.js';
import type { NodeEvent, Stage } from '../src/core/protocol/events.js';
import { openControl } from '../src/shell/control/control.js';
import { mapLimit } from '../src/shell/fanout.js';
import { createLabHomelab } from '../test/support/lab-homelab.js';
import { median, ms, table } from './measure.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1,5,10,20' },
    rounds: { type: 'string', default: '3' },
    'no-change': { type: 'boolean', default: false },
  },
});
const NO_CHANGE_ONLY = values['no-change'];
const SIZES = values.nodes.split(',').map(Number);
const ROUNDS = Number(values.rounds);
const MAX = Math.max(...SIZES);
const BIN = join(import.meta.dirname, '..', 'bin', 'homelab.js');
const load = (): number => loadavg()[0]!;

// Names unique to this run: a run's compose projects never meet an earlier run's (its cleanup may
// still be taking them down on a loaded machine).
const RUN = Math.random().toString(36).slice(2, 6);
const names = Array.from({ length: MAX }, (_, i) => `f${RUN}${String(i + 1).padStart(2, '0')}`);
console.error(`setting up ${MAX} nodes (each its own sshd, bootstrapped and deployed)...`);
const hl = await createLabHomelab({ nodes: names.map((name) => ({ name, services: ['web'] })) });
const ansDirs: string[] = [];
try {
  // Every node in wave 0: the three ways deploy the same set of nodes at once.
  const topoFile = join(hl.repoDir, 'inventory', 'topology.yaml');
  const topo = readFileSync(topoFile, 'utf8').replace(/^ {4}wave: \d+$/gm, '    wave: 0');
  writeFileSync(topoFile, topo);
  const parsed = parseTopology(topo);
  if (!parsed.inventory) throw new Error('bench topology is invalid');
  for (const node of parsed.inventory.nodes)
    writeFileSync(
      join(hl.repoDir, manifestPath(node.name)),
      renderManifest(parsed.inventory, node),
    );
  // A shared machine under a load of 40 answers a healthcheck late: healthy at the first answer
  // as before, unhealthy only after a minute of failures (every way alike).
  for (const n of names) {
    const f = join(hl.repoDir, 'hosts', n, 'web', 'docker-compose.yml');
    writeFileSync(
      f,
      readFileSync(f, 'utf8')
        .replace(/^ {6}timeout: .*$/m, '      timeout: 10s')
        .replace(/^ {6}retries: .*$/m, '      retries: 60'),
    );
  }
  hl.commit('every node in wave 0, healthchecks for a loaded machine');
  names.forEach((n) => hl.bootstrap(n));
  const setup = await openControl({ repoDir: hl.repoDir });
  // One `up` run per node (prepare, deploy and verify of HEAD), four nodes at a time.
  await mapLimit(names, 4, async (node) => {
    const plan = await setup.planStage(node, 'up');
    if (plan.refusal) throw new Error(`up on ${node}: ${plan.refusal}`);
    const out = await setup.runStage({ node, stage: 'up', commit: plan.commit });
    if (out.result !== 'ok') throw new Error(`up on ${node}: ${out.result} ${out.message}`);
  });
  await setup.close();

  const composeOf = (n: string): string =>
    join(hl.repoDir, 'hosts', n, 'web', 'docker-compose.yml');
  let change = 0;
  /** A new commit changing the compose file of the first `count` nodes (a label): a recreate. */
  const changeFleet = (count: number): { sha: string; mark: string } => {
    change += 1;
    const mark = `c${change}`;
    for (const n of names.slice(0, count)) {
      const text = readFileSync(composeOf(n), 'utf8');
      const label = `    labels: { bench.change: "${mark}" }`;
      writeFileSync(
        composeOf(n),
        /^ {4}labels: .*$/m.test(text)
          ? text.replace(/^ {4}labels: .*$/m, label)
          : text.replace(/^( {4}image: .*)$/m, `$1\n${label}`),
      );
    }
    return { sha: hl.commit(`bench change ${mark}`), mark };
  };
  /** Every one of the first `count` nodes runs the change, healthy. */
  const checkFleet = (count: number, mark: string, who: string): void => {
    const out = execFileSync(
      'docker',
      [
        'ps',
        '--filter',
        `label=bench.change=${mark}`,
        '--filter',
        'health=healthy',
        '--format',
        '{{.Label "com.docker.compose.project"}}',
      ],
      { encoding: 'utf8' },
    );
    const got = new Set(out.split('\n').filter(Boolean));
    const missing = names.slice(0, count).filter((n) => !got.has(composeProject(n, 'web')));
    if (missing.length > 0)
      throw new Error(`${who}: not healthy at ${mark}: ${missing.join(', ')}`);
  };

  const run = (file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn(file, args, {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const t0 = performance.now();
      // Each whole line stamped with the ms since the start as it arrived (the no-change phases).
      const reader = () => {
        let partial = '';
        return (d: Buffer): void => {
          const lines = (partial + d.toString()).split('\n');
          partial = lines.pop() ?? '';
          const at = Math.round(performance.now() - t0);
          for (const l of lines) out += `[${at}] ${l}\n`;
        };
      };
      child.stdout.on('data', reader());
      child.stderr.on('data', reader());
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`${file} ${args[0]} exit ${code}:\n${out}`)),
      );
    });

  // `homelab deploy` when the build has it, else its engine's calls: the Control's `up` on every
  // node at once, in this process (said in the output).
  const hasDeploy = spawnSync('node', [BIN, 'deploy', '--help'], { stdio: 'ignore' }).status === 0;
  if (!hasDeploy) console.error('this build has no `homelab deploy`: timing Control up runs');
  const controlUp = async (count: number): Promise<string> => {
    const control = await openControl({ repoDir: hl.repoDir });
    try {
      const outs = await Promise.all(
        names.slice(0, count).map(async (node) => {
          const plan = await control.planStage(node, 'up');
          if (plan.refusal) return `${node}: ${plan.refusal}`;
          const out = await control.runStage({ node, stage: 'up', commit: plan.commit });
          return out.result === 'ok' ? '' : `${node}: ${out.result} ${out.message}`;
        }),
      );
      const bad = outs.filter(Boolean);
      if (bad.length > 0) throw new Error(bad.join('\n'));
      return '';
    } finally {
      await control.close();
    }
  };
  const homelabDeploy = (count: number, extra: string[] = []): Promise<string> =>
    hasDeploy ? cliDeploy(count, extra) : controlUp(count);
  const cliDeploy = (count: number, extra: string[]): Promise<string> =>
    run('node', [
      BIN,
      'deploy',
      '--yes',
      '--repo',
      hl.repoDir,
      ...extra,
      ...names.slice(0, count).flatMap((n) => ['--node', n]),
    ]);
  /**
   * Where a no-change deploy's time went, from its --verbose lines (each status call's duration,
   * stamped by the bench as it arrived): before the first status call started (process start,
   * inventory, repo), the status calls (first start to last end), and after them (closing).
   */
  const noChangePhases = (out: string, total: number): Record<string, number> => {
    const calls = [
      ...out.matchAll(/^\[(\d+)\] homelab: ran \S+ exit \d+ ([\d.]+)(ms|s) .*deploy\.sh status/gm),
    ].map((m) => ({ end: Number(m[1]), took: Number(m[2]) * (m[3] === 's' ? 1000 : 1) }));
    if (calls.length !== MAX)
      throw new Error(`expected ${MAX} status calls in the no-change deploy, saw ${calls.length}`);
    const first = Math.min(...calls.map((c) => c.end - c.took));
    const last = Math.max(...calls.map((c) => c.end));
    return {
      'before the first status call (process start, inventory, repo)': first,
      'the status calls (first start to last end)': last - first,
      'after them (the walk, closing connections, exit)': total - last,
      'one status call (median)': median(calls.map((c) => c.took)),
      total,
    };
  };

  // The same hosts for ansible.
  const inv = join(hl.dir, 'ansible.ini');
  writeFileSync(
    inv,
    names
      .map((n) => {
        const lab = hl.labs.get(n)!;
        return `${n} ansible_host=127.0.0.1 ansible_port=${lab.port} ansible_user=${lab.user} ansible_ssh_private_key_file=${lab.keyFile} ansible_ssh_common_args='-o UserKnownHostsFile=${lab.knownHostsFile}' root=${hl.rootOf(n)} project=${composeProject(n, 'web')}`;
      })
      .join('\n') + '\n',
  );
  const play = join(hl.dir, 'deploy.yml');
  writeFileSync(
    play,
    [
      '- hosts: all',
      '  gather_facts: false',
      '  tasks:',
      '    - name: fetch and check out',
      '      raw: git -C {{ root }}/repo fetch -q origin && git -C {{ root }}/repo checkout -q --detach {{ sha }}',
      '    - name: compose up',
      '      raw: docker compose -p {{ project }} -f {{ root }}/repo/hosts/{{ inventory_hostname }}/web/docker-compose.yml up -d --wait',
      '',
    ].join('\n'),
  );
  const ansible = (count: number, sha: string): Promise<string> => {
    const cp = mkdtempSync(join(tmpdir(), 'hl-ans-'));
    ansDirs.push(cp);
    return run(
      'ansible-playbook',
      [
        '-i',
        inv,
        '-f',
        String(count),
        '--limit',
        names.slice(0, count).join(','),
        '-e',
        `sha=${sha}`,
        play,
      ],
      { ANSIBLE_SSH_CONTROL_PATH_DIR: cp, ANSIBLE_HOST_KEY_CHECKING: 'True' },
    );
  };
  const floor = (count: number): Promise<unknown> =>
    Promise.all(
      names
        .slice(0, count)
        .map((n) =>
          run('docker', [
            'compose',
            '-p',
            composeProject(n, 'web'),
            '-f',
            composeOf(n),
            'up',
            '-d',
            '--wait',
          ]),
        ),
    );

  type Way = 'homelab' | 'ansible' | 'floor';
  const ways: Way[] = ['homelab', 'ansible', 'floor'];
  const samples = new Map<string, { t: number[]; load: number[] }>();
  const record = (key: string, t: number, l: number): void => {
    const s = samples.get(key) ?? { t: [], load: [] };
    s.t.push(t);
    s.load.push(l);
    samples.set(key, s);
  };
  for (let round = 0; round < (NO_CHANGE_ONLY ? 0 : ROUNDS); round++) {
    for (const [k, count] of SIZES.entries()) {
      const order = ways.map((_, i) => ways[(i + round + k) % ways.length]!);
      for (const way of order) {
        const { sha, mark } = changeFleet(count);
        const l = load();
        const t0 = performance.now();
        if (way === 'homelab') await homelabDeploy(count);
        else if (way === 'ansible') await ansible(count, sha);
        else await floor(count);
        const t = performance.now() - t0;
        checkFleet(count, mark, way);
        record(`${way} ${count}`, t, l);
        console.error(`round ${round + 1} ${count} nodes ${way}: ${ms(t)} (load ${l.toFixed(1)})`);
      }
    }
  }

  // No change: every node is at HEAD and verified (one homelab deploy first, not timed; the
  // setup's runs already left them so with --no-change).
  if (!NO_CHANGE_ONLY) {
    const { mark } = changeFleet(MAX);
    await homelabDeploy(MAX);
    checkFleet(MAX, mark, 'homelab');
  }
  const phases: Array<Record<string, number>> = [];
  for (let i = 0; i < ROUNDS; i++) {
    const l = load();
    const t0 = performance.now();
    const out = await homelabDeploy(MAX, ['--verbose']);
    const total = performance.now() - t0;
    record(`nochange ${MAX}`, total, l);
    if (!/every selected node is up to date/.test(out))
      throw new Error(`the no-change deploy deployed something:\n${out}`);
    if (i === 0) console.error(out.split('\n').slice(-2).join('\n'));
    phases.push(noChangePhases(out, total));
  }

  // Where one node's time goes: the first node alone, through the Control (`homelab deploy`'s
  // engine), every node record timed by the node itself (same clock: one machine).
  const breakdown: Array<Record<string, number>> = [];
  for (let i = 0; i < (NO_CHANGE_ONLY ? 0 : ROUNDS); i++) {
    changeFleet(1);
    const control = await openControl({ repoDir: hl.repoDir });
    const node = names[0]!;
    const t0 = Date.now();
    const conn = await control.nodeRunner(node).run(['true']);
    if (conn.exitCode !== 0) throw new Error('ssh to the first node failed');
    const tConn = Date.now();
    const events: NodeEvent[] = [];
    // One `up` run (what `homelab deploy` starts per node), or the three stages where refused.
    const upPlan = await control.planStage(node, 'up');
    const runs: Stage[] = upPlan.refusal ? ['prepare', 'deploy', 'verify'] : ['up'];
    if (i === 0) console.error(`breakdown through ${runs.join(', ')} ${upPlan.refusal ?? ''}`);
    for (const stage of runs) {
      const plan = stage === 'up' ? upPlan : await control.planStage(node, stage);
      const out = await control.runStage({
        node,
        stage,
        commit: plan.commit,
        onLine: (l) => {
          if (l.kind === 'event') events.push(l.event);
        },
      });
      if (out.result !== 'ok') throw new Error(`${stage}: ${out.message}`);
    }
    const stages = ['prepare', 'deploy', 'verify'] as const;
    const tEnd = Date.now();
    await control.close();
    const ts = (pred: (e: NodeEvent) => boolean): number => {
      const e = events.find(pred);
      if (!e) throw new Error('a record is missing from the breakdown');
      return e.ts;
    };
    const step = (stage: string, name: string, status?: string) => (e: NodeEvent) =>
      e.type === 'step' &&
      e.stage === stage &&
      e.step === name &&
      (status === undefined || e.status === status);
    const start = (stage: string) => (e: NodeEvent) =>
      e.type === 'stage-start' && e.stage === stage;
    const end = (stage: string) => (e: NodeEvent) => e.type === 'stage-end' && e.stage === stage;
    const git = ts(step('prepare', 'checkout')) - ts(start('prepare'));
    const prepCompose = ts(end('prepare')) - ts(step('prepare', 'docker'));
    const dockerCheck = ts(step('prepare', 'docker')) - ts(step('prepare', 'checkout'));
    const up = ts(step('deploy', 'compose-up', 'ok')) - ts(step('deploy', 'compose-up', 'start'));
    const deployPre = ts(step('deploy', 'compose-up', 'start')) - ts(start('deploy'));
    const health = ts(step('verify', 'verify-service', 'ok')) - ts(start('verify'));
    const stageTime = stages.reduce((s, st) => s + ts(end(st)) - ts(start(st)), 0);
    breakdown.push({
      'ssh connection (first command)': tConn - t0,
      'git fetch + checkout (prepare)': git,
      'docker and compose versions (prepare)': dockerCheck,
      'secrets + compose config (prepare)': prepCompose,
      'deploy before compose up (git status, ps, config hash)': deployPre,
      'compose up (recreate)': up,
      'verify: health wait + checks': health,
      'the three stages on the node': stageTime,
      'SATURN around them (plans, probes, runs starting and ending)': tEnd - tConn - stageTime,
      'total after the connection': tEnd - tConn,
    });
  }

  const row = (key: string, label: string): string[] => {
    const s = samples.get(key);
    if (!s) return [label, '-', '-'];
    return [
      label,
      `${ms(median(s.t))} (${ms(Math.min(...s.t))}–${ms(Math.max(...s.t))})`,
      `${Math.min(...s.load).toFixed(1)}–${Math.max(...s.load).toFixed(1)}`,
    ];
  };
  console.log(
    `\nfleet deploy over loopback sshd, one changed service per node, ${ROUNDS} rounds, median (min–max):\n`,
  );
  const rows: string[][] = [
    [
      'nodes',
      'homelab deploy --yes',
      'ansible-playbook -f N',
      'floor (compose up --wait, all at once)',
      'homelab / ansible',
      'homelab / floor',
      'load (1 min)',
    ],
  ];
  for (const count of NO_CHANGE_ONLY ? [] : SIZES) {
    const m = (w: Way) => median(samples.get(`${w} ${count}`)!.t);
    const loads = ways.flatMap((w) => samples.get(`${w} ${count}`)!.load);
    rows.push([
      String(count),
      row(`homelab ${count}`, '')[1]!,
      row(`ansible ${count}`, '')[1]!,
      row(`floor ${count}`, '')[1]!,
      `${(m('homelab') / m('ansible')).toFixed(2)}x`,
      `${(m('homelab') / m('floor')).toFixed(2)}x`,
      `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
    ]);
  }
  if (!NO_CHANGE_ONLY) console.log(table(rows));
  console.log(`\nno-change deploy, ${MAX} nodes (goal < 3 s):\n`);
  console.log(
    table([
      ['what', 'time', 'load (1 min)'],
      row(`nochange ${MAX}`, `homelab deploy --yes, ${MAX} nodes, nothing changed`),
    ]),
  );
  console.log(`\nwhere the no-change deploy's time went, median of ${ROUNDS}:\n`);
  const phaseKeys = Object.keys(phases[0]!);
  console.log(
    table([['where', 'time'], ...phaseKeys.map((k) => [k, ms(median(phases.map((p) => p[k]!)))])]),
  );
  if (!NO_CHANGE_ONLY) {
    console.log(
      `\none node, one changed service, prepare -> deploy -> verify through the Control, median of ${ROUNDS}:\n`,
    );
    const keys = Object.keys(breakdown[0]!);
    console.log(
      table([['where', 'time'], ...keys.map((k) => [k, ms(median(breakdown.map((b) => b[k]!)))])]),
    );
  }
} finally {
  for (const d of ansDirs) rmSync(d, { recursive: true, force: true });
  await hl.cleanup();
}
