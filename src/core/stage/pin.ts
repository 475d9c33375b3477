// Which commit a stage runs, and whether it may start at all: every stage SATURN starts is pinned to
// the commit the operator confirmed (docs/protocol.md: `--ref`). Pure: the node's status is read
// by the caller. deploy.sh checks the same again on the node (deploy and verify refuse a checkout
// other than --ref, resume a target other than --ref), so a race between this check and the run
// ends in a refusal, never in the wrong commit.
import type { NodeStatusRecord, Stage } from '../protocol/events.js';

/** Stages deploy.sh takes `--ref` on (rollback goes to the node's known-good, named in its plan). */
export const REF_STAGES: readonly Stage[] = ['prepare', 'deploy', 'verify', 'resume', 'up'];

/** Stages whose plan needs the node's status (its checkout, its target, its known-good). */
export const STATUS_STAGES: readonly Stage[] = ['deploy', 'verify', 'resume', 'rollback'];

export interface PinInput {
  readonly node: string;
  readonly stage: Stage;
  /** SATURN's HEAD. */
  readonly head: string;
  /** The commit the operator confirmed, when the caller asked (absent: the stage's default). */
  readonly confirmed?: string;
  /** The node's `deploy.sh status` (needed for STATUS_STAGES). */
  readonly status?: NodeStatusRecord;
}

export type Pin =
  | { readonly ok: true; readonly commit: string; readonly ref: boolean }
  | { readonly ok: false; readonly commit: string; readonly message: string };

/** Same commit, allowing either side to be abbreviated (7 hex digits at least). */
export function sameCommit(a: string, b: string): boolean {
  if (a.length < 7 || b.length < 7) return false;
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x.startsWith(y) || y.startsWith(x);
}

const short = (sha: string): string => (sha ? sha.slice(0, 7) : 'nothing');

export function pinStage(input: PinInput): Pin {
  const { node, stage, head, confirmed, status } = input;
  const prepareHint = `prepare first (homelab run prepare --node ${node})`;
  switch (stage) {
    case 'diagnose':
      return { ok: true, commit: '', ref: false };
    case 'prepare':
    case 'up':
      return { ok: true, commit: confirmed || head, ref: true };
    case 'deploy':
    case 'verify': {
      const want = confirmed || head;
      const at = status?.repoCommit ?? '';
      if (!sameCommit(at, want))
        return {
          ok: false,
          commit: want,
          message: `the node is at ${short(at)}, not ${short(want)}: ${prepareHint}`,
        };
      const deployed = status?.deployed ?? '';
      if (stage === 'verify' && !sameCommit(deployed, want))
        return {
          ok: false,
          commit: want,
          message: `${short(want)} is not deployed on the node (deployed: ${short(deployed)}): deploy first (homelab run deploy --node ${node})`,
        };
      return { ok: true, commit: want, ref: true };
    }
    case 'resume': {
      const target = status?.target ?? '';
      if (confirmed && target && !sameCommit(target, confirmed))
        return {
          ok: false,
          commit: confirmed,
          message: `resume on ${node} continues towards ${short(target)}, not ${short(confirmed)}: ${prepareHint}`,
        };
      return { ok: true, commit: confirmed || target || head, ref: true };
    }
    case 'rollback': {
      const knownGood = status?.knownGood ?? '';
      if (!knownGood)
        return {
          ok: false,
          commit: '',
          message: `${node} has no known-good commit (a verify has never passed there): nothing to roll back to`,
        };
      if (confirmed && !sameCommit(knownGood, confirmed))
        return {
          ok: false,
          commit: confirmed,
          message: `the known-good commit of ${node} is now ${short(knownGood)}, not the confirmed ${short(confirmed)}: nothing ran; ask again`,
        };
      return { ok: true, commit: knownGood, ref: false };
    }
  }
}
