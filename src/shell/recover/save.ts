// Saved copies of recover-node prompts: <state>/recover/<node>-<timestamp>.md, private to the user.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stateDir } from '../control/control.js';
import { writeFileAtomic } from '../fs/atomic-write.js';

/** `2026-11-29T16:05:26.123Z` -> `20261129T160526Z` */
export function fileStamp(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

/** Writes the (already redacted) prompt atomically with mode 0600; returns its path. */
export async function savePrompt(
  env: NodeJS.ProcessEnv,
  node: string,
  generatedAt: string,
  text: string,
): Promise<string> {
  const dir = join(stateDir(env), 'recover');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${node}-${fileStamp(generatedAt)}.md`);
  await writeFileAtomic(file, text, { mode: 0o600 });
  return file;
}
