// `homelab manifest`: writes hosts/<node>/node.manifest for every node of a valid topology.
import type { Command, CommandContext } from '../command.js';
import { parseCommandArgs, REPO_OPTION } from '../args.js';
import { formatProblem } from '../../core/problem.js';
import { loadInventory } from '../../shell/inventory/load.js';
import { syncManifests } from '../../shell/inventory/manifests.js';
import { findRepoRoot } from '../../shell/repo-root.js';

const USAGE = `Usage: homelab manifest [--check] [--repo DIR]

Writes hosts/<node>/node.manifest for every node from inventory/topology.yaml (see
docs/node-manifest.md). Everything else must validate first. Commit the result.

  --check      write nothing; exit 1 when a manifest is missing or out of date
  --repo DIR   the homelab repo (default: $HOMELAB_REPO, else the folder above holding inventory/)`;

function parse(args: readonly string[]): { check: boolean; repo: string | undefined } {
  const { values } = parseCommandArgs(args, { check: { type: 'boolean' }, ...REPO_OPTION });
  return { check: values.check === true, repo: values.repo };
}

export async function runManifest(args: readonly string[], ctx: CommandContext): Promise<number> {
  const opts = parse(args);
  let repo: string;
  try {
    repo = findRepoRoot(ctx.cwd, ctx.env, opts.repo);
  } catch (err) {
    ctx.stderr.write(`homelab manifest: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const { inventory, problems } = await loadInventory(repo, { manifests: false });
  if (!inventory) {
    ctx.stdout.write(problems.map((p) => `${formatProblem(p)}\n`).join(''));
    ctx.stdout.write(
      `no manifest written: fix these ${problems.length} problems first (\`homelab validate\`)\n`,
    );
    return 1;
  }
  const results = await syncManifests(repo, inventory, { check: opts.check });
  for (const r of results) ctx.stdout.write(`${r.state}  ${r.path}\n`);
  const changed = results.filter((r) => r.state !== 'unchanged').length;
  if (opts.check) {
    ctx.stdout.write(
      changed === 0
        ? 'all manifests up to date\n'
        : `${changed} manifest(s) out of date: run \`homelab manifest\`\n`,
    );
    return changed === 0 ? 0 : 1;
  }
  ctx.stdout.write(
    changed === 0 ? 'all manifests up to date\n' : `${changed} manifest(s) written: commit them\n`,
  );
  return 0;
}

const command: Command = {
  name: 'manifest',
  summary: 'write hosts/<node>/node.manifest from the topology (--check: report stale ones)',
  usage: USAGE,
  run: runManifest,
  parse,
};

export default command;
