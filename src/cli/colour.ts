// Colour for the plain subcommands' output (validate, status, run), through chalk. The level is
// decided from the command's own environment and stream, the way chalk's own detection would:
// NO_COLOR (set, not empty) turns colour off; FORCE_COLOR forces it (0/false off, 1-3 the level);
// otherwise colour only when the stream is a terminal (and TERM is not `dumb`). Only escapes are
// added: the text without them is the same as with colour off.
import { Chalk, type ChalkInstance } from 'chalk';

export interface Paint {
  /** Where a problem is (file:line:col), secondary text. */
  readonly dim: (text: string) => string;
  readonly ok: (text: string) => string;
  readonly error: (text: string) => string;
  readonly warn: (text: string) => string;
}

export function colourLevel(
  env: NodeJS.ProcessEnv,
  stream: NodeJS.WritableStream & { readonly isTTY?: boolean },
): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === '' || force === 'true') return 1;
    if (force === 'false') return 0;
    const n = Number.parseInt(force, 10);
    if (Number.isFinite(n)) return n <= 0 ? 0 : n >= 3 ? 3 : n === 2 ? 2 : 1;
    return 1;
  }
  return stream.isTTY === true && env.TERM !== 'dumb' ? 1 : 0;
}

export function paintFor(
  env: NodeJS.ProcessEnv,
  stream: NodeJS.WritableStream & { readonly isTTY?: boolean },
): Paint {
  const c: ChalkInstance = new Chalk({ level: colourLevel(env, stream) });
  return { dim: c.dim, ok: c.green, error: c.red, warn: c.yellow };
}

/** `warning: <text>` lines, the label in the warning colour. */
export function warningLines(paint: Paint, warnings: readonly string[]): string {
  return warnings.map((w) => `${paint.warn('warning:')} ${w}\n`).join('');
}
