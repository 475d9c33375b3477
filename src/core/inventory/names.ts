// What the inventory accepts as a name, user, path or address. These values travel into remote shell
// commands, compose project names and the tab-separated node manifest, so each rule is strict and
// each rejection says why.

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const SAFE_ABS_PATH = /^\/[A-Za-z0-9._/-]*$/;
const HOST_ADDRESS = /^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$/;
/** The longest DNS name (RFC 1035); no address or host name is longer. */
export const MAX_ADDRESS_LENGTH = 253;
/** Paths longer than PATH_MAX are not paths. */
export const MAX_PATH_LENGTH = 4096;
/** Characters a local file given to ssh may hold: no quotes, `$`, backticks, `%` tokens or globs. */
const LOCAL_FILE_CHAR = /[A-Za-z0-9 ._/~+@,:=-]/;
const GIT_BRANCH = /^[A-Za-z0-9._][A-Za-z0-9._/-]*$/;

/** A lowercase DNS label: node, service, role and tag names. */
export function isDnsLabel(s: string): boolean {
  return DNS_LABEL.test(s);
}

/** An environment variable name, as secrets are named in <root>/config/<service>/.env. */
export function isEnvName(s: string): boolean {
  return ENV_NAME.test(s);
}

/** A login name usable in `user@host`. */
export function isUnixUser(s: string): boolean {
  return UNIX_USER.test(s);
}

/** An absolute path without spaces or shell metacharacters. */
export function isSafeAbsolutePath(s: string): boolean {
  return SAFE_ABS_PATH.test(s) && !s.split('/').includes('..');
}

/** A MagicDNS name, host name or IP address; never starts with "-" (it would read as an ssh option). */
export function isHostAddress(s: string): boolean {
  return s.length <= MAX_ADDRESS_LENGTH && HOST_ADDRESS.test(s);
}

/**
 * Why a local file for ssh (`identityFile`, `knownHostsFile`) is unusable, or undefined when it is
 * fine. ssh reads these as config values (`%` starts a token, `"` quotes) and the path reaches argv.
 */
export function localFileFlaw(s: string): string | undefined {
  if (s.length === 0) return 'it is empty';
  if (s.length > MAX_PATH_LENGTH)
    return `it is ${s.length} characters long (at most ${MAX_PATH_LENGTH})`;
  if (s.startsWith('-')) return 'it starts with "-", so ssh would read it as an option';
  const bad = [...new Set([...s].filter((c) => !LOCAL_FILE_CHAR.test(c)))];
  if (bad.length > 0) {
    const shown = bad
      .slice(0, 4)
      .map((c) =>
        /^[\t\n]$/.test(c) || !/[\x00-\x1f\x7f]/.test(c) ? describeChar(c) : 'a control character',
      );
    return `it contains ${joinAnd([...new Set(shown)])}`;
  }
  return undefined;
}

export function isGitBranch(s: string): boolean {
  return GIT_BRANCH.test(s) && !s.includes('..') && !s.endsWith('/') && !s.endsWith('.lock');
}

function describeChar(c: string): string {
  if (c === ' ') return 'a space';
  if (c === '\t') return 'a tab';
  if (c === '\n') return 'a newline';
  if (c === '"') return 'a double quote';
  if (c === '`') return 'a backtick';
  return `"${c}"`;
}

function joinAnd(parts: readonly string[]): string {
  return parts.length <= 1
    ? parts.join('')
    : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1] ?? ''}`;
}

/** Why `s` is not a DNS label, in words a user can act on. */
export function dnsLabelFlaw(s: string): string {
  if (s.length === 0) return 'it is empty';
  if (s.length > 63) return `it is ${s.length} characters long (at most 63)`;
  const bad = [...new Set([...s].filter((c) => !/[a-z0-9-]/.test(c)))];
  const parts: string[] = [];
  if (bad.some((c) => /[A-Z]/.test(c))) parts.push('uppercase letters');
  const other = bad.filter((c) => !/[A-Z]/.test(c));
  if (other.length > 0) parts.push(...other.slice(0, 4).map(describeChar));
  if (parts.length > 0) return `it contains ${joinAnd(parts)}`;
  return 'it starts or ends with "-"';
}

/** A DNS label close to `s` (lowercased, other characters turned into "-"), or '' when none. */
export function toDnsLabel(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/** The message for a node or service name that is not a DNS label. */
export function badNameMessage(
  kind: 'node' | 'service' | 'role' | 'tag' | 'homelab',
  name: string,
): string {
  const fix = toDnsLabel(name);
  const shown = JSON.stringify(name);
  return (
    `${shown} is not a valid ${kind} name: ${dnsLabelFlaw(name)}. ` +
    'Names travel into remote shell commands, folder and compose project names, so only lowercase ' +
    'letters, digits and "-" are allowed (a DNS label of at most 63 characters, not starting or ending with "-")' +
    (fix && fix !== name ? `; for example "${fix}"` : '')
  );
}
