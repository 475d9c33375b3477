// Runs the homelab CLI in-process with captured output, as a user would see it in a terminal.
import { PassThrough, Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CommandContext } from '../../src/cli/command.js';

export interface CliOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

class Capture extends Writable {
  text = '';
  isTTY: boolean;
  constructor(tty: boolean) {
    super();
    this.isTTY = tty;
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface CliOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Lines typed by the user; stdin and stdout then claim to be a terminal. */
  readonly answers?: readonly string[];
}

export async function runCli(args: readonly string[], opts: CliOptions): Promise<CliOutput> {
  const tty = opts.answers !== undefined;
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  stdin.isTTY = tty;
  stdin.end(opts.answers?.map((a) => `${a}\n`).join('') ?? '');
  const stdout = new Capture(tty);
  const stderr = new Capture(false);
  const ctx: CommandContext = {
    cwd: opts.cwd,
    env: opts.env ?? { PATH: process.env.PATH },
    stdout,
    stderr,
    stdin,
  };
  const code = await main(args, ctx);
  return { code, stdout: stdout.text, stderr: stderr.text };
}
