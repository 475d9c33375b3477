// `homelab validate` and `homelab manifest` through main(): what a user sees and the exit code.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const FIXTURES = join(REPO, 'test/fixtures/inventories');

async function run(
  args: string[],
  cwd = '/',
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await main(args, { cwd, env, stdout, stderr, stdin: new PassThrough() });
  return { code, out, err };
}

const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

const BROKEN_LINES = [
  'hosts/alpha/cache/docker-compose.yml:5:23: services.cache.environment.REDIS_PASSWORD: REDIS_PASSWORD is set to a literal value: secrets must not be committed to Git. Put REDIS_PASSWORD=... in /opt/homelab/config/cache/.env on the node, write ${REDIS_PASSWORD} here instead, list REDIS_PASSWORD under the service\'s "secrets:" in inventory/topology.yaml, and change the committed password',
  'inventory/topology.yaml:7:16: nodes.alpha.transport: "tailscale" is not one of tailscale-ssh, ssh, local — did you mean "tailscale-ssh"?',
];

describe('homelab validate', () => {
  it('prints valid and exits 0 on the example homelab, found from a folder inside the repo', async () => {
    const r = await run(['validate'], join(REPO, 'hosts/venus'));
    expect(r).toEqual({ code: 0, out: 'valid: mesh-lab (4 nodes, 8 services)\n', err: '' });
  });

  it('prints valid for a fixture given with --repo', async () => {
    const r = await run(['validate', '--repo', join(FIXTURES, 'valid-small')]);
    expect(r).toEqual({ code: 0, out: 'valid: tiny (1 node, 1 service)\n', err: '' });
  });

  it('prints every problem sorted, one per line, and a count; exits 1; never the password', async () => {
    const r = await run(['validate'], '/', { HOMELAB_REPO: join(FIXTURES, 'broken') });
    expect(r.code).toBe(1);
    expect(r.out).toBe(`${BROKEN_LINES.join('\n')}\ninvalid: 2 problems\n`);
    expect(r.out).not.toContain('hunter2');
  });

  it('--json prints {valid, problems}', async () => {
    const r = await run(['validate', '--json', '--repo', join(FIXTURES, 'broken')]);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as {
      valid: boolean;
      problems: Array<{ file: string; line: number; col: number; field: string }>;
    };
    expect(json.valid).toBe(false);
    expect(json.problems.map((p) => `${p.file}:${p.line}:${p.col}:${p.field}`)).toEqual([
      'hosts/alpha/cache/docker-compose.yml:5:23:services.cache.environment.REDIS_PASSWORD',
      'inventory/topology.yaml:7:16:nodes.alpha.transport',
    ]);
    const ok = await run(['validate', '--json', '--repo', join(FIXTURES, 'valid-small')]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toEqual({ valid: true, problems: [] });
  });

  it('exits 2 with the usage on an unknown option or a stray argument', async () => {
    const r = await run(['validate', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain("homelab validate: Unknown option '--bogus'");
    expect(r.err).toContain('Usage: homelab validate [--json] [--repo DIR]');
    expect((await run(['validate', 'extra'])).code).toBe(2);
    expect((await run(['validate', '--repo'])).code).toBe(2);
  });

  it('exits 1 and says what it looked for when there is no repo', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homelab-cli-'));
    temps.push(dir);
    const r = await run(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `homelab validate: no homelab repo found: looked for inventory/topology.yaml in ${dir} and every folder above it; run inside the repo, pass --repo DIR or set HOMELAB_REPO (no homelab yet? \`homelab demo\` builds one to try)\n`,
    );
  });
});

describe('homelab manifest', () => {
  it('writes missing and stale manifests, leaves current ones, and --check reports without writing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homelab-cli-'));
    temps.push(dir);
    cpSync(join(FIXTURES, 'valid-small'), dir, { recursive: true });
    const file = join(dir, 'hosts/alpha/node.manifest');
    const good = readFileSync(file, 'utf8');

    expect(await run(['manifest', '--check', '--repo', dir])).toEqual({
      code: 0,
      out: 'unchanged  hosts/alpha/node.manifest\nall manifests up to date\n',
      err: '',
    });

    writeFileSync(file, good.replace('wave\t0', 'wave\t7'));
    expect((await run(['validate', '--repo', dir])).out).toBe(
      'hosts/alpha/node.manifest:7:1: out of date with inventory/topology.yaml (line 7 differs): run `homelab manifest` and commit the result\ninvalid: 1 problem\n',
    );
    const check = await run(['manifest', '--check', '--repo', dir]);
    expect(check).toEqual({
      code: 1,
      out: 'stale  hosts/alpha/node.manifest\n1 manifest(s) out of date: run `homelab manifest`\n',
      err: '',
    });
    expect(readFileSync(file, 'utf8')).not.toBe(good);

    expect(await run(['manifest', '--repo', dir])).toEqual({
      code: 0,
      out: 'updated  hosts/alpha/node.manifest\n1 manifest(s) written: commit them\n',
      err: '',
    });
    expect(readFileSync(file, 'utf8')).toBe(good);
    expect((await run(['validate', '--repo', dir])).code).toBe(0);

    rmSync(file);
    expect((await run(['manifest', '--repo', dir])).out).toBe(
      'created  hosts/alpha/node.manifest\n1 manifest(s) written: commit them\n',
    );
    expect(readFileSync(file, 'utf8')).toBe(good);
  });

  it('writes nothing from an invalid topology', async () => {
    const r = await run(['manifest', '--repo', join(FIXTURES, 'broken')]);
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      `${BROKEN_LINES.join('\n')}\nno manifest written: fix these 2 problems first (\`homelab validate\`)\n`,
    );
  });
});
