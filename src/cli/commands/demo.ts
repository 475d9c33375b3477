// `homelab demo`: builds a disposable homelab on this machine and opens the TUI on it.
import { join, resolve } from 'node:path';
import type { Command, CommandContext } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { openControl } from '../../shell/control/control.js';
import { buildDemo, dockerAvailable, removeDemo, type Demo } from '../../shell/demo/build.js';
import { loadInventory } from '../../shell/inventory/load.js';
import { isInteractive, launch } from './tui.js';

const USAGE = `Usage: homelab demo [--dir DIR] [--no-tui] [--keep] [--dry-run]
       homelab demo --down DIR

Builds a disposable homelab here and opens the TUI on it: a Git remote, four nodes using the
local transport (each with its own root and checkout), the real deploy.sh, busybox web services
on 127.0.0.1. One node ships broken (a missing secret) so you meet failure, the fix and resume.
Without a Docker engine the stages run as --dry-run, and the screen says so.

  --dir DIR    build in DIR (kept afterwards) instead of a new temporary folder
  --no-tui     only build it, print where it is and the status table
  --keep       keep the demo (and its containers) after quitting the TUI
  --dry-run    run stages as --dry-run even with a Docker engine
  --down DIR   stop the containers of the demo in DIR and remove DIR`;

interface DemoArgs {
  readonly dir: string | undefined;
  readonly noTui: boolean;
  readonly keep: boolean;
  readonly dryRun: boolean;
  readonly down: string | undefined;
}

function parse(args: readonly string[]): DemoArgs {
  const { values } = parseCommandArgs(args, {
    dir: { type: 'string' },
    'no-tui': { type: 'boolean' },
    keep: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    down: { type: 'string' },
  });
  return {
    dir: values.dir,
    noTui: values['no-tui'] === true,
    keep: values.keep === true,
    dryRun: values['dry-run'] === true,
    down: values.down,
  };
}

function describeDemo(demo: Demo, dryRun: boolean): string {
  return [
    `demo homelab "${demo.inventory.homelab}" built in ${demo.dir}`,
    `  SATURN's repo  ${demo.repoDir}`,
    `  Git remote     ${demo.remote}`,
    ...demo.nodes.map(
      (n) =>
        `  node ${n.name.padEnd(14)} root ${n.root}  ${n.services.map((s) => `${s.name} http://127.0.0.1:${s.port}/`).join(' ')}`,
    ),
    `  ${demo.broken.node} ships broken: its secret is missing. Fix it with:`,
    ...demo.broken.fixLines.map((l) => `    ${l}`),
    ...(dryRun ? ['  no Docker engine answers here: stages run as --dry-run'] : []),
    `  open the TUI on it:  homelab --repo ${demo.repoDir}${dryRun ? ' --dry-run' : ''}`,
    `  remove it:          homelab demo --down ${demo.dir}`,
    '',
  ].join('\n');
}

async function down(dir: string, ctx: CommandContext): Promise<number> {
  const abs = resolve(ctx.cwd, dir);
  const { inventory, problems } = await loadInventory(join(abs, 'saturn'), { manifests: false });
  if (!inventory) {
    ctx.stderr.write(
      `homelab demo: ${abs} holds no demo homelab (${problems[0]?.message ?? 'no inventory'})\n`,
    );
    return 1;
  }
  await removeDemo({ inventory, dir: abs });
  ctx.stdout.write(`demo in ${abs}: containers stopped, folder removed\n`);
  return 0;
}

export async function runDemo(args: readonly string[], ctx: CommandContext): Promise<number> {
  const opts = parse(args);
  if (opts.down) return down(opts.down, ctx);
  const docker = await dockerAvailable();
  const dryRun = opts.dryRun || !docker;
  const interactive = !opts.noTui && isInteractive(ctx);
  if (interactive) ctx.stdout.write('building the demo homelab…\n');
  const demo = await buildDemo(opts.dir ? { dir: resolve(ctx.cwd, opts.dir) } : {});
  const control = await openControl({ repoDir: demo.repoDir, dryRun, env: ctx.env });
  // One command a row, so each can be copied whole from an 80-column terminal.
  const banners = [
    `DEMO: ${demo.broken.node} lacks a secret. Run in another terminal, then press r:`,
    ...demo.broken.fixLines.map((l) => `  ${l}`),
  ];
  try {
    if (!interactive) {
      ctx.stdout.write(describeDemo(demo, dryRun));
      // The demo was built: that is this command's success, whatever the nodes' health.
      await launch(control, ctx, { noTui: true, dryRun });
      return 0;
    }
    await launch(control, ctx, {
      noTui: false,
      dryRun,
      dryRunReason: docker ? '--dry-run' : 'no Docker engine here',
      banners,
    });
  } finally {
    await control.close();
  }
  if (opts.keep || opts.dir) {
    ctx.stdout.write(describeDemo(demo, dryRun));
    return 0;
  }
  await removeDemo(demo);
  ctx.stdout.write(`demo finished: its containers are stopped and ${demo.dir} is removed\n`);
  return 0;
}

const command: Command = {
  name: 'demo',
  summary: 'build a disposable demo homelab on this machine and open the TUI on it',
  usage: USAGE,
  run: runDemo,
  parse,
};

export default command;
