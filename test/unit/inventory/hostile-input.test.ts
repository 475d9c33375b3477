// Hostile and huge input: every bounded number, every value that would reach ssh, git or a shell,
// and files too large to check are refused with file:line:col and a fix; big legitimate
// inventories stay valid and fast; validate of any of it stays under 5 s and 500 MB in a child
// process; nothing is executed (canary files) and no stack trace is printed.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem } from '../../../src/core/problem.js';
import { loadInventory } from '../../../src/shell/inventory/load.js';
import { BASE, compose, filesFor, validate } from './helpers.js';
import type { Files } from './helpers.js';

const T = 'inventory/topology.yaml';
const ROOT = join(import.meta.dirname, '..', '..', '..');
const CHILD = join(import.meta.dirname, 'validate-child.ts');
const run = promisify(execFile);

const WORK = mkdtempSync(join(tmpdir(), 'homelab-hostile-'));
afterAll(() => rmSync(WORK, { recursive: true, force: true }));
/** A file that exists only if some value was executed by a shell. */
const CANARY = join(WORK, 'canary');

function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`fixture edit: "${from}" not found`);
  return text.replace(from, to);
}

/** BASE with `line` added to node mercury (indented as its other keys). */
function mercury(line: string): string {
  return edit(BASE, '    wave: 1\n', `    wave: 1\n    ${line}\n`);
}

function checkUrl(url: string): string {
  return `${BASE}        checks:\n          - http: ${JSON.stringify(url)}\n`;
}

const touch = `touch ${CANARY}`;

interface Case {
  readonly name: string;
  readonly topology: string;
  /** The first problem printed, exactly or (ending in "...") its start. */
  readonly expected: string;
}

const CASES: readonly Case[] = [
  {
    name: 'a wave of 100000000 (a gap check once ran for a minute and took 4 GB)',
    topology: edit(BASE, 'wave: 1', 'wave: 100000000'),
    expected: `${T}:10:11: nodes.mercury.wave: 100000000 is too big: must be at most 99`,
  },
  {
    name: 'wave 100',
    topology: edit(BASE, 'wave: 1', 'wave: 100'),
    expected: `${T}:10:11: nodes.mercury.wave: 100 is too big: must be at most 99`,
  },
  {
    name: 'ssh port out of range',
    topology: mercury('ssh: { port: 70000 }'),
    expected: `${T}:11:18: nodes.mercury.ssh.port: 70000 is too big: must be at most 65535`,
  },
  {
    name: 'connect timeout of a year',
    topology: mercury('ssh: { connectTimeout: 31536000 }'),
    expected: `${T}:11:28: nodes.mercury.ssh.connectTimeout: 31536000 is too big: must be at most 600`,
  },
  {
    name: 'check status out of range',
    topology: `${BASE}        checks:\n          - { http: "http://127.0.0.1/", status: 99999 }\n`,
    expected: `${T}:15:50: nodes.mercury.services[0].checks[0].status: 99999 is too big: must be at most 599`,
  },
  {
    name: 'a 10,000-character address',
    topology: edit(BASE, 'address: mercury', `address: ${'a'.repeat(10_000)}`),
    expected: `${T}:9:14: nodes.mercury.address: "${'a'.repeat(59)}…" (10000 characters) is not a usable address...`,
  },
  ...(
    [
      [
        'identityFile with $()',
        'identityFile',
        `/tmp/k$(${touch})`,
        'it contains "$", "(" and ")"',
      ],
      [
        'identityFile with backticks',
        'identityFile',
        `/tmp/\`${touch}\``,
        'it contains a backtick',
      ],
      [
        'knownHostsFile with a double quote',
        'knownHostsFile',
        '/tmp/kh"x',
        'it contains a double quote',
      ],
      ['knownHostsFile with a % token', 'knownHostsFile', '/tmp/%d/kh', 'it contains "%"'],
      [
        'identityFile that reads as an option',
        'identityFile',
        `-oProxyCommand=${touch}`,
        'it starts with "-", so ssh would read it as an option',
      ],
      ['knownHostsFile with a newline', 'knownHostsFile', '/tmp/a\nb', 'it contains a newline'],
    ] as const
  ).map(([name, key, value, flaw]): Case => ({
    name,
    topology: mercury(`ssh: { ${key}: ${JSON.stringify(value)} }`),
    expected: `${T}:11:${key === 'identityFile' ? 26 : 28}: nodes.mercury.ssh.${key}: ${JSON.stringify(value)} is not a usable file for ssh: ${flaw}. ssh reads it as a config value...`,
  })),
  ...(
    [
      ['check URL with $()', 'http://127.0.0.1/$(id)', 'it contains "$"'],
      ['check URL with a backtick', 'http://127.0.0.1/`id`', 'it contains "`"'],
      ['check URL with ;', 'http://127.0.0.1/;id', 'it contains ";"'],
      [
        'check URL with an option-like host',
        'http://-oProxyCommand=x/',
        'its host starts with "-", which a command would read as an option',
      ],
    ] as const
  ).map(([name, url, flaw]): Case => ({
    name,
    topology: checkUrl(url),
    expected: `${T}:15:19: nodes.mercury.services[0].checks[0].http: ${JSON.stringify(url)} is not a usable check URL: ${flaw}...`,
  })),
  {
    name: 'an ext:: git remote',
    topology: edit(BASE, '"ssh://git@saturn/srv/git/homelab.git"', `"ext::sh -c ${touch}"`),
    expected: `${T}:2:16: git.remote: an "ext::" remote makes Git run a command on every node that fetches...`,
  },
  {
    name: 'an option-like git remote',
    topology: edit(BASE, '"ssh://git@saturn/srv/git/homelab.git"', `"--upload-pack=${touch}"`),
    expected: `${T}:2:16: git.remote: must be a Git URL without whitespace, not starting with "-"...`,
  },
  {
    name: 'a topology over 1 MiB',
    topology: `${BASE}# ${'x'.repeat(1024 * 1024)}\n`,
    expected: `${T}: ${BASE.length + 1024 * 1024 + 3} bytes is too large to be checked (at most 1048576 bytes)...`,
  },
  {
    name: '100,000 levels of [ nesting',
    topology: `${BASE}x: ${'['.repeat(100_000)}\n`,
    expected: `${T}:14:68: YAML nested more than 64 levels deep: no homelab file needs that; flatten it`,
  },
  {
    name: '100,000 levels of - - - nesting',
    topology: `${BASE}${'- '.repeat(100_000)}x\n`,
    expected: `${T}:14:1: YAML nested more than 64 levels deep: no homelab file needs that; flatten it`,
  },
  {
    name: 'too many nodes',
    topology: `homelab: lab\ngit: { remote: "ssh://git@saturn/srv/git/homelab.git" }\nnodes:\n${Array.from(
      { length: 501 },
      (_, i) => `  n${i}: { address: n${i}, services: [web] }\n`,
    ).join('')}`,
    expected: `${T}:4:3: nodes: at most 500 nodes: split the homelab`,
  },
];

