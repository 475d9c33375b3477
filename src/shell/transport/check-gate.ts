// One Tailscale SSH check at a time per tailnet (SATURN is on one tailnet: one gate per Control).
//
// A Tailscale SSH policy in check mode makes the server print a banner with a URL and hold the
// connection until someone opens the URL and logs in. Opening such connections to many nodes at
// once gives the operator one browser tab per node; the gate makes them queue instead:
//
// - While one node holds a check (its connection waits for the browser), other nodes of the
//   tailnet do not connect at all: they report needs-check "waiting for <holder>" at once.
// - Until a connection of the tailnet has opened without a check, and again after a check was
//   seen until every node that waited has connected, openings go one at a time. A turn ends when
//   the opening ends, or after SCOUT_MS without a banner (a dead node does not hold the others up
//   for its whole connect timeout). Once a connection opens with no check and nobody waits,
//   openings run in parallel again.
//
// Pure bookkeeping over promises: no I/O, no processes (the runner owns those).

/**
 * How long one opening keeps the turn before the next may start, when no banner arrived. A banner
 * comes after a few round trips; an offline peer usually fails at once (tailscale knows it is
 * offline), so only a peer that is online but does not answer costs the others this wait.
 */
export const SCOUT_MS = 5000;

export interface CheckHold {
  readonly node: string;
  readonly url: string;
}

/** A node's turn to open its connection. Exactly one of ok/banner/failed ends it. */
export interface CheckTicket {
  /** The connection opened (no check, or the check passed while it was held). */
  ok(): void;
  /**
   * The banner arrived: 'hold' (this node is the one check of the tailnet; `stop` ends the held
   * connection when the operator says the check is done) or 'drop' the connection now.
   */
  banner(url: string, stop: () => Promise<void>): 'hold' | 'drop';
  /** The opening failed for another reason (or a held check ended without passing). */
  failed(): void;
}

export type CheckEntry =
  | { readonly kind: 'go'; readonly ticket: CheckTicket }
  | { readonly kind: 'blocked'; readonly by: CheckHold };

export class CheckGate {
  private state: 'unknown' | 'clear' | 'checking' = 'unknown';
  private holder: (CheckHold & { readonly stop: () => Promise<void> }) | undefined;
  private readonly waiting = new Set<string>();
  private busy = false;
  private wakers: Array<() => void> = [];

  constructor(private readonly scoutMs = SCOUT_MS) {}

  /** The node whose check the tailnet waits for, if any. */
  current(): CheckHold | undefined {
    return this.holder && { node: this.holder.node, url: this.holder.url };
  }

  /**
   * The operator says the node's check is done: its held connection is stopped and the turn is
   * free, so the node's next command connects again (and passes, once the check went through).
   */
  async retry(node: string): Promise<void> {
    const held = this.holder;
    if (held?.node !== node) return;
    await held.stop();
    this.release(node);
  }

  private serial(): boolean {
    return this.state !== 'clear' || this.waiting.size > 0;
  }

  private blocked(node: string): CheckEntry | undefined {
    if (!this.holder || this.holder.node === node) return undefined;
    this.waiting.add(node);
    return { kind: 'blocked', by: { node: this.holder.node, url: this.holder.url } };
  }

  private free(): void {
    this.busy = false;
    this.wake();
  }

  /** Lets queued openings look again (a holder came or went). */
  private wake(): void {
    const wake = this.wakers;
    this.wakers = [];
    for (const w of wake) w();
  }

  /** Waits for the node's turn to connect, or says which node's check it waits behind. */
  async enter(node: string): Promise<CheckEntry> {
    const early = this.blocked(node);
    if (early) return early;
    let turn = false;
    while (this.serial() && this.busy) {
      await new Promise<void>((resolve) => this.wakers.push(resolve));
      const late = this.blocked(node);
      if (late) return late;
    }
    let timer: NodeJS.Timeout | undefined;
    if (this.serial()) {
      this.busy = true;
      turn = true;
      timer = setTimeout(() => end(), this.scoutMs);
      timer.unref();
    }
    let ended = false;
    const end = (): void => {
      if (timer) clearTimeout(timer);
      if (turn) {
        turn = false;
        this.free();
      }
    };
    const finish = (): boolean => {
      const first = !ended;
      ended = true;
      end();
      return first;
    };
    const ticket: CheckTicket = {
      ok: () => {
        finish();
        this.succeeded(node);
      },
      banner: (url, stop) => {
        finish();
        this.state = 'checking';
        if (!this.holder || this.holder.node === node) {
          this.holder = { node, url, stop };
          this.waiting.delete(node);
          return 'hold';
        }
        this.waiting.add(node);
        return 'drop';
      },
      failed: () => {
        finish();
        this.release(node);
      },
    };
    return { kind: 'go', ticket };
  }

  /** The node's connection opened: it no longer waits; with nobody waiting, parallel again. */
  succeeded(node: string): void {
    if (this.holder?.node === node) this.holder = undefined;
    this.waiting.delete(node);
    if (this.waiting.size === 0 && !this.holder) this.state = 'clear';
    this.wake();
  }

  /** The node no longer holds the tailnet's check (it failed, or the operator said done). */
  release(node: string): void {
    if (this.holder?.node !== node) return;
    this.holder = undefined;
    this.wake();
  }
}

/** The gate of runners created without one (one process, one tailnet). */
export const defaultCheckGate = new CheckGate();
