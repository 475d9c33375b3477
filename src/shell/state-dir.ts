// Where SATURN keeps its own files between runs (saved recover prompts, the secret scan's cache).
import { homedir } from 'node:os';
import { join } from 'node:path';

export function stateDir(env: NodeJS.ProcessEnv): string {
  return (
    env.HOMELAB_STATE_DIR ??
    join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'homelab')
  );
}
