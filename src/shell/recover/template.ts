// The recover-node template: the homelab repo's own prompts/recover-node.md when it has one (the
// operator edits it there), else the copy shipped with this tool.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPLATE_PATH = join('prompts', 'recover-node.md');

/** src/shell/recover/ and dist/shell/recover/ are both three levels below the package root. */
export const BUILTIN_TEMPLATE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', TEMPLATE_PATH);

export async function loadTemplate(repoDir: string): Promise<{ readonly text: string; readonly path: string }> {
  for (const path of [join(repoDir, TEMPLATE_PATH), BUILTIN_TEMPLATE]) {
    try {
      return { text: await readFile(path, 'utf8'), path };
    } catch {
      // try the next one
    }
  }
  throw new Error(`no recover-node template: neither ${join(repoDir, TEMPLATE_PATH)} nor ${BUILTIN_TEMPLATE} can be read`);
}
