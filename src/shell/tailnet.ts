// Asks the local tailscale for the tailnet's state; bounded, never throws.
import { execa } from 'execa';
import { parseTailscaleStatus, type Tailnet } from '../core/tailnet.js';

export async function readTailnet(env: NodeJS.ProcessEnv = process.env): Promise<Tailnet> {
  const r = await execa('tailscale', ['status', '--json'], {
    env,
    reject: false,
    timeout: 3000,
    stdin: 'ignore',
  });
  if ((r as { code?: string }).code === 'ENOENT') return { state: 'missing' };
  if (r.timedOut) return { state: 'unknown', message: 'tailscale status did not answer in 3 s' };
  if (r.stdout.trim().startsWith('{')) return parseTailscaleStatus(r.stdout);
  const said = (r.stderr || r.stdout).trim().split('\n').at(-1) ?? '';
  return /stopped/i.test(said)
    ? { state: 'down', backend: 'Stopped' }
    : { state: 'unknown', message: said || `exit ${r.exitCode}` };
}
