// The alternate screen is entered once and left on every way out: normal exit, signals, a crash.
import { EventEmitter } from 'node:events';
import { describe, expect, test } from 'vitest';
import { ESCAPES, enterFullScreen } from '../../../src/tui/terminal.js';

class FakeOut extends EventEmitter {
  written = '';
  write(s: string): boolean {
    this.written += s;
    return true;
  }
}

class FakeProcess extends EventEmitter {
  exitCode: number | undefined;
  stderrText = '';
  stderr = { write: (s: string): boolean => ((this.stderrText += s), true) };
  exit(code: number): void {
    this.exitCode = code;
    this.emit('exit', code);
  }
}

function setup() {
  const out = new FakeOut();
  const proc = new FakeProcess();
  const screen = enterFullScreen(
    out as unknown as NodeJS.WriteStream,
    proc as unknown as NodeJS.Process,
  );
  return { out, proc, screen };
}

const count = (text: string, part: string): number => text.split(part).length - 1;

describe('full screen', () => {
  test('enters the alternate screen and leaves it exactly once', () => {
    const { out, proc, screen } = setup();
    expect(out.written.startsWith(ESCAPES.ENTER)).toBe(true);
    screen.leave();
    screen.leave();
    proc.emit('exit', 0);
    expect(count(out.written, ESCAPES.LEAVE)).toBe(1);
    expect(proc.listenerCount('SIGTERM')).toBe(0);
  });

  test.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ])('%s restores the terminal and exits %i', (signal, code) => {
    const { out, proc } = setup();
    proc.emit(signal);
    expect(out.written.endsWith(ESCAPES.LEAVE)).toBe(true);
    expect(proc.exitCode).toBe(code);
  });

  test('a crash restores the terminal before the error is printed', () => {
    const { out, proc } = setup();
    proc.emit('uncaughtException', new Error('boom'));
    expect(count(out.written, ESCAPES.LEAVE)).toBe(1);
    expect(proc.stderrText).toContain('boom');
    expect(proc.exitCode).toBe(70);
  });

  test('a resize clears the screen while it is up, not after', () => {
    const { out, screen } = setup();
    const before = out.written.length;
    out.emit('resize');
    expect(out.written.slice(before)).toBe('\x1b[2J\x1b[H');
    screen.leave();
    const after = out.written.length;
    out.emit('resize');
    expect(out.written.length).toBe(after);
  });
});
