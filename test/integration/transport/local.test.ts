// The local transport (the control node itself): argv runs directly, no shell, no quoting.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/core/inventory/model.js';
import { createRunner } from '../../../src/shell/transport/runner.js';
import { collect, hex, HEX_ARGS, NASTY_ARGS } from './helpers.js';

const node: NodeSpec = {
  name: 'saturn',
  address: 'localhost',
  role: 'control',
  tags: [],
  transport: 'local',
  user: 'root',
  root: '/opt/homelab',
  repo: '/opt/homelab/repo',
  wave: 0,
  ssh: { connectTimeout: 5 },
  services: [],
};

/** Running (a zombie waiting for a reaper counts as gone: it holds no pipe and runs nothing). */
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('local transport', () => {
  const runner = createRunner(node);
  const tmp = mkdtempSync('/tmp/hl-local-');
  afterAll(async () => {
    await runner.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('passes arguments untouched (no shell in between)', async () => {
    const { result, out } = await collect(runner, [...HEX_ARGS, ...NASTY_ARGS]);
    expect(result.exitCode).toBe(0);
    expect(out).toEqual(NASTY_ARGS.map(hex));
    const marker = join(tmp, 'pwned');
    const echoed = await collect(runner, ['echo', `$(touch ${marker})`, ';', 'touch', marker]);
    expect(echoed.out).toEqual([`$(touch ${marker}) ; touch ${marker}`]);
  });

  it('streams lines, feeds input, returns the exit code', async () => {
    const { result, out, err } = await collect(
      runner,
      ['bash', '-c', 'cat; echo err >&2; exit 4'],
      { input: 'a\nb' },
    );
    expect(out).toEqual(['a', 'b']);
    expect(err).toEqual(['err']);
    expect(result).toMatchObject({ exitCode: 4, cancelled: false });
    expect(result.unreachable).toBeUndefined();
  });

  it('reports a missing program as command-not-found', async () => {
    const { result } = await collect(runner, ['homelab-no-such-program']);
    expect(result.exitCode).toBeNull();
    expect(result.unreachable?.reason).toBe('command-not-found');
  });

  it('cancel kills the whole process group, including a grandchild holding the pipe', async () => {
    const controller = new AbortController();
    let grandchild = 0;
    let abortedAt = 0;
    const result = await runner.run(['bash', '-c', 'sleep 30 & echo "$!"; wait'], {
      signal: controller.signal,
      onStdout: (line) => {
        grandchild = Number(line);
        abortedAt = performance.now();
        controller.abort();
      },
    });
    const latency = performance.now() - abortedAt;
    expect(result).toMatchObject({ cancelled: true, exitCode: null });
    expect(latency).toBeLessThan(1000);
    expect(grandchild).toBeGreaterThan(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(grandchild)).toBe(false);
  });

  it('does not wait for a background grandchild that keeps the pipe after the command exits', async () => {
    const t0 = performance.now();
    const { result, out } = await collect(runner, ['bash', '-c', 'sleep 20 & echo "$!"; exit 0']);
    const took = performance.now() - t0;
    expect(result.exitCode).toBe(0);
    expect(took).toBeLessThan(3000);
    process.kill(Number(out[0]), 'SIGKILL');
  });

  it('a signal that is already aborted runs nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const marker = join(tmp, 'ran');
    const result = await runner.run(['touch', marker], { signal: controller.signal });
    expect(result.cancelled).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(marker)).toBe(false);
  });
});
