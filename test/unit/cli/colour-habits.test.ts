// The plain subcommands' colour (chalk): FORCE_COLOR=1 or a terminal adds colour escapes, NO_COLOR
// or a pipe adds none, and the text without the escapes is the same either way.
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { colourLevel, paintFor } from '../../../src/cli/colour.js';
import { statusStyle } from '../../../src/cli/commands/status.js';
import type { NodeSpec } from '../../../src/core/inventory/model.js';
import type { NodeStatusRecord } from '../../../src/core/protocol/events.js';
import { summarizeNode } from '../../../src/core/status/summary.js';
import { renderStatusTable } from '../../../src/core/status/table.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const BROKEN = join(REPO, 'test/fixtures/inventories/broken');
const ESC = /\x1b\[[0-9;]*m/g;
const plain = (s: string): string => s.replace(ESC, '');

async function validate(
  env: NodeJS.ProcessEnv,
  tty = false,
): Promise<{ out: string; err: string }> {
  const stdout = new PassThrough() as PassThrough & { isTTY?: boolean };
  stdout.isTTY = tty;
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  await main(['validate', '--repo', BROKEN], {
    cwd: '/',
    env,
    stdout,
    stderr,
    stdin: new PassThrough(),
  });
  return { out, err };
}

describe('colourLevel', () => {
  it.each([
    [{}, false, 0],
    [{}, true, 1],
    [{ TERM: 'dumb' }, true, 0],
    [{ NO_COLOR: '1' }, true, 0],
    [{ NO_COLOR: '' }, true, 1],
    [{ NO_COLOR: '1', FORCE_COLOR: '1' }, true, 0],
    [{ FORCE_COLOR: '1' }, false, 1],
    [{ FORCE_COLOR: '' }, false, 1],
    [{ FORCE_COLOR: 'true' }, false, 1],
    [{ FORCE_COLOR: '3' }, false, 3],
    [{ FORCE_COLOR: '0' }, true, 0],
    [{ FORCE_COLOR: 'false' }, true, 0],
  ] as const)('%o tty=%s -> %i', (env, tty, level) => {
    const stream = Object.assign(new PassThrough(), { isTTY: tty });
    expect(colourLevel(env, stream)).toBe(level);
  });
});

describe('homelab validate in colour', () => {
  it('FORCE_COLOR=1: locations dim, "invalid" red; the text is the plain one', async () => {
    const piped = await validate({});
    const forced = await validate({ FORCE_COLOR: '1' });
    expect(piped.out).not.toMatch(ESC);
    expect(forced.out).toContain(
      '\x1b[2minventory/topology.yaml:7:16\x1b[22m: nodes.alpha.transport',
    );
    expect(forced.out).toContain('\x1b[31minvalid:\x1b[39m');
    expect(plain(forced.out)).toBe(piped.out);
  });

  it('a terminal gets colour; NO_COLOR=1 on a terminal, or a pipe, gets none', async () => {
    const piped = await validate({});
    expect((await validate({}, true)).out).toMatch(ESC);
    expect(await validate({ NO_COLOR: '1' }, true)).toEqual(piped);
    expect(await validate({ NO_COLOR: '1', FORCE_COLOR: '1' })).toEqual(piped);
  });
});

describe('the status table in colour', () => {
  const HEAD = 'c0ffee0'.padEnd(40, '1');
  const spec = (name: string): NodeSpec => ({
    name,
    address: name,
    role: 'worker',
    tags: [],
    transport: 'ssh',
    user: 'homelab',
    root: '/opt/homelab',
    repo: '/opt/homelab/repo',
    wave: 0,
    ssh: { connectTimeout: 5 },
    services: [],
  });
  const status: NodeStatusRecord = {
    node: 'mercury',
    bootstrapped: true,
    repoCommit: HEAD,
    stage: 'deploy',
    stageStatus: 'failed',
    run: 'r',
    target: HEAD,
    deployed: HEAD,
    knownGood: HEAD,
    lock: null,
    services: [
      { name: 'web', project: 'x_web', state: 'running', health: 'healthy', containers: [] },
    ],
  };
  const rows = [
    summarizeNode(spec('mercury'), { reachable: true, status }, HEAD, 0),
    summarizeNode(
      spec('mars'),
      { reachable: false, reason: 'timeout', message: 'ssh: connect timed out' },
      HEAD,
      null,
    ),
  ];

  it('FORCE_COLOR=1: health and a failed stage coloured, the columns as without colour', () => {
    const stream = new PassThrough();
    const bare = renderStatusTable('h', rows);
    const off = renderStatusTable('h', rows, statusStyle(paintFor({ NO_COLOR: '1' }, stream)));
    const on = renderStatusTable('h', rows, statusStyle(paintFor({ FORCE_COLOR: '1' }, stream)));
    expect(off).toBe(bare);
    expect(on).toContain('\x1b[31munreachable\x1b[39m');
    expect(on).toContain('\x1b[31mdeploy failed\x1b[39m');
    expect(on).not.toBe(bare);
    expect(plain(on)).toBe(bare);
  });
});
