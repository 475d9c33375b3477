// The demo homelab as `homelab demo` builds it: a valid inventory, bootstrapped nodes that the
// real deploy.sh recognises, one node shipped without its secret.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CommandContext } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import { buildDemo, type Demo } from '../../src/shell/demo/build.js';
import { loadInventory } from '../../src/shell/inventory/load.js';

let demo: Demo;

/** A context whose stdin and stdout are not terminals (a pipe, cron, CI). */
function pipes(cwd: string): { ctx: CommandContext; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return {
    ctx: { cwd, env: { ...process.env, CI: 'true' }, stdout, stderr, stdin: new PassThrough() },
    out: () => out,
    err: () => err,
  };
}
const dir = mkdtempSync(join(tmpdir(), 'homelab-demo-test-'));

beforeAll(async () => {
  demo = await buildDemo({ dir: join(dir, 'lab') });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('demo homelab', () => {
  test('SATURN repo holds a valid inventory: four local nodes in three waves, manifests in sync', async () => {
    const { inventory, problems } = await loadInventory(demo.repoDir);
    expect(problems).toEqual([]);
    expect(inventory?.nodes.map((n) => [n.transport, n.wave])).toEqual([
      ['local', 0],
      ['local', 1],
      ['local', 1],
      ['local', 2],
    ]);
    // Every node root lives inside the demo folder, and ports are distinct.
    for (const n of demo.nodes) expect(n.root.startsWith(demo.dir)).toBe(true);
    const ports = demo.nodes.flatMap((n) => n.services.map((s) => s.port));
    expect(new Set(ports).size).toBe(ports.length);
  });

  test('each node is bootstrapped: its checkout is at the remote HEAD and holds the real deploy.sh', () => {
    const head = execFileSync('git', ['-C', demo.repoDir, 'rev-parse', 'HEAD'], {
      encoding: 'utf8',
    }).trim();
    for (const n of demo.inventory.nodes) {
      expect(
        execFileSync('git', ['-C', n.repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(),
      ).toBe(head);
      expect(readFileSync(join(n.repo, 'scripts/deploy/deploy.sh'), 'utf8')).toBe(
        readFileSync('scripts/deploy/deploy.sh', 'utf8'),
      );
      const out = execFileSync(
        'bash',
        [join(n.repo, 'scripts/deploy/deploy.sh'), 'status', '--root', n.root, '--node', n.name],
        { encoding: 'utf8' },
      );
      const record = out.split('\n').find((l) => l.startsWith('@homelab/1 status '));
      expect(record, out).toBeDefined();
      expect(JSON.parse(record!.slice('@homelab/1 status '.length))).toMatchObject({
        node: n.name,
        bootstrapped: true,
        stage: '',
      });
    }
  });

  test('one node ships without its secret, and the fix names the exact file', () => {
    const broken = demo.inventory.nodes.find((n) => n.name === demo.broken.node)!;
    expect(broken.services[0]?.secrets).toEqual(['NOTES_TOKEN']);
    expect(existsSync(demo.broken.envFile)).toBe(false);
    expect(demo.broken.fix).toBe(
      `(umask 077; echo NOTES_TOKEN=demo-secret >> ${broken.root}/config/notes/.env)`,
    );
    expect(demo.broken.fixLines).toEqual([
      `cd ${broken.root}/config/notes`,
      'umask 077; echo NOTES_TOKEN=demo-secret >> .env',
    ]);
  });

  test('the fix, run as shown, creates the .env with mode 0600 and the secret', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'homelab-demo-fix-'));
    try {
      const envFile = join(scratch, '.env');
      // The one-line form and the two-line form, each in a fresh shell as an operator would.
      execFileSync('bash', ['-c', demo.broken.fix.replace(demo.broken.envFile, envFile)]);
      expect(statSync(envFile).mode & 0o777).toBe(0o600);
      rmSync(envFile);
      const lines = [`cd ${scratch}`, ...demo.broken.fixLines.slice(1)];
      execFileSync('bash', ['-c', lines.join('\n')]);
      expect(statSync(envFile).mode & 0o777).toBe(0o600);
      expect(readFileSync(envFile, 'utf8')).toBe('NOTES_TOKEN=demo-secret\n');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  test('a second build into the same folder is refused', async () => {
    await expect(buildDemo({ dir: demo.dir })).rejects.toThrow(/not empty/);
  });

  test('`homelab` without a terminal prints the status table and exits without waiting for keys', async () => {
    for (const args of [[], ['--no-tui'], ['tui']]) {
      const io = pipes(demo.repoDir);
      const started = Date.now();
      const code = await main(args, io.ctx);
      expect(code, io.err()).toBe(1); // nothing deployed yet: not every node is healthy
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(io.out()).toMatch(/^demo-lab · main @ [0-9a-f]{7}/);
      for (const n of demo.nodes)
        expect(io.out()).toMatch(new RegExp(`${n.name}\\s+\\d\\s+\\w+\\s+\\S+`));
    }
  });

  test('`homelab demo --no-tui` builds a demo, says where and how to fix the broken node, prints its status', async () => {
    const where = join(dir, 'second');
    const io = pipes(dir);
    expect(await main(['demo', '--no-tui', '--dir', where], io.ctx), io.err()).toBe(0);
    const out = io.out();
    expect(out).toContain(`demo homelab "demo-lab" built in ${where}`);
    expect(out).toMatch(
      /cd \S+\/nodes\/notes\/config\/notes\n\s+umask 077; echo NOTES_TOKEN=demo-secret >> \.env/,
    );
    expect(out).toContain(`homelab --repo ${where}/saturn`);
    expect(out).toMatch(/NODE\s+WAVE\s+ROLE\s+HEALTH/);
    const down = pipes(dir);
    expect(await main(['demo', '--down', where], down.ctx)).toBe(0);
    expect(existsSync(where)).toBe(false);
  });
});
