// No secrets in Git: the homelab's own rules for committed credentials, on top of the generic token
// shapes of secretlint's recommended preset (run by the shell, src/shell/inventory/token-scan.ts).
// - line rules over any text: Tailscale keys, private keys (PGP blocks included), AWS key ids,
//   passwords in URLs, `--db-password=...` flags, `curl -u user:pass`, htpasswd hashes, and
//   `password = ...` assignments in config files and in YAML comments;
// - a walk of each YAML document: a credential-named key (anywhere, anchors and `<<:` merges
//   included, since the literal is written somewhere in the file) set to a literal, `KEY=value`
//   list items, a flag followed by its value in a command list, and generated-looking values in a
//   compose `environment:` under any name.
// Messages say where the value belongs and never repeat it.
import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import type { Problem } from '../problem.js';
import type { Position, YamlSource } from './yaml-source.js';
import { formatField } from './yaml-source.js';
import { scalarText } from './scalar-text.js';

/** Key names whose value is a credential. */
const SECRET_KEY =
  /PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|AUTH_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|SIGNING_?KEY|ENCRYPTION_?KEY|(^|[_.-])(PASS|PWD|SALT|HMAC)($|[_.-])/i;
/** Settings about a secret rather than the secret: `*_FILE` names a file, `*_TTL` a duration... */
const SETTING_KEY =
  /[_.-](FILE|PATH|DIR|ENABLED|DISABLED|TTL|EXPIRY|EXPIRES|LIFETIME|LENGTH|TIMEOUT|MIN|MAX|URL|NAME|USER|USERNAME|TYPE|MODE|METHOD|HEADER|POLICY|REQUIRED|SECONDS|DAYS|HOURS)$/i;
