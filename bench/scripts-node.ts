// A one-service node for the bench/ scripts that compare two versions of the node scripts: its
// SATURN clone's scripts/deploy are those of commit `rev` (undefined: this tree's), committed and
// cloned onto the node, nothing deployed yet.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { NodeFixture, REPO_ROOT } from '../test/support/node-fixture.js';

export async function scriptsNode(
  prefix: string,
  rev: string | undefined,
): Promise<{ fx: NodeFixture; sha: string }> {
  const fx = NodeFixture.create(prefix);
  if (rev !== undefined) {
    rmSync(join(fx.saturn, 'scripts', 'deploy'), { recursive: true, force: true });
    execFileSync('bash', [
      '-c',
      `git -C "$1" archive "$2" scripts/deploy | tar -x -C "$3"`,
      '_',
      REPO_ROOT,
      rev,
      fx.saturn,
    ]);
  }
  await fx.addService('web', { healthRetries: 30 });
  fx.writeManifest();
  const sha = fx.commit('one service');
  fx.cloneNode();
  return { fx, sha };
}
