// `homelab` (no command) and `homelab tui`: the full-screen TUI on a terminal, else the status table.
import type { Command, CommandContext } from '../command.js';
import { parseCommandArgs, REPO_OPTION } from '../args.js';
import { openCommandControl, reportInvalidInventory } from '../open-control.js';
import { InvalidInventoryError } from '../../shell/control/control.js';
import { allHealthy, renderStatusTable, statusHeader } from '../../core/status/table.js';
import { collectStatus } from '../../shell/control/collect-status.js';
import type { Control } from '../../shell/control/types.js';
import { describeTailnet, type Tailnet } from '../../core/tailnet.js';
import { readTailnet } from '../../shell/tailnet.js';

const USAGE = `Usage: homelab [--no-tui] [--dry-run] [--repo DIR]
       homelab tui [--no-tui] [--dry-run] [--repo DIR]

Opens the deployment TUI: every node by wave with its stage, health and commit; keys move nodes
through prepare -> deploy -> verify, each changing stage confirmed first (? lists the keys).
When stdin or stdout is not a terminal, or with --no-tui, prints the status table and exits.

  --no-tui     print the status table instead of opening the screen
  --dry-run    stages print what they would do and change nothing
  --repo DIR   the homelab repo (default: $HOMELAB_REPO, else the folder above holding inventory/)`;

interface TuiArgs {
  readonly noTui: boolean;
  readonly dryRun: boolean;
  readonly repo: string | undefined;
}

function parse(args: readonly string[]): TuiArgs {
  const rest = args[0] === 'tui' ? args.slice(1) : args;
  const { values } = parseCommandArgs(rest, {
    ...REPO_OPTION,
    'no-tui': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  });
  return {
    noTui: values['no-tui'] === true,
    dryRun: values['dry-run'] === true,
    repo: values.repo,
  };
}

/** True when the screen can open: both ends are terminals. */
export function isInteractive(ctx: CommandContext): boolean {
  return ctx.stdin.isTTY === true && ctx.stdout.isTTY === true;
}

/** The status table of every node, as `homelab status` prints it, and whether all are healthy. */
export async function statusText(control: Control): Promise<{ text: string; healthy: boolean }> {
  const report = await collectStatus(control);
  return {
    text: renderStatusTable(statusHeader(report), report.nodes),
    healthy: allHealthy(report.nodes),
  };
}

export interface LaunchOptions {
  readonly noTui: boolean;
  /** The tailnet's state (read alongside the inventory), shown when a node uses tailscale ssh. */
  readonly tailnet?: Promise<Tailnet>;
  readonly dryRun: boolean;
  readonly dryRunReason?: string;
  readonly banners?: readonly string[];
}

/** Opens the TUI on a terminal, else prints the status table; never waits for keys that cannot come. */
export async function launch(
  control: Control,
  ctx: CommandContext,
  opts: LaunchOptions,
): Promise<number> {
  if (opts.noTui || !isInteractive(ctx)) {
    // Same output and exit code as `homelab status`: 0 when every node is healthy, else 1.
    const { text, healthy } = await statusText(control);
    ctx.stdout.write(text);
    return healthy ? 0 : 1;
  }
  const { runTui } = await import('../../tui/run.js');
  const usesTailnet = control.inventory.nodes.some((n) => n.transport === 'tailscale-ssh');
  try {
    await runTui({
      ...(usesTailnet && opts.tailnet ? { tailnet: describeTailnet(await opts.tailnet) } : {}),
      control,
      stdin: ctx.stdin as NodeJS.ReadStream,
      stdout: ctx.stdout as NodeJS.WriteStream,
      stderr: ctx.stderr as NodeJS.WriteStream,
      dryRun: opts.dryRun,
      dryRunReason: opts.dryRunReason ?? '--dry-run',
      env: ctx.env,
      banners: opts.banners ?? [],
    });
  } catch (err) {
    // The secret scan, finished after the first frame, found a secret: the screen has closed.
    if (!(err instanceof InvalidInventoryError)) throw err;
    reportInvalidInventory(ctx, err);
    return 1;
  }
  return 0;
}

export async function runTuiCommand(args: readonly string[], ctx: CommandContext): Promise<number> {
  const opts = parse(args);
  // On a terminal, load the screen's code and ask tailscale while the inventory loads.
  const screen = !opts.noTui && isInteractive(ctx);
  if (screen) void import('../../tui/run.js');
  const tailnet = screen ? readTailnet(ctx.env) : undefined;
  // On a terminal the rows show before the inventory's secret scan ends (nothing runs on a node
  // until it has: the Control's runners wait for it).
  const control = await openCommandControl(ctx, opts.repo, opts.dryRun, screen);
  if (!control) return 1;
  try {
    return await launch(control, ctx, {
      noTui: opts.noTui,
      dryRun: opts.dryRun,
      ...(tailnet ? { tailnet } : {}),
    });
  } finally {
    await control.close();
  }
}

const command: Command = {
  name: 'tui',
  summary:
    'the full-screen deployment TUI (what `homelab` opens); the status table when not a terminal',
  usage: USAGE,
  run: runTuiCommand,
  parse,
};

export default command;
