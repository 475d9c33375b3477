// The service logs view's session and the command log's source, outside React. One service's logs
// stream at a time (`deploy.sh logs --follow` over the node's connection): lines go into the same
// bounded, batched LogStore as the stage log (2,000 lines, one redraw per 50 ms), every line
// screen-safe (toScreen, then the pane's sanitizeLine). The view state (filter, timestamps, pause,
// scroll) lives here too; the key router changes it through these methods.
import {
  formatLogLine,
  matchesFilter,
  parseLogLine,
  type ServiceLogsQuery,
} from '../../core/logs/service-log.js';
import type { Control } from '../../shell/control/types.js';
import { streamServiceLogs } from '../../shell/logs/service-logs.js';
import type { CommandEntry, CommandLog } from '../../shell/transport/command-log.js';
import { LogStore, type Scheduler } from '../log-store.js';

export type StreamStatus = 'connecting' | 'following' | 'ended' | 'failed' | 'unreachable';

export interface ServiceLogsState {
  readonly node: string;
  readonly service: string;
  readonly status: StreamStatus;
  /** Why the stream ended, when it did not end well. */
  readonly message: string;
  readonly filter: string;
  readonly timestamps: boolean;
  /** Lines scrolled up from the newest (shown lines, after the filter). */
  readonly scroll: number;
  /** Frozen: the lines as they were when paused; new lines are kept but not shown. */
  readonly paused: boolean;
}

export interface ShownLines {
  /** The lines to draw, oldest first (at most `n`). */
  readonly lines: readonly string[];
  /** Lines that pass the filter, of those held. */
  readonly matching: number;
  /** Lines held (bounded by the store's capacity). */
  readonly held: number;
  /** Lines that arrived since the pause. */
  readonly newSincePause: number;
}

export interface CommandLogView {
  /** The node whose commands are listed (all nodes when `all`). */
  readonly node: string;
  readonly all: boolean;
  /** Commands scrolled up from the newest. */
  readonly scroll: number;
}

export interface ViewsHostOptions {
  readonly control: Pick<Control, 'inventory' | 'nodeRunner'>;
  readonly commandLog: CommandLog;
  /** Keep colours in the lines (false under NO_COLOR). */
  readonly colour?: boolean;
  /** How many lines to start with (the tail). */
  readonly tail?: number;
  readonly capacity?: number;
  readonly batchMs?: number;
  readonly scheduler?: Scheduler;
}

const KEY = 'logs';

interface FormattedLine {
  readonly shown: string;
  readonly lower: string;
}

export class ViewsHost {
  readonly commandLog: CommandLog;
  /** The open stream's lines (one key: one stream at a time). */
  readonly store: LogStore;
  private state: ServiceLogsState | undefined;
  private abort: AbortController | undefined;
  private frozen: readonly string[] | undefined;
  private frozenTotal = 0;
  private total = 0;
  private readonly listeners = new Set<() => void>();
  private ver = 0;
  private commands: CommandLogView | undefined;
  private unwatchCommands: (() => void) | undefined;
  private readonly formatted = new Map<string, FormattedLine>();
  private formattedWithTimestamps = false;

  constructor(private readonly opts: ViewsHostOptions) {
    this.commandLog = opts.commandLog;
    this.store = new LogStore(
      opts.capacity ?? 2000,
      opts.batchMs ?? 50,
      opts.scheduler,
      opts.colour ?? true,
    );
    this.store.subscribe(() => this.bump());
  }

  /** The services of a node, in inventory order. */
  services(node: string): readonly string[] {
    return (
      this.opts.control.inventory.nodes.find((n) => n.name === node)?.services.map((s) => s.name) ??
      []
    );
  }

  get logs(): ServiceLogsState | undefined {
    return this.state;
  }

