// The command log: every command SATURN ran on a node (the argv quoted as it went out, its exit
// code and duration), kept in a bounded ring per process. The runner (runner.ts) records each
// command as it starts and completes it when it ends; the TUI lists it, `--verbose` prints it.
import { shellJoin } from '../../core/remote/quote.js';

export type CommandEnd = 'exit' | 'unreachable' | 'cancelled' | 'timed-out';

export interface CommandEntry {
  /** Increases by one per command recorded in this process. */
  readonly id: number;
  readonly node: string;
  readonly transport: string;
  /** The remote argv, quoted exactly as it went over ssh (for `local`, as a shell would read it). */
  readonly command: string;
  readonly startedAt: number;
  /** Absent while the command runs. */
  readonly end?: CommandEnd;
  readonly exitCode?: number | null;
  readonly durationMs?: number;
  /** Why it never ran, when the transport failed. */
  readonly message?: string;
}

export interface CommandLogOptions {
  readonly capacity?: number;
  readonly now?: () => number;
}

/** A fixed-capacity ring of commands: the oldest goes when it is full. */
export class CommandLog {
  readonly capacity: number;
  private readonly now: () => number;
  private entries: CommandEntry[] = [];
  private nextId = 1;
  private readonly listeners = new Set<(entry: CommandEntry) => void>();
  private ver = 0;

  constructor(opts: CommandLogOptions = {}) {
    this.capacity = Math.max(1, opts.capacity ?? 500);
    this.now = opts.now ?? Date.now;
  }

  /** Records a command as it starts; returns the function that records its end. */
  start(
    node: string,
    transport: string,
    argv: readonly string[],
  ): (end: {
    end: CommandEnd;
    exitCode: number | null;
    durationMs: number;
    message?: string;
  }) => void {
    const entry: CommandEntry = {
      id: this.nextId++,
      node,
      transport,
      command: safeJoin(argv),
      startedAt: this.now(),
    };
    this.entries.push(entry);
    if (this.entries.length > this.capacity)
      this.entries.splice(0, this.entries.length - this.capacity);
    this.changed(entry);
    let done = false;
    return (end) => {
      if (done) return;
      done = true;
      const finished: CommandEntry = {
        ...entry,
        end: end.end,
        exitCode: end.exitCode,
        durationMs: end.durationMs,
        ...(end.message ? { message: end.message } : {}),
      };
      const at = this.entries.findIndex((e) => e.id === entry.id);
      if (at >= 0) this.entries[at] = finished;
      this.changed(finished);
    };
  }

  /** Oldest first; only `node`'s when given. */
  list(node?: string): readonly CommandEntry[] {
    return node === undefined ? [...this.entries] : this.entries.filter((e) => e.node === node);
  }

  /** Called for each command as it starts and again when it ends. */
  subscribe(listener: (entry: CommandEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes whenever the log changed (a snapshot for useSyncExternalStore). */
  readonly version = (): number => this.ver;

  clear(): void {
    this.entries = [];
    this.ver++;
  }

  private changed(entry: CommandEntry): void {
    this.ver++;
    for (const l of this.listeners) l(entry);
  }
}

function safeJoin(argv: readonly string[]): string {
  try {
    return shellJoin(argv);
  } catch {
    return argv.map((a) => a.replace(/\0/g, '\\0')).join(' ');
  }
}

/** The process's one command log: every runner records into it unless given another. */
export const commandLog = new CommandLog();

/** One line for `--verbose` and the TUI: "alpha exit 0 31ms  deploy.sh status --root /x". */
export function describeCommand(e: CommandEntry): string {
  const result =
    e.end === undefined
      ? 'running'
      : e.end === 'exit'
        ? `exit ${e.exitCode ?? '?'}`
        : e.end === 'unreachable'
          ? 'unreachable'
          : e.end;
  const took = e.durationMs === undefined ? '' : ` ${formatMs(e.durationMs)}`;
  return `${e.node} ${result}${took}  ${e.command}`;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}
