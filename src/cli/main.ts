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
  ['updates', async () => (await import('./commands/updates.js')).default],
  ['logs', async () => (await import('./commands/logs.js')).default],
  ['history', async () => (await import('./commands/history.js')).default],
  ['run', async () => (await import('./commands/run.js')).default],
  ['deploy', async () => (await import('./commands/deploy.js')).default],
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

/** What a command line means, without running it: from parseCommandLine. */
export type ParsedCommandLine =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'command-help'; readonly command: string }
  | { readonly kind: 'command'; readonly command: string; readonly parsed: unknown };

type Resolved =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'unknown'; readonly name: string }
  | { readonly kind: 'command'; readonly command: Command; readonly args: readonly string[] };

/** Which command a command line names, and its arguments (the one lookup main and parse share). */
async function resolveCommand(argv: readonly string[]): Promise<Resolved> {
  const [first, ...rest] = argv;
  if (first === 'help' || first === '--help' || first === '-h') return { kind: 'help' };
  if (first === '--version' || first === '-V' || first === 'version') return { kind: 'version' };
  const name = first === undefined || first.startsWith('-') ? 'tui' : first;
  const entry = COMMANDS.find(([n]) => n === name);
  if (!entry) return { kind: 'unknown', name };
  return { kind: 'command', command: await entry[1](), args: name === 'tui' ? argv : rest };
}

function wantsHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

/**
 * Parses a command line (without the leading `homelab`) the way main would, and runs nothing:
 * no repo is read, no node is asked, no file is touched. Throws UsageError where main would exit 2
 * with a usage message. Every command the UI, the docs and the errors suggest must parse here
 * (test/unit/cli-parse-hints.test.ts).
 */
export async function parseCommandLine(argv: readonly string[]): Promise<ParsedCommandLine> {
  const resolved = await resolveCommand(withoutVerbose(argv));
  if (resolved.kind === 'help') return { kind: 'help' };
  if (resolved.kind === 'version') return { kind: 'version' };
  if (resolved.kind === 'unknown')
    throw new UsageError(`unknown command "${resolved.name}"; run \`homelab help\` for the list`);
  const { command, args } = resolved;
  if (wantsHelp(args)) return { kind: 'command-help', command: command.name };
  if (!command.parse)
    throw new Error(`homelab ${command.name} has no parse-only entry (Command.parse)`);
  return { kind: 'command', command: command.name, parsed: command.parse(args) };
}

/** argv without the global --verbose flag (anywhere before `--`). */
function withoutVerbose(argv: readonly string[]): readonly string[] {
  const cut = argv.indexOf('--');
  const head = cut < 0 ? argv : argv.slice(0, cut);
  if (!head.includes('--verbose')) return argv;
  return [...head.filter((a) => a !== '--verbose'), ...(cut < 0 ? [] : argv.slice(cut))];
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
  const args = withoutVerbose(argv);
  if (args === argv) return { args: argv, stop: () => undefined };
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
  const resolved = await resolveCommand(argv);
  if (resolved.kind === 'help') return help(ctx);
  if (resolved.kind === 'version') {
    const { toolVersion, shippedScriptsVersion } = await import('../shell/onboarding/versions.js');
    ctx.stdout.write(`homelab ${toolVersion()} (node scripts v${shippedScriptsVersion()})\n`);
    return 0;
  }
  if (resolved.kind === 'unknown') {
    ctx.stderr.write(
      `homelab: unknown command "${resolved.name}". Run \`homelab help\` for the list.\n`,
    );
    return 2;
  }
  const { command, args } = resolved;
  if (wantsHelp(args)) {
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
