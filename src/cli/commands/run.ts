// `homelab run <stage> --node N [--yes]`: one stage on one node, pinned to the commit the operator
// confirmed (SATURN's HEAD; the node's target for resume, its known-good for rollback), streaming
// its progress. Stages that change the node ask first (default no) unless --yes. Everything printed
// from the node comes through the Control already screen-safe (no control sequences, redacted).
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../command.js';
import { parseCommandArgs, REPO_OPTION } from '../args.js';
import { openCommandControl } from '../open-control.js';
import { confirm } from '../../shell/confirm.js';
import { CHANGING_STAGES, STAGES, type NodeLine, type Stage } from '../../core/protocol/events.js';
import { describeEvent } from '../../core/protocol/describe.js';
import { shortSha } from '../../core/status/summary.js';
import type { StageResult } from '../../core/node/types.js';
import { describeChange } from '../../shell/control/describe-change.js';
import { paintFor, warningLines } from '../colour.js';

const EXIT: Record<StageResult, number> = {
  ok: 0,
  failed: 1,
  refused: 1,
  locked: 3,
  unreachable: 255,
  interrupted: 130,
  cancelled: 130,
};

/** Stages that make the node fetch git.remote (a resume may re-run prepare): planned even with --yes. */
const FETCHING: readonly Stage[] = ['prepare', 'resume', 'up'];

/** One stage, --node and the flags; throws UsageError for anything else. Runs nothing. */
function parse(args: readonly string[]) {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      ...REPO_OPTION,
      node: { type: 'string' },
      yes: { type: 'boolean' },
      raw: { type: 'boolean' },
      confirm: { type: 'boolean' },
    },
    true,
  );
  const stage = positionals[0] as Stage | undefined;
  if (!stage || !STAGES.includes(stage) || positionals.length > 1)
    throw new UsageError(`expected one stage: ${STAGES.join(', ')}`);
  if (!values.node) throw new UsageError('--node NAME is required');
  return { stage, values: { ...values, node: values.node } };
}

const command: Command = {
  name: 'run',
  summary: 'run one stage (prepare, deploy, verify, diagnose, rollback, resume) on a node',
  usage: `Usage: homelab run <stage> --node NAME [--yes] [--raw] [--confirm] [--repo DIR]\n  stages: ${STAGES.join(', ')}\n  --yes  do not ask before a stage that changes the node\n  --raw  print the node protocol records too\n  --confirm  (verify, resume, up) the node records known-good only once SATURN confirms over a new\n             connection, else it rolls back by itself (what \`confirm: required\` in the topology does)`,
  parse,
  async run(args: readonly string[], ctx: CommandContext): Promise<number> {
    const { stage, values } = parse(args);
    const control = await openCommandControl(ctx, values.repo);
    if (!control) return 1;
    const node = values.node;
    // The stream of results goes to stderr (records with --raw to stdout): colour as stderr allows.
    const paint = paintFor(ctx.env, ctx.stderr);
    const marked = (text: string): string =>
      text.replace(
        /^(\s*)([✓✗])/,
        (_, pad: string, mark: string) => pad + (mark === '✓' ? paint.ok(mark) : paint.error(mark)),
      );
    try {
      if (!control.inventory.nodes.some((n) => n.name === node))
        throw new UsageError(`no node "${node}" in inventory/topology.yaml`);
      // The commit the operator confirms is the commit the stage runs (runStage pins it).
      let commit: string | undefined;
      if (CHANGING_STAGES.includes(stage) && !values.yes && !ctx.stdin.isTTY) {
        ctx.stderr.write(
          `homelab run: ${stage} changes ${node}; not on a terminal, so nothing can be confirmed: pass --yes\n`,
        );
        return 2;
      }
      // The plan, asked or not (--yes) for a stage that makes the node fetch: its refusals (push
      // first, uncommitted changes) come before anything runs on the node.
      if (CHANGING_STAGES.includes(stage) && (!values.yes || FETCHING.includes(stage))) {
        const change = await describeChange(control, node, stage);
        ctx.stderr.write(warningLines(paint, change.plan.warnings ?? []));
        // With --yes, a node the plan could not read (no commit) gets runStage's own result.
        if (change.plan.refusal && (!values.yes || change.plan.commit)) {
          ctx.stderr.write(
            `${stage} ${paint.error('refused')} on ${node}: ${change.plan.refusal}\nNothing was run.\n`,
          );
          return EXIT.refused;
        }
        if (!values.yes && !(await confirm(`${change.text}\nProceed?`, ctx.stdin, ctx.stdout))) {
          ctx.stdout.write('Nothing was run.\n');
          return 1;
        }
        if (change.plan.commit) commit = change.plan.commit;
      }
      const abort = new AbortController();
      const onSigint = (): void => abort.abort();
      process.once('SIGINT', onSigint);
      const print = (line: NodeLine): void => {
        if (line.kind === 'log') {
          if (!line.text.startsWith('@homelab/')) ctx.stdout.write(`${line.text}\n`);
          return;
        }
        const text = describeEvent(line.event);
        if (values.raw) ctx.stdout.write(`${JSON.stringify(line.event)}\n`);
        else if (text && line.event.type !== 'run') ctx.stderr.write(`${marked(text)}\n`);
      };
      const outcome = await control
        .runStage({
          node,
          stage,
          onLine: print,
          signal: abort.signal,
          ...(commit ? { commit } : {}),
          ...(values.confirm ? { confirm: true } : {}),
        })
        .finally(() => process.off('SIGINT', onSigint));
      const verdict =
        outcome.result === 'ok'
          ? `${stage} ${paint.ok('ok')} on ${node} at ${shortSha(outcome.commit)}`
          : `${stage} ${paint.error(outcome.result)} on ${node}: ${outcome.message}`;
      ctx.stderr.write(`${verdict}\n`);
      return EXIT[outcome.result];
    } finally {
      await control.close();
    }
  },
};

export default command;
