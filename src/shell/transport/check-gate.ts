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
  /** A node whose retry keeps the turn for its next opening (see retry). */
  private reserved: string | undefined;
  private wakers: Array<() => void> = [];

  constructor(private readonly scoutMs = SCOUT_MS) {}

  /** The node whose check the tailnet waits for, if any. */
  current(): CheckHold | undefined {
    return this.holder && { node: this.holder.node, url: this.holder.url };
  }

  /**
   * The operator says the node's check is done: its held connection is stopped and `reopen` (the
   * node's next command) runs with the tailnet's turn kept for this node, from before the stop
   * until `reopen` ends: no other node opens in between, so the node's new opening is the next one
   * (and passes, once the check went through) and is never overtaken by another node's check.
   * When the node holds no check, `reopen` runs as any opening (through the gate as usual).
   */
  async retry<T>(node: string, reopen: () => Promise<T>): Promise<T> {
    const held = this.holder;
    if (held?.node !== node) return reopen();
    // Nobody else starts while the turn is reserved (enter() waits on busy in serial mode, and
    // retry keeps the gate serial: the holder leaving makes it 'checking' until someone opens).
    this.reserved = node;
    this.busy = true;
    try {
      await held.stop();
      this.release(node);
      return await reopen();
    } finally {
      if (this.reserved === node) {
        // Not taken by an opening of the node (its connection was up already): give it back.
        this.reserved = undefined;
        this.free();
      }
    }
  }

  private serial(): boolean {
    return this.state !== 'clear' || this.waiting.size > 0 || this.reserved !== undefined;
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
    if (this.reserved === node) {
      // Its retry kept the turn (busy) for this opening: take it.
      this.reserved = undefined;
      return this.ticketFor(node, true);
    }
    while (this.serial() && this.busy) {
      await new Promise<void>((resolve) => this.wakers.push(resolve));
      const late = this.blocked(node);
      if (late) return late;
    }
    if (this.serial()) {
      this.busy = true;
      turn = true;
    }
    return this.ticketFor(node, turn);
  }

  /** The node's ticket; with `turn`, the node has the turn (busy) until it ends or SCOUT_MS. */
  private ticketFor(node: string, hasTurn: boolean): CheckEntry {
    let turn = hasTurn;
    let timer: NodeJS.Timeout | undefined;
    if (turn) {
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
