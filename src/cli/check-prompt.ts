// `homelab status` on a terminal, when a node is held for a Tailscale SSH check: the nodes are
// asked about one at a time (one browser tab): open the URL, say it passed, and the node is tried
// again; the nodes that waited behind it then get their turn. Without a terminal nothing is asked:
// the table's message names the URL and the node stays needs-check.
import { collectStatus, type StatusReport } from '../shell/control/collect-status.js';
import { confirm } from '../shell/confirm.js';
import type { Control } from '../shell/control/types.js';
import type { CommandContext } from './command.js';

/** Asks about each node held for a check until none is, or the operator says no. */
export async function passChecks(
  control: Control,
  first: StatusReport,
  only: readonly string[],
  ctx: CommandContext,
): Promise<StatusReport> {
  const held = (r: StatusReport) => r.nodes.find((n) => n.reason === 'needs-check' && n.checkUrl);
  if (!held(first) || !ctx.stdin.isTTY || !ctx.stdout.isTTY) return first;
  let report = first;
  for (let n = held(report); n; n = held(report)) {
    ctx.stdout.write(
      `${n.node} needs a Tailscale SSH check: open ${n.checkUrl ?? ''} in a browser and log in\n`,
    );
    const retry = await confirm(
      `Done with the check of ${n.node}? Retry it`,
      ctx.stdin,
      ctx.stdout,
    );
    if (!retry) break;
    const probe = await control.checkDone(n.node);
    ctx.stdout.write(
      probe.reachable
        ? `${n.node}: check passed, reachable\n`
        : `${n.node}: still not reachable (${probe.reason}): ${probe.message}\n`,
    );
    report = await collectStatus(control, only);
  }
  return report;
}
