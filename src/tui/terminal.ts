// The full-screen terminal: alternate screen buffer and hidden cursor while the TUI runs, restored
// on every way out (normal exit, signals, crash). Ink 6 does not do this itself.

const ENTER = '\x1b[?1049h\x1b[H\x1b[2J\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';

export interface FullScreen {
  /** Leaves the alternate screen (idempotent). */
  leave(): void;
}

type Out = Pick<NodeJS.WriteStream, 'write'> & Partial<Pick<NodeJS.WriteStream, 'on' | 'off'>>;

/** Clears the screen: after a resize the old frame's rows are not where Ink thinks they are. */
const CLEAR = '\x1b[2J\x1b[H';

/**
 * Enters the alternate screen on `out` and arranges for it to be left on exit, SIGINT, SIGTERM,
 * SIGHUP and on an uncaught exception (which is then re-thrown as a crash with the screen restored).
 */
export function enterFullScreen(out: Out, proc: NodeJS.Process = process): FullScreen {
  let active = true;
  out.write(ENTER);
  // Registered before Ink's own resize listener, so the screen is clean when Ink redraws.
  const onResize = (): void => {
    if (active) out.write(CLEAR);
  };
  out.on?.('resize', onResize);
  const leave = (): void => {
    if (!active) return;
    active = false;
    out.write(LEAVE);
    out.off?.('resize', onResize);
    proc.off('exit', leave);
    for (const [sig, h] of handlers) proc.off(sig, h);
    proc.off('uncaughtException', onCrash);
    proc.off('unhandledRejection', onCrash);
  };
  const signalExit = (sig: NodeJS.Signals, code: number) => (): void => {
    leave();
    // Default behaviour for the signal: exit with 128+n.
    proc.exit(code);
    void sig;
  };
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGINT', signalExit('SIGINT', 130)],
    ['SIGTERM', signalExit('SIGTERM', 143)],
    ['SIGHUP', signalExit('SIGHUP', 129)],
  ];
  const onCrash = (err: unknown): void => {
    leave();
    proc.stderr.write(
      `homelab: crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    proc.exit(70);
  };
  proc.on('exit', leave);
  for (const [sig, h] of handlers) proc.on(sig, h);
  proc.on('uncaughtException', onCrash);
  proc.on('unhandledRejection', onCrash);
  return { leave };
}

export const ESCAPES = { ENTER, LEAVE } as const;
