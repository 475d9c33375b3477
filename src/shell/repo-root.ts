// Finds the homelab repo: --repo DIR, else $HOMELAB_REPO, else the nearest folder above the working
// directory that holds inventory/topology.yaml.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const MARKER = join('inventory', 'topology.yaml');

export function findRepoRoot(cwd: string, env: NodeJS.ProcessEnv, flag?: string): string {
  const given: Array<[string | undefined, string]> = [
    [flag, '--repo'],
    [env.HOMELAB_REPO, 'HOMELAB_REPO'],
  ];
  for (const [dir, source] of given) {
    if (dir === undefined || dir === '') continue;
    const abs = resolve(cwd, dir);
    if (!existsSync(join(abs, MARKER)))
      throw new Error(
        `${source} points at ${abs}, which has no ${MARKER}: give the folder of the homelab repo`,
      );
    return abs;
  }
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, MARKER))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(
    `no homelab repo found: looked for ${MARKER} in ${resolve(cwd)} and every folder above it; ` +
      'run inside the repo, pass --repo DIR or set HOMELAB_REPO (no homelab yet? `homelab demo` builds one to try)',
  );
}