  /** Opens a service's logs: the last lines, then every new one (any open stream stops first). */
  open(node: string, service: string): void {
    this.stop();
    const spec = this.opts.control.inventory.nodes.find((n) => n.name === node);
    this.store.reset(KEY);
    this.total = 0;
    this.frozen = undefined;
    this.state = {
      node,
      service,
      status: 'connecting',
      message: '',
      filter: this.state?.filter ?? '',
      timestamps: this.state?.timestamps ?? false,
      scroll: 0,
      paused: false,
    };
    this.bump();
    if (!spec) {
      this.set({ status: 'failed', message: `no node ${node} in the inventory` });
      return;
    }
    const abort = new AbortController();
    this.abort = abort;
    const query: ServiceLogsQuery = { tail: this.opts.tail ?? 200, follow: true };
    void streamServiceLogs(this.opts.control.nodeRunner(node), {
      ...query,
      spec,
      service,
      signal: abort.signal,
      onLine: (line) => {
        if (abort.signal.aborted) return;
        this.total += 1;
        this.store.push(KEY, line);
        if (this.state?.status === 'connecting') this.set({ status: 'following' });
      },
    }).then(
      (end) => {
        if (this.abort !== abort) return;
        this.store.flush();
        if (end.result === 'cancelled') return;
        this.set(
          end.result === 'ok'
            ? { status: 'ended', message: 'the containers stopped: no more lines' }
            : {
                status: end.result === 'unreachable' ? 'unreachable' : 'failed',
                message: end.message,
              },
        );
      },
      (err: unknown) => {
        if (this.abort === abort)
          this.set({ status: 'failed', message: err instanceof Error ? err.message : String(err) });
      },
    );
  }

  /** Stops the stream and forgets the view. */
  close(): void {
    this.stop();
    this.state = undefined;
    this.frozen = undefined;
    this.store.reset(KEY);
    this.bump();
  }

  /** Opens the same service again (after it ended or failed). */
  reopen(): void {
    if (this.state) this.open(this.state.node, this.state.service);
  }

  setFilter(filter: string): void {
    this.set({ filter, scroll: 0 });
  }

  toggleTimestamps(): void {
    if (this.state) this.set({ timestamps: !this.state.timestamps });
  }

  togglePause(): void {
    if (!this.state) return;
    if (this.state.paused) this.resume();
    else this.pause();
  }

  /** Scrolls by `delta` shown lines (up is positive); scrolling up pauses, back at 0 follows again. */
  scroll(delta: number, page: number): void {
    const s = this.state;
    if (!s) return;
    if (delta > 0 && !s.paused) this.pause();
    const max = Math.max(0, this.shownAll().length - page);
    const scroll = Math.max(0, Math.min(max, s.scroll + delta));
    if (scroll === 0 && delta < 0) {
      this.resume();
      return;
    }
    this.set({ scroll });
  }

  /** Back to the newest line, following again. */
  toEnd(): void {
    this.resume();
  }

  /**
   * The lines to draw in `n` rows: filtered, formatted, from the scroll position. Without a filter
   * only those rows are formatted; with one, each held line is formatted once (the cache), so a
   * redraw per batch of a flood does not re-parse the 2,000 lines it holds.
   */
  shown(n: number): ShownLines {
    const s = this.state;
    const filter = (s?.filter ?? '').toLowerCase();
    const timestamps = s?.timestamps ?? false;
    const scroll = s?.scroll ?? 0;
    const held = this.frozen?.length ?? this.store.size(KEY);
    const newSincePause = this.frozen ? this.total - this.frozenTotal : 0;
    if (filter === '') {
      const end = Math.max(0, held - scroll);
      const begin = Math.max(0, end - n);
      const raw = this.frozen
        ? this.frozen.slice(begin, end)
        : this.store.lines(KEY, end - begin, held - end);
      return {
        lines: raw.map((line) => this.format(line, timestamps).shown),
        matching: held,
        held,
        newSincePause,
      };
    }
    const all = this.shownAll();
    const end = Math.max(0, all.length - scroll);
    return {
      lines: all.slice(Math.max(0, end - n), end),
      matching: all.length,
      held,
      newSincePause,
    };
  }