function matches(actual: string, expected: string): boolean {
  return expected.endsWith('...') ? actual.startsWith(expected.slice(0, -3)) : actual === expected;
}

/** 150 nodes sharing one `<<: *node` anchor: real, and once refused as an "alias attack". */
function bigTopology(nodes: number): string {
  const lines = [
    'homelab: big',
    'git: { remote: "ssh://git@saturn/srv/git/homelab.git" }',
    'x-node: &node',
    '  user: homelab',
    '  ssh: { connectTimeout: 5 }',
    'nodes:',
  ];
  for (let i = 0; i < nodes; i++)
    lines.push(
      `  n${i}:`,
      '    <<: *node',
      `    address: n${i}`,
      `    wave: ${i % 10}`,
      '    services: [web]',
    );
  return `${lines.join('\n')}\n`;
}

describe('hostile input is refused with file:line:col and a fix', () => {
  it.each(CASES)('$name', (c) => {
    const actual = validate(c.topology, filesFor(BASE));
    if (!matches(actual[0] ?? '', c.expected)) expect(actual[0]).toBe(c.expected);
    expect(existsSync(CANARY)).toBe(false);
  });

  it('150 nodes sharing one `<<: *node` anchor (under an x- key) are valid and fast', () => {
    const t = bigTopology(150);
    const files = filesFor(t);
    const started = performance.now();
    expect(validate(t, files)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

/** A repo on disk, for the child-process runs. */
function writeRepo(name: string, topology: string, files: Files): string {
  const dir = join(WORK, name);
  for (const [path, text] of Object.entries({ [T]: topology, ...files })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

interface ChildRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  /** Wall time of the whole process, the TypeScript loader's start-up included. */
  readonly wallMs: number;
  /** Time main() took. */
  readonly ms: number;
  readonly rssMiB: number;
}

async function child(args: readonly string[]): Promise<ChildRun> {
  const started = performance.now();
  const r = await run(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: WORK },
    timeout: 80_000,
    maxBuffer: 64 * 1024 * 1024,
  }).then(
    (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  );
  const wallMs = performance.now() - started;
  const cost = /validate-cost (\d+) (\d+)\n$/.exec(r.stderr);
  return {
    code: r.code,
    out: r.stdout,
    err: r.stderr.replace(/\n?validate-cost \d+ \d+\n$/, ''),
    wallMs,
    ms: cost ? Number(cost[1]) : Infinity,
    rssMiB: cost ? Number(cost[2]) / 1024 : Infinity,
  };
}

it('a 1 MiB line of hostile text in a mounted file is scanned in linear time', () => {
  for (const line of ['a.', '-a', 'a', 'password', '--password-', ' -u a'])
    for (const kind of ['yaml', 'conf']) {
      const files = {
        ...filesFor(BASE),
        [`hosts/mercury/caddy/x.${kind}`]: line.repeat((1024 * 1024 - 64) / line.length),
      };
      const started = performance.now();
      validate(BASE, files);
      expect(performance.now() - started).toBeLessThan(3000);
    }
}, 60_000);

describe('compose files validate cannot read as YAML are errors, never silently valid', () => {
  it.each([
    [
      'over 1 MiB',
      `${compose('caddy')}# ${'x'.repeat(1024 * 1024)}\n`,
      'bytes is too large to be checked (at most 1048576 bytes)',
    ],
    ['with a NUL byte', `${compose('caddy')}\0\n`, 'holds NUL bytes: a compose file is text'],
  ])('a compose file %s', async (name, text, message) => {
    const dir = writeRepo(`compose-${name.replace(/\W+/g, '-')}`, BASE, {
      ...filesFor(BASE),
      'hosts/mercury/caddy/docker-compose.yml': text,
    });
    const { inventory, problems } = await loadInventory(dir);
    expect(inventory).toBeUndefined();
    expect(problems.map(formatProblem)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^hosts/mercury/caddy/docker-compose\\.yml: .*${message.replace(/[()]/g, '\\$&')}`,
        ),
      ),
    ]);
  });
});

describe('validate as a process: bounded in time and memory, nothing run, no stack trace', () => {
  const figures: string[] = [];
  afterAll(() => {
    // The measured figures, for the report.
    console.log(`validate in a child process:\n${figures.join('\n')}`);
  });

  const RUNS: ReadonlyArray<readonly [string, string]> = [
    ['wave 100000000', edit(BASE, 'wave: 1', 'wave: 100000000')],
    [
      'billion laughs',
      [
        'a: &a [x, x, x, x, x, x, x, x, x, x]',
        ...'bcdefghi'.split('').map(
          (l, i) =>
            `${l}: &${l} [${Array(10)
              .fill(`*${'abcdefghi'[i] ?? ''}`)
              .join(', ')}]`,
        ),
      ].join('\n'),
    ],
    ['topology of 1 MiB + 1', `${BASE}# ${'x'.repeat(1024 * 1024)}\n`],
    [
      'ssh values with $() and backticks',
      mercury(`ssh: { identityFile: "/k$(${touch})", knownHostsFile: "/kh\`${touch}\`" }`),
    ],
    [
      '150 nodes sharing an anchor, one with wave 100',
      bigTopology(150).replace('wave: 9\n', 'wave: 100\n'),
    ],
  ];

  it.each(RUNS)(
    '%s',
    async (name, topology) => {
      const dir = writeRepo(
        name.replace(/\W+/g, '-'),
        topology,
        name.startsWith('150') ? {} : filesFor(BASE),
      );
      const r = await child(['validate', '--repo', dir]);
      figures.push(
        `  ${name}: main() ${r.ms} ms (process ${Math.round(r.wallMs)} ms), peak RSS ${r.rssMiB.toFixed(0)} MiB, exit ${r.code}`,
      );
      expect(r.ms).toBeLessThan(5000);
      expect(r.rssMiB).toBeLessThan(500);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/^inventory\/topology\.yaml/m);
      expect(`${r.out}${r.err}`).not.toMatch(/\n\s+at |Error:/);
      expect(existsSync(CANARY)).toBe(false);
    },
    90_000,
  );

  it('status on an inventory with hostile ssh values refuses, runs nothing, prints no stack', async () => {
    const topology = mercury(`ssh: { knownHostsFile: "/kh\\"x$(${touch})" }`);
    const dir = writeRepo('status-hostile', topology, filesFor(BASE));
    const r = await child(['status', '--repo', dir]);
    expect(r.code).not.toBe(0);
    expect(`${r.out}${r.err}`).toContain('inventory/topology.yaml:11:');
    expect(`${r.out}${r.err}`).not.toMatch(/\n\s+at |TypeError/);
    expect(existsSync(CANARY)).toBe(false);
  }, 90_000);
});
