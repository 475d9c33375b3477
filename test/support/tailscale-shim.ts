// Puts the `tailscale` test shim (test/support/tailscale-shim/tailscale) first on PATH for a
// runner, pointed at a loopback sshd from ./sshd.ts. Pass `env` to createRunner(node, { env }).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SshdLab } from './sshd.js';

export const SHIM_DIR = fileURLToPath(new URL('./tailscale-shim', import.meta.url));

export interface TailscaleShim {
  /** Environment for the runner: PATH with the shim first, and the shim's target server. */
  readonly env: NodeJS.ProcessEnv;
  /** File where the shim logs each call's arguments (one line per call, shell-quoted). */
  readonly logFile: string;
}

export function tailscaleShim(lab: SshdLab): TailscaleShim {
  const logFile = join(lab.dir, 'tailscale-calls.log');
  return {
    logFile,
    env: {
      PATH: `${SHIM_DIR}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOMELAB_SHIM_PORT: String(lab.port),
      HOMELAB_SHIM_KEY: lab.keyFile,
      HOMELAB_SHIM_KNOWN_HOSTS: lab.knownHostsFile,
      HOMELAB_SHIM_LOG: logFile,
    },
  };
}
