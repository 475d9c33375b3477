// `homelab init [DIR]`: a new homelab repo (src/shell/onboarding/init.ts), optionally with its first
// node (the same plan and checks as `homelab node add`), committed as the repo's first commit.
import { resolve } from 'node:path';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { isDnsLabel, isGitBranch, badNameMessage } from '../../core/inventory/names.js';
import { formatProblem } from '../../core/problem.js';
import { planAddNode, writePlan } from '../../shell/onboarding/add-node.js';
import { portFlaw, requestFromValues } from '../../core/onboarding/fields.js';
import { commitHomelab, initHomelab } from '../../shell/onboarding/init.js';
import {
  fieldFlaws,
  fieldValuesFromFlags,
  NODE_FLAG_OPTIONS,
  NODE_FLAGS_HELP,
} from '../node-flags.js';

const USAGE = `Usage: homelab init [DIR] [--name NAME] [--remote URL] [--branch B] [--no-origin]
                    [--node NAME --address ADDR [node add's flags]] [--example] [--force]

Creates a new homelab repo in DIR (default: the current folder): inventory/topology.yaml
(commented; with the first node when --node is given), inventory/templates/how_to_add_new_node.yaml,
hosts/, scripts/deploy/ and scripts/bootstrap/ (the node scripts this version of homelab ships;
scripts/VERSION records their version), prompts/recover-node.md, a .gitignore that keeps .env
files and overrides out, and a README; then \`git init\` and a first commit. It refuses a folder
that is not empty unless --force.

  DIR            the new repo's folder (created when missing)
  --name NAME    the homelab's name, a DNS label (default: from the folder's name)
  --remote URL   git.remote: where the nodes fetch the repo from (ssh://, git://, https:// or a
                 path for nodes on SATURN itself); also added as the repo's \`origin\` to push to
                 (default: a placeholder ssh:// URL to edit)
  --branch B     the branch nodes deploy (default main)
  --no-origin    do not add --remote as \`origin\` (when you push somewhere else)
  --example      the realistic example homelab of this project (4 nodes, 8 services) instead
  --force        write into a folder that is not empty (files of the same name are replaced)
  --node NAME    the first node; with --address and the other flags of \`homelab node add\`:
${NODE_FLAGS_HELP}`;

const OPTIONS = {
  ...NODE_FLAG_OPTIONS,
  name: { type: 'string' },
  remote: { type: 'string' },
  branch: { type: 'string' },
  'no-origin': { type: 'boolean' },
  example: { type: 'boolean' },
  force: { type: 'boolean' },
  node: { type: 'string' },
} as const;

/** The arguments as run() reads them; throws UsageError for a bad combination. Runs nothing. */
function parse(args: readonly string[], cwd = '/') {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, true);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1] ?? ''}"`);
  const dir = resolve(cwd, positionals[0] ?? '.');
  if (values.name !== undefined && !isDnsLabel(values.name))
    throw new UsageError(badNameMessage('homelab', values.name));
  if (values.branch !== undefined && !isGitBranch(values.branch))
    throw new UsageError(`branch ${JSON.stringify(values.branch)} is not a valid branch name`);
  if (values.remote !== undefined && (values.remote === '' || /\s/.test(values.remote)))
    throw new UsageError('--remote must be a Git URL or path without whitespace');
  const fields = fieldValuesFromFlags(values, cwd);
  if (values.node === undefined && Object.keys(fields).length > 0)
    throw new UsageError('node flags (--address, --service, ...) need --node NAME');
  if (values.node !== undefined && values.example)
    throw new UsageError('--example brings its own nodes: leave out --node');
  if (values.node !== undefined && fields.address === undefined)
    throw new UsageError('--node needs --address');
  return { values, dir, fields };
}

async function runInit(args: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, dir, fields } = parse(args, ctx.cwd);
  const fail = (msg: string): number => {
    ctx.stderr.write(`homelab init: ${msg}\n`);
    return 1;
  };
  if (values.node !== undefined) {
    const flaws = [
      ...fieldFlaws({ name: values.node, ...fields }, []),
      ...(values.port !== undefined ? [portFlaw(values.port)] : []),
    ].filter((x): x is string => x !== undefined);
    if (flaws.length > 0) return fail(`refused: ${flaws.join('; ')}`);
  }

  const made = await initHomelab({
    dir,
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(values.remote !== undefined ? { remote: values.remote } : {}),
    ...(values.branch !== undefined ? { branch: values.branch } : {}),
    example: values.example === true,
    force: values.force === true,
  });
  if (!made.ok) return fail(made.reason);
  const paths = [...made.written];
  if (values.node !== undefined) {
    const request = requestFromValues(
      { name: values.node, role: 'worker', ...fields },
      values.port !== undefined ? Number(values.port) : undefined,
    );
    const plan = await planAddNode(dir, request);
    if (!plan.ok) {
      ctx.stderr.write(plan.problems.map((p) => `  ${formatProblem(p)}\n`).join(''));
      return fail(
        `the first node was refused (${plan.reason}); the homelab's files are written in ${dir} but not committed: ` +
          'fix the flags and run `homelab node add` there',
      );
    }
    await writePlan(dir, plan.files);
    paths.push(...plan.files.map((f) => f.path));
  }
  const branch = values.branch ?? 'main';
  const committed = await commitHomelab(dir, {
    branch,
    ...(values.remote !== undefined && values['no-origin'] !== true
      ? { origin: values.remote }
      : {}),
    message:
      values.node !== undefined
        ? `New homelab ${made.name} with node ${values.node}`
        : `New homelab ${made.name}`,
    paths,
  });
  if (!committed.ok) return fail(`${committed.reason} (the files are written in ${dir})`);
  const placeholder = values.remote === undefined && values.example !== true;
  ctx.stdout.write(
    [
      `Created homelab ${made.name} in ${dir} (commit ${committed.commit} on ${branch}).`,
      `  nodes fetch from: ${made.remote}${placeholder ? '   <- a placeholder: set git.remote in inventory/topology.yaml' : ''}`,
      '',
      'Next steps:',
      `  cd ${dir}`,
      ...(values.node === undefined && values.example !== true
        ? [
            '  homelab node add <name> --address <addr> --service <service>   (see homelab node --help)',
          ]
        : []),
      `  git push -u origin ${branch}     (the nodes fetch from git.remote; push there first)`,
      `  homelab node bootstrap ${values.node ?? '<name>'}`,
      `  homelab run prepare --node ${values.node ?? '<name>'}    (then deploy, verify; or open \`homelab\`)`,
      '',
    ].join('\n'),
  );
  return 0;
}

const command: Command = {
  name: 'init',
  summary: 'create a new homelab repo: topology, hosts/, the node scripts, git init + first commit',
  usage: USAGE,
  run: runInit,
  parse,
};

export default command;