/** Flags and switches are not credentials. */
const FLAG_VALUE = /^(true|false|yes|no|on|off|null|none|~)$/i;
const TAILSCALE_KEY = /tskey-[A-Za-z0-9]/g;
const PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g;
const AWS_KEY_ID = /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/g;
// Every repetition is bounded and every rule starts at a word boundary: a 1 MiB line costs
// linear time, never quadratic.
const URL_CREDENTIAL =
  /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}:\/\/([^\s/@:'"`]{1,256}):([^\s/@'"`]{1,256})@/gi;
const SECRET_FLAG =
  /(?<![\w-])--?([A-Za-z0-9]{1,32}-){0,6}(password|passwd|pwd|secret|token|api-?key|auth-?key)(?!-(file|path|dir|env))(-[A-Za-z0-9]{1,32}){0,6}(?:=|[ \t]{1,16}|["'][ \t]{0,16},[ \t]{0,16}["'])["']?([^\s"',\]]{1,256})/gi;
const BASIC_AUTH_FLAG =
  /(?<![\w-])(?:-u|--user)(?:[ \t]{1,16}|=|["'][ \t]{0,16},[ \t]{0,16}["'])["']?([^\s"':$]{1,128}):([^\s"',\]]{1,256})/g;
/** htpasswd lines and basic-auth labels: bcrypt and apr1 hashes alone, crypt and SHA after `user:`. */
const HTPASSWD =
  /(\$\$?)(?:2[abxy]?|apr1)\1[./A-Za-z0-9$]{20,200}|(?<![A-Za-z0-9._@-])[A-Za-z0-9._@-]{1,64}:(?:(\$\$?)[156]\2[./A-Za-z0-9$]{8,200}|\{SHA\}[A-Za-z0-9+/=]{20,200})/g;
const ASSIGNMENT =
  /(?:^|[\s{,;(])["']?([A-Za-z][A-Za-z0-9_.-]{0,127})(?![A-Za-z0-9_.-])["']?[ \t]{0,16}[:=][ \t]{0,16}(?:"([^"\n]{0,1024})"|'([^'\n]{0,1024})'|([^\s,;#"'}]{1,1024}))/g;
/** A YAML comment: `#` at the start of a line or after whitespace. */
const YAML_COMMENT = /(?:^|\s)#(.*)$/;

export interface SecretHome {
  /** `<root>/config/<service>/.env` on the node, as the message should print it. */
  readonly envFile: string;
  readonly configDir: string;
}

/** What a scanned text is, which decides the rules and the fix. */
export type TextKind =
  /** A compose file: `${NAME}` is interpolated from the node's .env. */
  | 'compose'
  /** inventory/topology.yaml: values are checked by the schema, comments here. */
  | 'topology'
  /** Another YAML file (mounted config, templates). */
  | 'yaml'
  /** Any other text file (mounted .conf, .json, .ini, scripts). */
  | 'other'
  /** `.env.example` and friends: placeholder values are expected; only key shapes count. */
  | 'example'
  /** Larger than the text limit or with NUL bytes: only key shapes count. */
  | 'binary';

/** A problem with any key-shaped text cut out: messages quote what the user wrote, never a secret. */
export function hideSecrets(p: Problem): Problem {
  const message = p.message
    .replace(/tskey-[A-Za-z0-9-]+/g, 'tskey-…')
    .replace(/-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----/g, 'a private key')
    .replace(AWS_KEY_ID, 'AKIA…');
  return message === p.message ? p : { ...p, message };
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !SETTING_KEY.test(key);
}

/**
 * The literal text of a value once compose interpolation is cut out: `${VAR}`, `$VAR` and
 * `${VAR:?message}` go, `$$` is a literal `$`, and the defaults of `${VAR:-default}` and
 * `${VAR:+alt}` stay: they are written in the file.
 */
export function literalParts(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i] ?? '';
    const next = s[i + 1] ?? '';
    if (c === '$' && next === '$') {
      out += '$';
      i += 2;
    } else if (c === '$' && next === '{') {
      let depth = 1;
      let j = i + 2;
      for (; j < s.length && depth > 0; j++) {
        if (s[j] === '{') depth++;
        else if (s[j] === '}') depth--;
      }
      const inner = s.slice(i + 2, j - 1);
      const m = /^[A-Za-z_][A-Za-z0-9_]*(:?[-+?])?([\s\S]*)$/.exec(inner);
      if (!m) out += s.slice(i, j);
      else if (m[1] !== undefined && !m[1].endsWith('?')) out += literalParts(m[2] ?? '');
      i = j;
    } else if (c === '$' && /[A-Za-z_]/.test(next)) {
      i++;
      while (i < s.length && /[A-Za-z0-9_]/.test(s[i] ?? '')) i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** True when a value written for a credential holds literal text. */
export function isLiteralSecret(value: unknown): boolean {
  if (value === null || value === undefined || typeof value === 'boolean') return false;
  const s = scalarText(value).trim();
  if (s === '' || FLAG_VALUE.test(s)) return false;
  if (/^\d{1,7}$/.test(s)) return false; // ports, counts, durations
  if (/^<[^<>]*>$|^\{\{.*\}\}$/.test(s)) return false; // <placeholder>, {{ template }}
  if (/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(s)) return false; // the name of a variable, not a value
  return literalParts(s).replace(/[\s:/@._,;=-]/g, '').length >= 3;
}

/** A value under a non-credential name that looks generated: long, mixed case and digits, dense. */
export function looksGenerated(value: string): boolean {
  const s = literalParts(value);
  if (s.length < 20 || s.length > 4096 || /\s/.test(s) || s.includes('://') || s.startsWith('/'))
    return false;
  if (!/[a-z]/.test(s) || !/[A-Z]/.test(s) || !/[0-9]/.test(s)) return false;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / s.length) * Math.log2(n / s.length);
  return bits >= 3.5;
}

/** The fix for a secret value found in a file of `kind`, for the variable `name`. */
export function secretFix(kind: TextKind, home: SecretHome, name = 'NAME'): string {
  const where = `${home.envFile} on the node`;
  if (kind === 'compose')
    return (
      `move the value to ${where} as ${name}=..., write \${${name}} in its place (Compose reads it from there), ` +
      'and change it: it stays in Git history'
    );
  if (kind === 'topology')
    return `remove it: the topology holds secret names only; put the value in ${where} as ${name}=... and change it`;
  return (
    `keep the value out of Git: put it in ${where} as ${name}=... and pass it to the service as \${${name}} from ` +
    `the compose file, or keep this file on the node under ${home.configDir}/ and mount it from there; and change it`
  );
}

function credentialMessage(key: string, home: SecretHome): string {
  return (
    `${key} is set to a literal value: secrets must not be committed to Git. Put ${key}=... in ` +
    `${home.envFile} on the node, write \${${key}} here instead, list ${key} under the service's ` +
    '"secrets:" in inventory/topology.yaml, and change the committed password'
  );
}

function envName(key: string): string {
  const n = key
    .replace(/^-+/, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
  return /^[A-Z_]/.test(n) ? n : 'NAME';
}

interface Finding {
  readonly line: number;
  readonly col: number;
  readonly field: string;
  readonly message: string;
}

function lineRules(line: string, kind: TextKind, home: SecretHome): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const m of line.matchAll(TAILSCALE_KEY))
    out.push([
      m.index,
      `a Tailscale auth key is committed here: revoke it in the Tailscale admin console, put the new key in ` +
        `${home.envFile} on the node (for example TS_AUTHKEY=...) and reference it as \${TS_AUTHKEY}`,
    ]);
  for (const m of line.matchAll(PRIVATE_KEY))
    out.push([
      m.index,
      `a private key is committed here: remove it from Git, replace it (it is no longer private), and keep ` +
        `the new one on the node under ${home.configDir}/, mounted into the container`,
    ]);
  for (const m of line.matchAll(AWS_KEY_ID))
    out.push([
      m.index,
      `an AWS access key id is committed here: deactivate the key in AWS IAM and ${secretFix(kind, home, 'AWS_ACCESS_KEY_ID')}`,
    ]);
  if (kind === 'binary') return out;

  const comment = YAML_COMMENT.exec(line);
  const isYaml = kind === 'compose' || kind === 'topology' || kind === 'yaml';
  const commentAt = comment ? comment.index + comment[0].indexOf('#') : line.length;
  // The topology's values are checked by its schema (check URLs, git.remote): here its comments only.
  const inScope = (at: number): boolean => kind !== 'topology' || at > commentAt;

  for (const m of line.matchAll(URL_CREDENTIAL))
    if (inScope(m.index) && isLiteralSecret(m[2]))
      out.push([
        m.index,
        `a password in a URL is committed here: ${secretFix(kind, home, 'URL_PASSWORD')}`,
      ]);
  if (kind === 'example') return out;
  for (const m of line.matchAll(SECRET_FLAG)) {
    const value = m[5] ?? '';
    if (inScope(m.index) && isLiteralSecret(value) && !value.startsWith('-'))
      out.push([
        m.index,
        `a password given as a command-line flag is committed here: ${secretFix(kind, home)}`,
      ]);
  }
  for (const m of line.matchAll(BASIC_AUTH_FLAG))
    if (inScope(m.index) && isLiteralSecret(m[2]))
      out.push([
        m.index,
        `a user:password for -u/--user is committed here: ${secretFix(kind, home, 'BASIC_AUTH')}`,
      ]);
  for (const m of line.matchAll(HTPASSWD))
    if (inScope(m.index))
      out.push([
        m.index,
        `a password hash (htpasswd, basic auth) is committed here: a hash can be cracked offline; ${secretFix(kind, home, 'BASIC_AUTH_USERS')}`,
      ]);
  // Assignments: everywhere in config files, only in comments of YAML (its keys are walked).
  const from = isYaml ? commentAt + 1 : 0;
  if (from < line.length)
    for (const m of line.slice(from).matchAll(ASSIGNMENT)) {
      const key = m[1] ?? '';
      const value = m[2] ?? m[3] ?? m[4] ?? '';
      // `password = set in /opt/...`: an unquoted value followed by more words is prose.
      const prose =
        m[4] !== undefined && /^\s+[A-Za-z]/.test(line.slice(from + m.index + m[0].length));
      if (isSecretKey(key) && isLiteralSecret(value) && !prose)
        out.push([
          from + m.index + m[0].indexOf(key),
          `${key} is set to a literal value here${isYaml ? ' (in a comment)' : ''}: ${secretFix(kind, home, envName(key))}`,
        ]);
    }
  return out;
}

/** The line rules over a whole text, with 1-based line and column. At most one finding per line. */
export function scanText(
  file: string,
  text: string,
  home: SecretHome,
  kind: TextKind = 'other',
): Problem[] {
  const out: Problem[] = [];
  text.split('\n').forEach((line, i) => {
    // The rules run from the most specific (a key's shape) to the most generic (an assignment).
    const first = lineRules(line, kind, home)[0];
    if (first) out.push({ file, line: i + 1, col: first[0] + 1, field: '', message: first[1] });
  });
  return out;
}

/** Values the line rules report at their exact column. */
function keyShaped(v: unknown): boolean {
  return (
    typeof v === 'string' && /tskey-|PRIVATE KEY|\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/.test(v)
  );
}

const FLAG_ONLY =
  /^--?([A-Za-z0-9]+-)*(password|passwd|pwd|secret|token|api-?key|auth-?key)(-[A-Za-z0-9]+)*$/i;
const MAX_DEPTH = 64;

/** Credentials in the values of a YAML document, at each value's position. */
export function scanYamlDocument(src: YamlSource, home: SecretHome, kind: TextKind): Problem[] {
  const found: Finding[] = [];
  const at = (node: YamlNode | null | undefined): Position =>
    node?.range ? src.pos(node.range[0]) : { line: 1, col: 1 };
  const push = (
    node: YamlNode | null | undefined,
    path: (string | number)[],
    message: string,
  ): void => {
    const p = at(node);
    found.push({ line: p.line, col: p.col, field: formatField(path), message });
  };
  const resolve = (node: unknown): unknown => (isAlias(node) ? node.resolve(src.doc) : node);

  const walk = (node: unknown, path: (string | number)[], depth: number): void => {
    if (depth > MAX_DEPTH) return;
    if (isMap(node)) {
      const underEnv = kind === 'compose' && path[path.length - 1] === 'environment';
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? scalarText(pair.key.value) : undefined;
        const value = resolve(pair.value);
        if (key !== undefined && key !== '<<' && isScalar(value) && !keyShaped(value.value)) {
          const v = value.value;
          const shown = isAlias(pair.value) ? (pair.value as YamlNode) : (value as YamlNode);
          if (isSecretKey(key) && isLiteralSecret(v)) {
            push(
              shown,
              [...path, key],
              kind === 'compose' || kind === 'topology'
                ? credentialMessage(key, home)
                : `${key} is set to a literal value: ${secretFix(kind, home, envName(key))}`,
            );
            continue;
          }
          if (underEnv && typeof v === 'string' && looksGenerated(v)) {
            push(
              shown,
              [...path, key],
              `${key} holds what looks like a generated secret: ${secretFix(kind, home, envName(key))}`,
            );
            continue;
          }
        }
        if (!isAlias(pair.value))
          walk(pair.value, key === undefined ? path : [...path, key], depth + 1);
      }
    } else if (isSeq(node)) {
      const underEnv = kind === 'compose' && path[path.length - 1] === 'environment';
      node.items.forEach((item, i) => {
        const v = resolve(item);
        if (isScalar(v) && typeof v.value === 'string' && !keyShaped(v.value)) {
          const s = v.value;
          const eq = s.indexOf('=');
          const key = eq > 0 ? s.slice(0, eq) : '';
          const value = s.slice(eq + 1);
          if (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(key) && isSecretKey(key) && isLiteralSecret(value)) {
            push(
              v,
              [...path, i],
              kind === 'compose'
                ? credentialMessage(key, home)
                : `${key} is set to a literal value: ${secretFix(kind, home, envName(key))}`,
            );
            return;
          }
          if (underEnv && key !== '' && looksGenerated(value)) {
            push(
              v,
              [...path, i],
              `${key} holds what looks like a generated secret: ${secretFix(kind, home, envName(key))}`,
            );
            return;
          }
          const prev = resolve(node.items[i - 1]);
          const flag = isScalar(prev) && typeof prev.value === 'string' ? prev.value : '';
          if (FLAG_ONLY.test(flag) && isLiteralSecret(s) && !s.startsWith('-'))
            push(
              v,
              [...path, i],
              `a password given as a command-line flag (${flag}) is committed here: ${secretFix(kind, home, envName(flag))}`,
            );
          else if (
            (flag === '-u' || flag === '--user') &&
            /^[^:\s$]+:/.test(s) &&
            isLiteralSecret(s.slice(s.indexOf(':') + 1))
          )
            push(
              v,
              [...path, i],
              `a user:password for ${flag} is committed here: ${secretFix(kind, home, 'BASIC_AUTH')}`,
            );
        } else if (!isAlias(item)) walk(item, [...path, i], depth + 1);
      });
    }
  };
  walk(src.doc.contents, [], 0);
  return found.map((f) => src.problem({ line: f.line, col: f.col }, f.field, f.message));
}

/** One secret problem per line is enough to act on: the first by column. */
export function onePerLine(problems: readonly Problem[]): Problem[] {
  const best = new Map<string, Problem>();
  for (const p of problems) {
    const k = `${p.file}\0${p.line}`;
    const have = best.get(k);
    if (!have || (p.line > 0 && p.col < have.col)) best.set(k, p);
  }
  const keep = new Set(best.values());
  return problems.filter((p) => p.line === 0 || keep.has(p));
}
