// `homelab logs NODE SERVICE [-f] [--since WHEN] [--tail N] [--timestamps]`: a service's container
// logs from its node, redacted on the node and again on SATURN, for scripts and pipes.
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../command.js';
import { parseCommandArgs, REPO_OPTION } from '../args.js';
import { openCommandControl } from '../open-control.js';
import {
  checkLogsQuery,
  formatLogLine,
  parseLogLine,
  type ServiceLogsQuery,
} from '../../core/logs/service-log.js';
import { streamServiceLogs } from '../../shell/logs/service-logs.js';

/** NODE SERVICE, the flags and the query checked; throws UsageError. Runs nothing. */
function parse(args: readonly string[]) {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      ...REPO_OPTION,
      follow: { type: 'boolean', short: 'f' },
      since: { type: 'string' },
      tail: { type: 'string' },
      timestamps: { type: 'boolean', short: 't' },
    },
    true,
  );
  const [node, service, ...extra] = positionals;
  if (!node || !service) throw new UsageError('give a node and a service');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0] ?? ''}"`);
  const tail =
    values.tail === undefined ? undefined : values.tail === 'all' ? 'all' : Number(values.tail);
  const query: ServiceLogsQuery = {
    ...(tail !== undefined ? { tail } : {}),
    ...(values.since !== undefined ? { since: values.since } : {}),
    follow: values.follow === true,
  };
  const bad = checkLogsQuery(query);
  if (bad) throw new UsageError(bad);
  return { values, node, service, query };
}

const command: Command = {
  name: 'logs',
  summary: "print a service's container logs from its node (redacted); -f follows them",
  usage: [
    'Usage: homelab logs NODE SERVICE [-f|--follow] [--since WHEN] [--tail N|all] [--timestamps] [--repo DIR]',
    '  -f, --follow    keep printing new lines as the containers print them (Ctrl-C stops)',
    '  --since WHEN    only lines since WHEN: a duration (10m, 2h) or a timestamp (2026-01-02T15:04:05Z)',
    '  --tail N        start with the last N lines (default 200; all for every line Docker keeps)',
    '  --timestamps    show each line’s time (UTC)',
  ].join('\n'),
  parse,
  async run(args: readonly string[], ctx: CommandContext): Promise<number> {
    const { values, node, service, query } = parse(args);
    const control = await openCommandControl(ctx, values.repo);
    if (!control) return 1;
    try {
      const spec = control.inventory.nodes.find((n) => n.name === node);
      if (!spec) {
        ctx.stderr.write(
          `homelab logs: no node "${node}" in inventory/topology.yaml (nodes: ${control.inventory.nodes.map((n) => n.name).join(', ')})\n`,
        );
        return 2;
      }
      if (!spec.services.some((s) => s.name === service)) {
        ctx.stderr.write(
          `homelab logs: ${node} has no service "${service}" in inventory/topology.yaml (services: ${spec.services.map((s) => s.name).join(', ') || 'none'})\n`,
        );
        return 2;
      }
      const abort = new AbortController();
      const onSigint = (): void => abort.abort();
      process.once('SIGINT', onSigint);
      const end = await streamServiceLogs(control.nodeRunner(node), {
        ...query,
        spec,
        service,
        signal: abort.signal,
        onLine: (line) => {
          ctx.stdout.write(`${formatLogLine(parseLogLine(line), values.timestamps === true)}\n`);
        },
      }).finally(() => process.off('SIGINT', onSigint));
      if (end.result === 'ok') return 0;
      if (end.result === 'cancelled') return 130;
      ctx.stderr.write(`homelab logs: ${service} on ${node}: ${end.message}\n`);
      return end.result === 'unreachable' ? 255 : 1;
    } finally {
      await control.close();
    }
  },
};

export default command;
