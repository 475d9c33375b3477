// Entry point: `homelab [command] [args]`. With no command it opens the TUI (or prints the status
// table when stdin/stdout is not a terminal). Commands load lazily so start-up stays fast.
import type { Command, CommandContext } from './command.js';
import { UsageError } from './command.js';
import { UnusableValueError } from '../core/remote/argv.js';
import { helpText } from './help.js';

type Loader = () => Promise<Command>;

// One line per command; `tui` is what runs when no command is given.
const COMMANDS: ReadonlyArray<readonly [string, Loader]> = [
  ['tui', async () => (await import('./commands/tui.js')).default],
  ['init', async () => (await import('./commands/init.js')).default],
  ['demo', async () => (await import('./commands/demo.js')).default],
  ['validate', async () => (await import('./commands/validate.js')).default],
  ['manifest', async () => (await import('./commands/manifest.js')).default],
  ['node', async () => (await import('./commands/node.js')).default],
  ['recover', async () => (await import('./commands/recover.js')).default],
  ['status', async () => (await import('./commands/status.js')).default],
  ['run', async () => (await import('./commands/run.js')).default],
  ['scripts', async () => (await import('./commands/scripts.js')).default],
];

function defaultContext(): CommandContext {
  return {
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
  };
}

async function loadAll(): Promise<Command[]> {
  return Promise.all(COMMANDS.map(([, load]) => load()));
}

async function help(ctx: CommandContext): Promise<number> {
  const cmds = await loadAll();
  const width = Math.max(...cmds.map((c) => c.name.length));
  ctx.stdout.write(
    'homelab: GitOps-lite deployments for a Tailscale homelab\n\n' +
      'Usage: homelab [command] [options]\n' +
      '       homelab            open the deployment TUI (status table when not a terminal)\n\n' +
      'Commands:\n' +
      cmds.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}\n`).join('') +
      '\nRun `homelab <command> --help` for its options, exit codes and an example.\n' +
      '`homelab --version` prints the version of this tool and of the node scripts it ships.\n',
  );
  return 0;
}

export async function main(
  argv: readonly string[],
  ctx: CommandContext = defaultContext(),
): Promise<number> {
  const { args, stop } = await verbose(argv, ctx);
  try {
    return await dispatch(args, ctx);
  } finally {
    stop();
  }
}

/** --verbose (anywhere before `--`): every command run on a node goes to stderr as it ends. */
async function verbose(
  argv: readonly string[],
  ctx: CommandContext,
): Promise<{ args: readonly string[]; stop: () => void }> {
  const cut = argv.indexOf('--');
  const head = cut < 0 ? argv : argv.slice(0, cut);
  if (!head.includes('--verbose')) return { args: argv, stop: () => undefined };
  const args = [...head.filter((a) => a !== '--verbose'), ...(cut < 0 ? [] : argv.slice(cut))];
  const tui = args[0] === undefined || args[0].startsWith('-');
  // The TUI lists them in its command log view; drawn over its screen they would break it.
  if (tui && ctx.stdout.isTTY) return { args, stop: () => undefined };
  const { commandLog, describeCommand } = await import('../shell/transport/command-log.js');
  const { toScreen } = await import('../core/recover/redact.js');
  const stop = commandLog.subscribe((e) => {
    if (e.end !== undefined) ctx.stderr.write(`homelab: ran ${toScreen(describeCommand(e))}\n`);
  });
  return { args, stop };
}

async function dispatch(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'help' || first === '--help' || first === '-h') return help(ctx);
  if (first === '--version' || first === '-V' || first === 'version') {
    const { toolVersion, shippedScriptsVersion } = await import('../shell/onboarding/versions.js');
    ctx.stdout.write(`homelab ${toolVersion()} (node scripts v${shippedScriptsVersion()})\n`);
    return 0;
  }
  const name = first === undefined || first.startsWith('-') ? 'tui' : first;
  const args = name === 'tui' ? argv : rest;
  const entry = COMMANDS.find(([n]) => n === name);
  if (!entry) {
    ctx.stderr.write(`homelab: unknown command "${name}". Run \`homelab help\` for the list.\n`);
    return 2;
  }
  const command = await entry[1]();
  if (args.includes('--help') || args.includes('-h')) {
    ctx.stdout.write(helpText(command.name, command.usage));
    return 0;
  }
  try {
    return await command.run(args, ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.stderr.write(`homelab ${command.name}: ${err.message}\n${command.usage}\n`);
      return 2;
    }
    if (err instanceof UnusableValueError) {
      ctx.stderr.write(`homelab ${command.name}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
