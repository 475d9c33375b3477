// POSIX shell quoting for arguments that travel to a node inside one ssh command string.
// ssh joins everything after the destination into one string and hands it to the login shell
// of the remote user (`$SHELL -c STRING`), so every argument is quoted here. Pure.
//
// The quoting is POSIX single quotes: inside '...' every byte is literal except the quote itself,
// which is written as '\'' (close, escaped quote, reopen). That holds for sh, dash, bash, ksh and
// zsh; a node whose login shell is not POSIX (fish, csh) is not supported.

/** Words that need no quotes: no shell metacharacter, no glob, no tilde, no '=' (assignments). */
const SAFE = /^[A-Za-z0-9_./:@%+,-]+$/;

/** Reserved words are only special unquoted, in command position: quote them always. */
const RESERVED = new Set([
  'case',
  'coproc',
  'do',
  'done',
  'elif',
  'else',
  'esac',
  'fi',
  'for',
  'function',
  'if',
  'in',
  'select',
  'then',
  'time',
  'until',
  'while',
]);

/**
 * Quotes one argument so that a POSIX shell reads it back byte for byte.
 * Plain words (`deploy.sh`, `/opt/homelab`, `--json`) stay as they are; everything else, including
 * spaces, quotes, `$()`, backticks, `;`, newlines and non-ASCII text, goes inside single quotes.
 * The empty string becomes `''`. A NUL character cannot be carried by any command line: it throws.
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new TypeError('a command argument cannot contain a NUL character');
  if (arg === '') return "''";
  if (SAFE.test(arg) && !RESERVED.has(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Quotes each argument and joins them with single spaces: the string a remote shell runs. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
