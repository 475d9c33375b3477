// Shared by the transport integration tests.
import type { NodeRunner, RunOptions, RunResult } from '../../../src/shell/transport/types.js';

/** Arguments that a naive `ssh host cmd args...` would mangle. */
export const NASTY_ARGS: readonly string[] = [
  'two words',
  "it's",
  'say "hi"',
  '$(id -u)',
  '`id -u`',
  'a; touch /tmp/homelab-pwned',
  'line one\nline two\n',
  'héllo wörld ☃ 日本語',
  '',
  '*',
  '~',
  '$HOME',
  'back\\slash',
  '\t tab and  spaces ',
  "'",
  '"',
  "'\\''",
  'if',
  '-n',
  '--',
  'FOO=bar',
  '!',
  '#not a comment',
  '&& || | > < &',
  '{a,b}',
  '%s %d',
];

/** A remote command that prints each of its arguments as hex, one line per argument. */
export const HEX_ARGS = [
  'bash',
  '-c',
  'for a in "$@"; do printf %s "$a" | od -An -v -tx1 | tr -d " \\n"; echo; done',
  'hex',
];

export const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

interface Collected {
  readonly result: RunResult;
  readonly out: string[];
  readonly err: string[];
}

export async function collect(
  runner: NodeRunner,
  argv: readonly string[],
  options: RunOptions = {},
): Promise<Collected> {
  const out: string[] = [];
  const err: string[] = [];
  const result = await runner.run(argv, {
    ...options,
    onStdout: (l) => out.push(l),
    onStderr: (l) => err.push(l),
  });
  return { result, out, err };
}
