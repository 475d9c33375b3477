// SATURN's state folder: $HOMELAB_STATE_DIR, else $XDG_STATE_HOME/homelab, else ~/.local/state/homelab.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function homelabStateDir(env: NodeJS.ProcessEnv): string {
  if (env.HOMELAB_STATE_DIR) return env.HOMELAB_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'homelab');
  return join(env.HOME || homedir(), '.local', 'state', 'homelab');
}
