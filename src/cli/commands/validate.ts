// `homelab validate`: checks inventory/topology.yaml and hosts/ and prints every problem at once.
import type { Command, CommandContext } from '../command.js';
import { parseCommandArgs, REPO_OPTION } from '../args.js';
import { formatProblem, type Problem } from '../../core/problem.js';
import { paintFor, warningLines, type Paint } from '../colour.js';
import { loadInventory } from '../../shell/inventory/load.js';
import { repoWarnings } from '../../shell/onboarding/repo-warnings.js';
import { findRepoRoot } from '../../shell/repo-root.js';

const USAGE = `Usage: homelab validate [--json] [--repo DIR]

Checks inventory/topology.yaml, the compose files under hosts/ and each node's node.manifest.
Prints "valid: ..." and exits 0, or every problem as FILE:LINE:COL: FIELD: MESSAGE and exits 1.

  --json       print {"valid": bool, "problems": [{file, line, col, field, message}]}
  --repo DIR   the homelab repo (default: $HOMELAB_REPO, else the folder above holding inventory/)`;

function parse(args: readonly string[]): { json: boolean; repo: string | undefined } {
  const { values } = parseCommandArgs(args, { json: { type: 'boolean' }, ...REPO_OPTION });
  return { json: values.json === true, repo: values.repo };
}

/**
 * Problems quote folder names, node names and file content: control characters in them are shown
 * escaped (`\x1b`), so a folder named ESC[2J cannot clear the screen or write the clipboard.
 */
export function printable(text: string): string {
  return text.replace(
    /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** JSON.stringify escapes C0 controls but leaves DEL and the C1 range (8-bit CSI) raw. */
function jsonSafe(json: string): string {
  return json.replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A problem line with its location dimmed (the text is formatProblem's). */
function problemLine(p: Problem, paint: Paint): string {
  const text = printable(formatProblem(p));
  const where = printable(p.line > 0 ? `${p.file}:${p.line}:${p.col}` : p.file);
  return text.startsWith(`${where}: `)
    ? `${paint.dim(where)}: ${text.slice(where.length + 2)}`
    : text;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export async function runValidate(args: readonly string[], ctx: CommandContext): Promise<number> {
  const opts = parse(args);
  let repo: string;
  try {
    repo = findRepoRoot(ctx.cwd, ctx.env, opts.repo);
  } catch (err) {
    ctx.stderr.write(`homelab validate: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const { inventory, problems } = await loadInventory(repo);
  const warnings = inventory ? await repoWarnings(repo, inventory) : [];
  if (opts.json) {
    ctx.stdout.write(
      `${jsonSafe(JSON.stringify({ valid: inventory !== undefined, problems, ...(warnings.length > 0 ? { warnings } : {}) }, null, 2))}\n`,
    );
    return inventory ? 0 : 1;
  }
  const paint = paintFor(ctx.env, ctx.stdout);
  if (inventory) {
    const services = inventory.nodes.reduce((n, node) => n + node.services.length, 0);
    ctx.stdout.write(
      `${paint.ok('valid:')} ${inventory.homelab} (${plural(inventory.nodes.length, 'node')}, ${plural(services, 'service')})\n`,
    );
    ctx.stderr.write(warningLines(paintFor(ctx.env, ctx.stderr), warnings));
    return 0;
  }
  ctx.stdout.write(problems.map((p) => `${problemLine(p, paint)}\n`).join(''));
  ctx.stdout.write(`${paint.error('invalid:')} ${plural(problems.length, 'problem')}\n`);
  return 1;
}

const command: Command = {
  name: 'validate',
  summary: 'check the inventory, compose files and manifests; every problem with file:line:col',
  usage: USAGE,
  run: runValidate,
  parse,
};

export default command;
