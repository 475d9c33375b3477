// readTailnet runs the `tailscale` found on PATH. tailscale cannot be installed here, so each case
// puts an executable of that name first on PATH that answers as tailscale does.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTailnet } from '../../../src/shell/tailnet.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tailscaleThat(body: string): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'hl-tailscale-'));
  dirs.push(dir);
  writeFileSync(
    join(dir, 'tailscale'),
    `#!/usr/bin/env bash\n[[ "$1 $2" == "status --json" ]] || exit 64\n${body}\n`,
  );
  chmodSync(join(dir, 'tailscale'), 0o755);
  return { PATH: `${dir}:/usr/bin:/bin` };
}

describe('reading the tailnet on SATURN', () => {
  it('running: host, address and peers', async () => {
    const env = tailscaleThat(
      `echo '{"BackendState":"Running","Self":{"HostName":"saturn","TailscaleIPs":["100.64.0.1"]},"Peer":{"k":{"Online":true}}}'`,
    );
    expect(await readTailnet(env)).toEqual({
      state: 'running',
      host: 'saturn',
      ip: '100.64.0.1',
      peers: 1,
      online: 1,
    });
  });

  it('tailscaled stopped: the CLI says so on stderr and exits 1', async () => {
    const env = tailscaleThat(`echo 'Tailscale is stopped.' >&2; exit 1`);
    expect(await readTailnet(env)).toEqual({ state: 'down', backend: 'Stopped' });
  });

  it('not installed', async () => {
    expect(await readTailnet({ PATH: '/nonexistent' })).toEqual({ state: 'missing' });
  });
});