  get commandView(): CommandLogView | undefined {
    return this.commands;
  }

  /** Opens the command log on a node's commands; it redraws as commands start and end. */
  openCommandLog(node: string): void {
    this.commands = { node, all: this.commands?.all ?? false, scroll: 0 };
    this.unwatchCommands?.();
    this.unwatchCommands = this.commandLog.subscribe(() => this.bump());
    this.bump();
  }

  closeCommandLog(): void {
    this.unwatchCommands?.();
    this.unwatchCommands = undefined;
    this.commands = undefined;
    this.bump();
  }

  toggleCommandsAll(): void {
    if (!this.commands) return;
    this.commands = { ...this.commands, all: !this.commands.all, scroll: 0 };
    this.bump();
  }

  /** Scrolls the command log by `delta` commands (up is positive; -Infinity: to the newest). */
  scrollCommands(delta: number, page: number): void {
    if (!this.commands) return;
    const max = Math.max(0, this.commandEntries().length - page);
    const scroll = Math.max(0, Math.min(max, this.commands.scroll + delta));
    this.commands = { ...this.commands, scroll };
    this.bump();
  }

  /** The commands to draw in `n` rows, oldest first, and how many there are. */
  shownCommands(n: number): { readonly entries: readonly CommandEntry[]; readonly total: number } {
    const all = this.commandEntries();
    const end = Math.max(0, all.length - (this.commands?.scroll ?? 0));
    return { entries: all.slice(Math.max(0, end - n), end), total: all.length };
  }

  private commandEntries(): readonly CommandEntry[] {
    const v = this.commands;
    if (!v) return [];
    return this.commandLog.list(v.all ? undefined : v.node);
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Changes whenever the view or its lines changed (a snapshot for useSyncExternalStore). */
  readonly version = (): number => this.ver;

  dispose(): void {
    this.stop();
    this.unwatchCommands?.();
    this.store.dispose();
    this.listeners.clear();
  }

  /** Every held line that passes the filter, formatted, oldest first. */
  private shownAll(): string[] {
    const s = this.state;
    const filter = (s?.filter ?? '').toLowerCase();
    const timestamps = s?.timestamps ?? false;
    const raw = this.frozen ?? this.store.lines(KEY, this.store.capacity);
    const out: string[] = [];
    for (const line of raw) {
      const f = this.format(line, timestamps);
      // Matched against the cached lower-case form (the filter is case-insensitive).
      if (matchesFilter(f.lower, filter)) out.push(f.shown);
    }
    return out;
  }

  /**
   * A held line as shown (and lower-cased, for the filter), computed once per line: the same raw
   * line always shows the same way. Bounded: cleared when it holds twice the store's capacity, or
   * when the timestamps toggle.
   */
  private format(line: string, timestamps: boolean): FormattedLine {
    if (timestamps !== this.formattedWithTimestamps) {
      this.formatted.clear();
      this.formattedWithTimestamps = timestamps;
    }
    let f = this.formatted.get(line);
    if (f === undefined) {
      if (this.formatted.size >= 2 * this.store.capacity) this.formatted.clear();
      const shown = formatLogLine(parseLogLine(line), timestamps);
      f = { shown, lower: shown.toLowerCase() };
      this.formatted.set(line, f);
    }
    return f;
  }

  private pause(): void {
    this.store.flush();
    this.frozen = this.store.lines(KEY, this.store.capacity);
    this.frozenTotal = this.total;
    this.set({ paused: true });
  }

  private resume(): void {
    this.frozen = undefined;
    this.set({ paused: false, scroll: 0 });
  }

  private stop(): void {
    this.abort?.abort();
    this.abort = undefined;
  }

  private set(patch: Partial<ServiceLogsState>): void {
    if (!this.state) return;
    this.state = { ...this.state, ...patch };
    this.bump();
  }

  private bump(): void {
    this.ver++;
    for (const l of this.listeners) l();
  }
}
