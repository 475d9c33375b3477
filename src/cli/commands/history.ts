// `homelab history [--node N]... [--json] [--limit N]`: every run recorded on the nodes (when,
// node, stage, result, commit, duration, who started it, run id), across the fleet, newest first.
// `homelab history --node N --run ID` prints that run's log from the node.
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../command.js';
import { parseCommandArgs, REPO_OPTION } from '../args.js';
import { openCommandControl } from '../open-control.js';
import { mergeHistory, renderHistoryTable } from '../../core/status/history.js';
import { readFleetHistory, readRunLog } from '../../shell/history.js';

/** The flags, --limit and --run's one --node checked; throws UsageError. Runs nothing. */
function parse(args: readonly string[]) {
  const { values } = parseCommandArgs(args, {
    ...REPO_OPTION,
    json: { type: 'boolean' },
    node: { type: 'string', multiple: true },
    limit: { type: 'string' },
    run: { type: 'string' },
  });
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
    throw new UsageError(`--limit must be a positive whole number, got "${values.limit}"`);
  const only = values.node ?? [];
  if (values.run !== undefined && only.length !== 1)
    throw new UsageError('--run needs exactly one --node (the node the run ran on)');
  return { values, limit, only };
}

const command: Command = {
  name: 'history',
  summary: 'list the runs recorded on the nodes (who, when, stage, result), newest first',
  usage:
    'Usage: homelab history [--node NAME]... [--json] [--limit N] [--repo DIR]\n' +
    '       homelab history --node NAME --run ID     print that run’s log from the node',
  parse,
  async run(args: readonly string[], ctx: CommandContext): Promise<number> {
    const { values, limit, only } = parse(args);
    const control = await openCommandControl(ctx, values.repo);
    if (!control) return 1;
    try {
      const unknown = only.filter((n) => !control.inventory.nodes.some((s) => s.name === n));
      if (unknown.length > 0)
        throw new UsageError(
          `no node ${unknown.map((n) => `"${n}"`).join(', ')} in inventory/topology.yaml`,
        );
      if (values.run !== undefined) {
        const log = await readRunLog(control, only[0] ?? '', values.run);
        for (const line of log.lines) ctx.stdout.write(`${line}\n`);
        if (log.error) ctx.stderr.write(`homelab history: ${log.error}\n`);
        return log.error ? 1 : 0;
      }
      const nodes = await readFleetHistory(control, only);
      if (values.json) {
        const entries = mergeHistory(nodes).slice(0, limit ?? Infinity);
        const errors = nodes.filter((n) => n.error).map((n) => ({ node: n.node, error: n.error }));
        ctx.stdout.write(`${JSON.stringify({ entries, errors }, null, 2)}\n`);
      } else {
        ctx.stdout.write(renderHistoryTable(nodes, limit));
      }
      return nodes.some((n) => n.error) ? 1 : 0;
    } finally {
      await control.close();
    }
  },
};

export default command;
