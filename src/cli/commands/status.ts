// `homelab status [--json] [--node N]...`: every node in parallel, each with its stage, health and
// deployed commit against SATURN's HEAD, then any drift with its fix. Exit 0 when every node is
// reachable and healthy and none drifted, else 1.
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../command.js';
import { parseCommandArgs, REPO_OPTION } from '../args.js';
import { resourcesLines } from '../../core/status/resources.js';
import { readFleetResources } from '../../shell/resources.js';
import { collectStatus } from '../../shell/control/collect-status.js';
import { openCommandControl } from '../open-control.js';
import { passChecks } from '../check-prompt.js';
import { nodeScriptsNotes } from '../../shell/onboarding/node-scripts.js';
import {
  allHealthy,
  confirmLines,
  driftLines,
  renderStatusTable,
  statusHeader,
  type CellStyle,
} from '../../core/status/table.js';
import { knownGoodImageLines } from '../../core/images/updates.js';
import { paintFor, warningLines, type Paint } from '../colour.js';

/** Health green when healthy, red when unhealthy or unreachable, yellow otherwise; a failed stage red. */
export function statusStyle(paint: Paint): CellStyle {
  return (cell, column, node) => {
    if (column === 'HEALTH') {
      if (node.health === 'healthy') return paint.ok(cell);
      if (node.health === 'unhealthy' || node.health === 'unreachable') return paint.error(cell);
      return paint.warn(cell);
    }
    if (column === 'STAGE' && /\b(failed|interrupted)\b/.test(cell)) return paint.error(cell);
    return cell;
  };
}

/** --json, --node (repeated), --resources and --repo; nothing else. Runs nothing. */
function parse(args: readonly string[]) {
  return parseCommandArgs(args, {
    ...REPO_OPTION,
    json: { type: 'boolean' },
    node: { type: 'string', multiple: true },
    resources: { type: 'boolean' },
  });
}

const command: Command = {
  name: 'status',
  summary: 'show every node: reachable, stage, health, deployed commit vs HEAD',
  usage:
    'Usage: homelab status [--json] [--node NAME]... [--resources] [--repo DIR]\n' +
    "  --resources  also each node's containers' CPU and memory and its disks (deploy.sh resources:\n" +
    '               docker stats --no-stream, 1-2 s more, asked in parallel with the status)',
  parse,
  async run(args: readonly string[], ctx: CommandContext): Promise<number> {
    const { values } = parse(args);
    // Each node is asked once (twice with --resources, which keeps one connection per node).
    const control = await openCommandControl(
      ctx,
      values.repo,
      false,
      false,
      values.resources !== true,
    );
    if (!control) return 1;
    try {
      const only = values.node ?? [];
      const unknown = only.filter((n) => !control.inventory.nodes.some((spec) => spec.name === n));
      if (unknown.length > 0)
        throw new UsageError(
          `no node ${unknown.map((n) => `"${n}"`).join(', ')} in inventory/topology.yaml`,
        );
      // On a terminal, nodes held for a Tailscale SSH check are asked about one at a time.
      const resourcesRead = values.resources ? readFleetResources(control, only) : undefined;
      const report = await passChecks(control, await collectStatus(control, only), only, ctx);
      const resources = resourcesRead ? await resourcesRead : undefined;
      if (values.json) {
        const out = resources ? { ...report, resources } : report;
        ctx.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else {
        const paint = paintFor(ctx.env, ctx.stdout);
        ctx.stdout.write(renderStatusTable(statusHeader(report), report.nodes, statusStyle(paint)));
        if (resources) ctx.stdout.write(`\n${resourcesLines(resources).join('\n')}\n`);
        const images = knownGoodImageLines(report.nodes);
        if (images.length > 0) ctx.stdout.write(`\n${images.join('\n')}\n`);
        const drift = driftLines(report.nodes);
        if (drift.length > 0)
          ctx.stdout.write(
            `\n${drift.map((l) => (l.startsWith(' ') ? l : paint.warn(l))).join('\n')}\n`,
          );
        // Magic rollback: a node that waits for SATURN, or rolled back by itself.
        const confirm = confirmLines(report.nodes);
        if (confirm.length > 0)
          ctx.stdout.write(`\n${confirm.map((l) => paint.warn(l)).join('\n')}\n`);
        const notes = await nodeScriptsNotes(control.repoDir, report.nodes);
        ctx.stderr.write(warningLines(paintFor(ctx.env, ctx.stderr), notes));
      }
      // Drift is not healthy either: what runs is not what Git says.
      return allHealthy(report.nodes) && driftLines(report.nodes).length === 0 ? 0 : 1;
    } finally {
      await control.close();
    }
  },
};

export default command;
