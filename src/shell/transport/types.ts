// How SATURN runs a command on a node. One interface for every transport (tailscale-ssh, ssh, local).
import type { UnreachableReason } from '../../core/node/types.js';

export interface RunOptions {
  /** Called once per complete line of the remote command's stdout, in order. */
  readonly onStdout?: (line: string) => void;
  /**
   * When given, a last stdout line without its newline (the connection was lost mid-line) goes
   * here instead of onStdout: a follower reads it again, whole, when it re-attaches.
   */
  readonly onStdoutPartial?: (line: string) => void;
  /** Called once per complete line of stderr (the ssh layer's own messages arrive here too). */
  readonly onStderr?: (line: string) => void;
  /** Text written to the remote command's stdin, then closed. Default: stdin is closed at once. */
  readonly input?: string;
  /** Aborting kills the local side (and its process group) and resolves with `cancelled: true`. */
  readonly signal?: AbortSignal;
  /** Overall deadline in milliseconds; absent means none. */
  readonly timeoutMs?: number;
}

export interface RunResult {
  /** Exit code of the remote command; null when it never ran or was cancelled. */
  readonly exitCode: number | null;
  readonly cancelled: boolean;
  readonly timedOut: boolean;
  /** Set when the transport itself failed (ssh exit 255, missing binary, 127 from the node shell). */
  readonly unreachable?: {
    readonly reason: UnreachableReason;
    readonly message: string;
    /** With reason needs-check: the URL of the Tailscale SSH check. */
    readonly checkUrl?: string;
  };
  readonly durationMs: number;
}

export interface NodeRunner {
  /** Runs argv on the node. Each argument arrives byte for byte: remote arguments are quoted. */
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Closes reused connections (ssh control masters). Safe to call twice. */
  close(): Promise<void>;
}
