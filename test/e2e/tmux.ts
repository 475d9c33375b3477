// A real terminal for the TUI tests: a private tmux server (its own socket), one session running a
// clean bash, keys sent as a person types them, the screen read with capture-pane, polled with a
// deadline (see ../shared/LAB.md).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface Terminal {
  readonly socket: string;
  /** Types text (literally) into the terminal. */
  type(text: string): void;
  /** Presses tmux key names, one after the other, with no pause: 'Enter', 'Escape', 'Down', 'j', 'F5'. */
  press(...keys: string[]): Promise<void>;
  /** The visible screen, one string per row (trailing spaces trimmed). */
  screen(): string[];
  /** The visible screen with its escape sequences (capture-pane -e): colours, bold, inverse. */
  screenEscapes(): string;
  /** Waits until the screen satisfies `test` (a string it contains, or a predicate). */
  waitFor(
    test: string | RegExp | ((rows: string[]) => boolean),
    timeoutMs?: number,
  ): Promise<string[]>;
  resize(cols: number, rows: number): void;
  size(): { cols: number; rows: number };
  kill(): void;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function openTerminal(opts: {
  cols: number;
  rows: number;
  env?: Readonly<Record<string, string>>;
  cwd?: string;
}): Terminal {
  const socket = `hl-e2e-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]): string =>
    execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', cwd: opts.cwd });
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  tmux(
    '-f',
    '/dev/null',
    'new-session',
    '-d',
    '-s',
    'main',
    '-x',
    String(opts.cols),
    '-y',
    String(opts.rows),
    'env',
    ...env,
    'bash',
    '--norc',
    '--noprofile',
  );
  tmux('set-option', '-g', 'status', 'off');
  const screen = (): string[] =>
    tmux('capture-pane', '-p', '-t', 'main')
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => l.trimEnd());
  return {
    socket,
    type(text) {
      tmux('send-keys', '-t', 'main', '-l', text);
    },
    async press(...keys) {
      // As fast as tmux sends them: the app handles every key in order (a burst included), so
      // tests wait for what the screen shows, never for time to pass between keys.
      for (const k of keys) tmux('send-keys', '-t', 'main', k);
      await Promise.resolve();
    },
    screen,
    screenEscapes: () => tmux('capture-pane', '-p', '-e', '-t', 'main'),
    async waitFor(test, timeoutMs = 20_000) {
      const ok = (rows: string[]): boolean =>
        typeof test === 'string'
          ? rows.join('\n').includes(test)
          : test instanceof RegExp
            ? test.test(rows.join('\n'))
            : test(rows);
      const end = Date.now() + timeoutMs;
      for (;;) {
        const rows = screen();
        if (ok(rows)) return rows;
        if (Date.now() > end)
          throw new Error(
            `screen never showed ${String(test)} within ${timeoutMs} ms; it shows:\n${rows.join('\n')}`,
          );
        await pause(100);
      }
    },
    resize(cols, rows) {
      tmux('resize-window', '-t', 'main', '-x', String(cols), '-y', String(rows));
    },
    size() {
      const [cols = '0', rows = '0'] = tmux(
        'display-message',
        '-p',
        '-t',
        'main',
        '#{window_width} #{window_height}',
      )
        .trim()
        .split(' ');
      return { cols: Number(cols), rows: Number(rows) };
    },
    kill() {
      try {
        tmux('kill-server');
      } catch {
        // Already gone.
      }
    },
  };
}
