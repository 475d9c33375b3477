// The recover-node template: the homelab repo's own prompts/recover-node.md when it has one (the
// operator edits it there), else the copy shipped with this tool.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';

export const TEMPLATE_PATH = join('prompts', 'recover-node.md');

export const BUILTIN_TEMPLATE = join(PACKAGE_ROOT, TEMPLATE_PATH);

export async function loadTemplate(
  repoDir: string,
): Promise<{ readonly text: string; readonly path: string }> {
  for (const path of [join(repoDir, TEMPLATE_PATH), BUILTIN_TEMPLATE]) {
    try {
      return { text: await readFile(path, 'utf8'), path };
    } catch {
      // try the next one
    }
  }
  throw new Error(
    `no recover-node template: neither ${join(repoDir, TEMPLATE_PATH)} nor ${BUILTIN_TEMPLATE} can be read`,
  );
}
