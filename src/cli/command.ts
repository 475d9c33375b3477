// What every subcommand looks like. Commands live in src/cli/commands/<name>.ts, one per file,
// and are registered in src/cli/main.ts.

export interface CommandContext {
  /** Where the command was started; the homelab repo is found from here (or --repo / HOMELAB_REPO). */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface Command {
  readonly name: string;
  /** One line for `homelab help`. */
  readonly summary: string;
  /** Usage lines for `homelab <name> --help`. */
  readonly usage: string;
  /** Exit code: 0 success, 1 failure, 2 usage error. */
  run(args: readonly string[], ctx: CommandContext): Promise<number>;
  /**
   * Parses the arguments into what run() would do, and does nothing: no repo read, no node asked,
   * no file touched. Throws UsageError for what run() refuses as usage (exit 2); run() parses with
   * the same function first. main's parseCommandLine calls it.
   */
  parse?(args: readonly string[], cwd?: string): unknown;
}

/** Thrown by argument parsing; main prints it with the command's usage and exits 2. */
export class UsageError extends Error {}
