// The domain's words for a node as SATURN sees it: why it could not be reached, what a probe found,
// how a stage ended, what a rollback would do, SATURN's own repo. Types only: the shell produces
// these values (transports, Control, git), the core and the TUI's state read them.
import type { NodeStatusRecord, Stage } from '../protocol/events.js';

/** Why a node could not be reached (classified by core/remote/unreachable.ts). */
export type UnreachableReason =
  | 'no-route'
  | 'timeout'
  | 'auth-refused'
  | 'host-key-mismatch'
  | 'host-key-unknown'
  | 'command-not-found'
  | 'transport-missing'
  | 'connection-lost'
  /** Tailscale SSH holds the connection for a browser check (or waits behind another node's). */
  | 'needs-check'
  | 'unknown';

/** One `deploy.sh status` probe of a node. */
export type NodeProbe =
  | {
      readonly node: string;
      readonly reachable: true;
      readonly status: NodeStatusRecord;
      readonly probedAt: number;
      readonly latencyMs: number;
    }
  | {
      readonly node: string;
      readonly reachable: false;
      readonly reason: UnreachableReason;
      readonly message: string;
      /** With reason needs-check: the URL the operator opens to pass the check (screen-safe). */
      readonly checkUrl?: string;
      readonly probedAt: number;
      readonly latencyMs: number;
    };

/** SATURN's homelab repo as a stage sees it. */
export interface RepoInfo {
  /** SATURN's checked-out branch ('' when detached). */
  readonly branch: string;
  readonly head: string;
  readonly headSubject: string;
  /** Uncommitted paths under inventory/ or hosts/ (a stage refuses to run while any exist). */
  readonly dirty: readonly string[];
}

export type StageResult =
  'ok' | 'failed' | 'interrupted' | 'unreachable' | 'cancelled' | 'locked' | 'refused';

/** How one stage run on one node ended. */
export interface StageOutcome {
  readonly node: string;
  readonly stage: Stage;
  readonly commit: string;
  readonly result: StageResult;
  readonly exitCode: number | null;
  /** Human explanation when result is not ok (unreachable reason, lock holder, refusal). */
  readonly message: string;
  readonly durationMs: number;
}

/** What a rollback would do: the known-good commit and what rolling back changes back. */
export interface RollbackInfo {
  readonly knownGood: string;
  readonly subject: string;
  readonly target: string;
  /** Paths below hosts/<node>/ that rolling back changes back. */
  readonly changes: readonly string[];
}
