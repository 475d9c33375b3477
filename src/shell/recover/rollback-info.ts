// What a rollback would do, from SATURN's Git: the known-good commit, its subject, and the paths below
// hosts/<node>/ that differ from the target (what rolling back changes back).
import { execa } from 'execa';
import type { RollbackInfo } from '../../core/node/types.js';
import { changedPaths, hasCommit } from '../git.js';

export async function commitSubject(repoDir: string, sha: string): Promise<string> {
  if (!(await hasCommit(repoDir, sha))) return '';
  const r = await execa('git', ['-C', repoDir, 'log', '-1', '--format=%s', sha], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : '';
}

export async function rollbackInfo(
  repoDir: string,
  node: string,
  knownGood: string,
  target: string,
): Promise<RollbackInfo | undefined> {
  if (!knownGood) return undefined;
  const folder = `hosts/${node}/`;
  const [subject, changes] = await Promise.all([
    commitSubject(repoDir, knownGood),
    target &&
    target !== knownGood &&
    (await hasCommit(repoDir, target)) &&
    (await hasCommit(repoDir, knownGood))
      ? changedPaths(repoDir, knownGood, target, folder)
      : Promise.resolve([] as string[]),
  ]);
  return {
    knownGood,
    subject,
    target,
    changes: changes.map((p) => (p.startsWith(folder) ? p.slice(folder.length) : p)),
  };
}
