// Opens the Control for a subcommand: finds the repo, loads and validates the inventory.
// An invalid inventory prints its problems and yields nothing: no command reaches a node.
import { formatProblem } from '../core/problem.js';
import { InvalidInventoryError, openControl } from '../shell/control/control.js';
import type { Control } from '../shell/control/types.js';
import { findRepoRoot } from '../shell/repo-root.js';
import type { CommandContext } from './command.js';

export async function openCommandControl(
  ctx: CommandContext,
  repoFlag: string | undefined,
  dryRun = false,
  /** Open before the secret scan ends (the TUI): see ControlOptions.deferSecretScan. */
  deferSecretScan = false,
  /** One connection per command, no master (a one-shot status): ControlOptions.freshConnections. */
  freshConnections = false,
): Promise<Control | undefined> {
  let repoDir: string;
  try {
    repoDir = findRepoRoot(ctx.cwd, ctx.env, repoFlag);
  } catch (err) {
    ctx.stderr.write(`homelab: ${err instanceof Error ? err.message : String(err)}\n`);
    return undefined;
  }
  try {
    return await openControl({
      repoDir,
      env: ctx.env,
      dryRun,
      ...(deferSecretScan ? { deferSecretScan } : {}),
      ...(freshConnections ? { freshConnections } : {}),
    });
  } catch (err) {
    if (!(err instanceof InvalidInventoryError)) throw err;
    reportInvalidInventory(ctx, err);
    return undefined;
  }
}

/** An invalid inventory's problems on stderr, and that nothing ran. */
export function reportInvalidInventory(ctx: CommandContext, err: InvalidInventoryError): void {
  ctx.stderr.write(err.problems.map((p) => `${formatProblem(p)}\n`).join(''));
  ctx.stderr.write(
    `homelab: ${err.problems.length} problem(s) in the inventory; nothing was run on any node. Fix them and run \`homelab validate\`.\n`,
  );
}
