// `homelab scripts status|update`: the node scripts a homelab repo carries (scripts/deploy/,
// scripts/bootstrap/, scripts/VERSION) against the ones this installed tool ships. `update`
// replaces them as a reviewable change: it prints what changed and commits nothing.
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../command.js';
import { parseCommandArgs, REPO_OPTION } from '../args.js';
import { openCommandControl } from '../open-control.js';
import { collectStatus } from '../../shell/control/collect-status.js';
import { nodeScriptsLines, updateNodeScripts } from '../../shell/onboarding/node-scripts.js';
import {
  repoScriptsVersion,
  shippedScriptsVersion,
  toolVersion,
} from '../../shell/onboarding/versions.js';
import { findRepoRoot } from '../../shell/repo-root.js';

const USAGE = `Usage: homelab scripts status [--repo DIR]
       homelab scripts update [--repo DIR]

Nodes run scripts/deploy/deploy.sh from their own checkout of the homelab repo, so the repo carries
the node scripts; scripts/VERSION says which version. After upgrading homelab:

status   prints the version the repo carries and the one this tool ships, then the version each
         node runs (from its status record)
update   replaces scripts/deploy/, scripts/bootstrap/ and scripts/VERSION with the tool's; prints
         \`git status\` of them and commits nothing: review (git diff), commit, push, then deploy

  --repo DIR   the homelab repo (default: $HOMELAB_REPO, else the folder above holding inventory/)`;

function describe(carried: number | undefined, shipped: number): string {
  if (carried === undefined)
    return 'the repo has no scripts/VERSION (made before versioned scripts)';
  if (carried === shipped) return `up to date (v${carried})`;
  return carried < shipped
    ? `the repo carries v${carried}; this tool ships v${shipped}: run \`homelab scripts update\``
    : `the repo carries v${carried}, newer than this tool's v${shipped}: upgrade homelab`;
}

/** The subcommand and --repo; throws UsageError for anything else. Runs nothing. */
function parse(args: readonly string[]): { sub: 'status' | 'update'; repo: string | undefined } {
  const { values, positionals } = parseCommandArgs(args, REPO_OPTION, true);
  const sub = positionals[0];
  if (sub !== 'status' && sub !== 'update')
    throw new UsageError(
      sub === undefined ? 'missing subcommand: status or update' : `unknown subcommand "${sub}"`,
    );
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1] ?? ''}"`);
  return { sub, repo: values.repo };
}

async function runScripts(args: readonly string[], ctx: CommandContext): Promise<number> {
  const { sub, ...values } = parse(args);
  let repo: string;
  try {
    repo = findRepoRoot(ctx.cwd, ctx.env, values.repo);
  } catch (err) {
    ctx.stderr.write(`homelab scripts: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const shipped = shippedScriptsVersion();
  const carried = await repoScriptsVersion(repo);
  if (sub === 'status') {
    ctx.stdout.write(`node scripts: ${describe(carried, shipped)} (homelab ${toolVersion()})\n`);
    // What each node runs, from its status record (an invalid inventory said why already).
    const control = await openCommandControl(ctx, repo);
    if (!control) return 0;
    try {
      const report = await collectStatus(control);
      if (report.nodes.length > 0)
        ctx.stdout.write(`${(await nodeScriptsLines(repo, report.nodes)).join('\n')}\n`);
    } finally {
      await control.close();
    }
    return 0;
  }
  const changes = await updateNodeScripts(repo);
  if (changes.length === 0) {
    ctx.stdout.write(
      `node scripts: already the ones homelab ${toolVersion()} ships (v${shipped}); nothing changed\n`,
    );
    return 0;
  }
  ctx.stdout.write(
    [
      `node scripts: v${carried ?? '?'} -> v${shipped} (homelab ${toolVersion()}); ${changes.length} file(s) changed:`,
      ...changes.map((c) => `  ${c}`),
      '',
      'Nothing is committed. Review, commit and push, then deploy:',
      `  git diff -- scripts && git add -A scripts && git commit -m "Node scripts v${shipped}" && git push`,
      '',
    ].join('\n'),
  );
  return 0;
}

const command: Command = {
  name: 'scripts',
  summary: 'the node scripts the homelab repo carries: `scripts status`, `scripts update`',
  usage: USAGE,
  run: runScripts,
  parse,
};

export default command;
