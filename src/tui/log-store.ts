// The live logs of running stages, kept outside React: lines arrive at any rate, are queued, and
// flushed into one bounded ring buffer per node every ~50 ms; React reads the store through
// useSyncExternalStore (subscribe + version), so a flood of lines costs one redraw per batch.

export interface Scheduler {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realScheduler: Scheduler = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** A fixed-capacity ring of lines: pushing past capacity drops the oldest. */
export class Ring {
  private readonly buf: string[];
  private start = 0;
  private count = 0;
  /** Lines ever pushed (so a reader can tell how many were dropped). */
  total = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<string>(capacity);
  }

  push(line: string): void {
    const at = (this.start + this.count) % this.capacity;
    this.buf[at] = line;
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
    this.total++;
  }

  get length(): number {
    return this.count;
  }

  /** `n` lines ending `fromEnd` lines before the newest, oldest first. */
  tail(n: number, fromEnd = 0): string[] {
    const end = Math.max(0, this.count - fromEnd);
    const begin = Math.max(0, end - n);
    const out: string[] = [];
    for (let i = begin; i < end; i++) out.push(this.buf[(this.start + i) % this.capacity] ?? '');
    return out;
  }

  clear(): void {
    this.start = 0;
    this.count = 0;
  }
}

// SGR colour sequences stay; every other escape or control sequence (cursor moves, screen clears,
// carriage returns) would break the frame, so it goes.
const ESCAPES = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
const CONTROLS = /[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f]|\x1b(?!\[[0-9;]*m)/g;

/** Makes a node's log line safe to draw inside a pane: colours kept, tabs expanded. */
export function sanitizeLine(line: string, colour = true): string {
  const cleaned = line
    .replace(/\r(?!$)/g, '\n')
    .split('\n')
    .pop()!
    .replace(ESCAPES, (seq) => (colour && /^\x1b\[[0-9;]*m$/.test(seq) ? seq : ''))
    .replace(/\t/g, '  ')
    .replace(CONTROLS, '');
  return cleaned.length > 2000 ? `${cleaned.slice(0, 2000)}…` : cleaned;
}

export class LogStore {
  private readonly rings = new Map<string, Ring>();
  private queue: Array<readonly [string, string]> = [];
  private timer: unknown = null;
  private listeners = new Set<() => void>();
  private ver = 0;

  constructor(
    readonly capacity = 2000,
    readonly batchMs = 50,
    private readonly scheduler: Scheduler = realScheduler,
    /** Keep the colours of the node's lines (false under NO_COLOR). */
    private readonly colour = true,
  ) {}

  /** Queues a line; the screen sees it at the next flush. */
  push(node: string, line: string): void {
    this.queue.push([node, line]);
    if (this.timer === null) this.timer = this.scheduler.set(() => this.flush(), this.batchMs);
  }

  /** Starts a fresh log for a node (a new stage run). */
  reset(node: string): void {
    this.flush();
    this.rings.get(node)?.clear();
    this.bump();
  }

  flush(): void {
    if (this.timer !== null) {
      this.scheduler.clear(this.timer);
      this.timer = null;
    }
    if (this.queue.length === 0) return;
    const queued = this.queue;
    this.queue = [];
    for (const [node, line] of queued) this.ring(node).push(sanitizeLine(line, this.colour));
    this.bump();
  }

  lines(node: string, n: number, fromEnd = 0): string[] {
    return this.rings.get(node)?.tail(n, fromEnd) ?? [];
  }

  size(node: string): number {
    return this.rings.get(node)?.length ?? 0;
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Changes whenever any log changed: the snapshot for useSyncExternalStore. */
  readonly version = (): number => this.ver;

  dispose(): void {
    if (this.timer !== null) this.scheduler.clear(this.timer);
    this.timer = null;
    this.queue = [];
    this.listeners.clear();
  }

  private ring(node: string): Ring {
    let r = this.rings.get(node);
    if (!r) {
      r = new Ring(this.capacity);
      this.rings.set(node, r);
    }
    return r;
  }

  private bump(): void {
    this.ver++;
    for (const l of this.listeners) l();
  }
}
