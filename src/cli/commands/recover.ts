// `homelab recover <node>`: diagnose the node, then print (or write) the recover-node prompt built
// from prompts/recover-node.md, secrets redacted; optionally hand it to the inventory's ai.command.
import { resolve } from 'node:path';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../command.js';
import { parseCommandArgs, REPO_OPTION } from '../args.js';
import { openCommandControl } from '../open-control.js';
import { findingLine } from '../../core/recover/findings.js';
import { toScreen } from '../../core/recover/redact.js';
import { writeFileAtomic } from '../../shell/fs/atomic-write.js';
import { AI_HELP, runAi } from '../../shell/recover/ai.js';
import { findNode, gatherRecover } from '../../shell/recover/gather.js';
import { savePrompt } from '../../shell/recover/save.js';

const USAGE = `Usage: homelab recover <node> [--out FILE] [--ai] [--repo DIR]

Runs diagnose on the node, then builds the recover-node prompt (prompts/recover-node.md: node
context, failed stage and step, known-good vs target diff, findings, log excerpt, compose files of
the failing services), with every secret redacted before it leaves the node and again here.
Prints it, or writes it to FILE; a copy is always saved under the state folder
($HOMELAB_STATE_DIR, else ~/.local/state/homelab)/recover/.

  --out FILE   write the prompt to FILE instead of printing it
  --ai         run the inventory's ai.command with the prompt on stdin and print its answer
  --repo DIR   the homelab repo (default: $HOMELAB_REPO, else the folder above holding inventory/)`;

interface RecoverArgs {
  readonly node: string;
  readonly out: string | undefined;
  readonly ai: boolean;
  readonly repo: string | undefined;
}

function parse(args: readonly string[]): RecoverArgs {
  const { values, positionals } = parseCommandArgs(
    args,
    { ...REPO_OPTION, out: { type: 'string' }, ai: { type: 'boolean' } },
    true,
  );
  const [node, ...extra] = positionals;
  if (!node) throw new UsageError('which node? give its name from inventory/topology.yaml');
  if (extra.length > 0) throw new UsageError(`one node at a time (got ${positionals.join(', ')})`);
  return { node, out: values.out, ai: values.ai === true, repo: values.repo };
}

export async function runRecover(args: readonly string[], ctx: CommandContext): Promise<number> {
  const opts = parse(args);
  const err = (text: string): void => {
    ctx.stderr.write(`${text}\n`);
  };
  const control = await openCommandControl(ctx, opts.repo);
  if (!control) return 1;
  let spec;
  try {
    spec = findNode(control, opts.node);
  } catch (e) {
    await control.close();
    err(`homelab recover: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  const runner = control.nodeRunner(spec.name);
  try {
    err(`diagnosing ${spec.name}…`);
    const now = new Date().toISOString();
    const report = await gatherRecover(control, runner, spec.name, {
      now,
      onLine: (line) => {
        if (line.kind === 'event' && line.event.type === 'finding' && line.event.severity !== 'ok')
          err(`  ${toScreen(findingLine(line.event))}`);
      },
    });
    for (const note of report.context.notes) err(`note: ${toScreen(note)}`);
    if (report.unknownPlaceholders.length)
      err(
        `note: ${report.templatePath} names unknown placeholders: ${report.unknownPlaceholders.join(', ')}`,
      );
    const saved = await savePrompt(ctx.env, spec.name, now, report.prompt);
    if (opts.out) {
      const file = resolve(ctx.cwd, opts.out);
      // Private (0600) whether the file is new or not: the prompt goes in beside it, then replaces it.
      await writeFileAtomic(file, report.prompt, { mode: 0o600 });
      err(`wrote the recover-node prompt to ${file}`);
    } else if (!opts.ai) {
      ctx.stdout.write(report.prompt.endsWith('\n') ? report.prompt : `${report.prompt}\n`);
    }
    err(`saved a copy: ${saved}`);
    if (!opts.ai) return 0;
    const command = control.inventory.ai?.command ?? [];
    if (command.length === 0) {
      err(AI_HELP);
      return 1;
    }
    err(`asking ${command.join(' ')}…`);
    const r = await runAi(command, report.prompt, (chunk) => ctx.stdout.write(chunk));
    if (r.message) err(r.message);
    return r.exitCode === 0 ? 0 : 1;
  } finally {
    await control.close();
  }
}

const command: Command = {
  name: 'recover',
  summary: 'Diagnose a node and build the recover-node AI prompt (secrets redacted)',
  usage: USAGE,
  run: runRecover,
  parse,
};

export default command;
