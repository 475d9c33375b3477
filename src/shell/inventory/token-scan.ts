// Generic token shapes (AWS, GCP, GitHub, Slack, npm, OpenAI, Anthropic, SendGrid, Shopify,
// Linear, 1Password, private keys, basic auth in URLs, database connection strings) from
// secretlint's recommended preset: a rule set kept up to date by others, where the homelab's own
// rules (core/inventory/secret-scan.ts) cover what is specific to compose files and the node.
// Loaded on first use (about 80 ms); only small texts go through it (it takes ~3 ms per 1 KB).
//
// Its findings are kept by content: a text secretlint has read (the same path, the same bytes,
// the same rules) is not read again, so an unchanged repo costs one hash per file and secretlint
// is not even loaded. The cache is a file in SATURN's state folder (secret-scan.json: a hash of
// each text -> what secretlint found in it, findings included, never the text); a cache that is
// missing, unreadable or of other rules is ignored, and one that cannot be written only costs the
// next run a full scan.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Problem } from '../../core/problem.js';
import type { SecretHome, TextKind } from '../../core/inventory/secret-scan.js';
import { secretFix } from '../../core/inventory/secret-scan.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { stateDir } from '../state-dir.js';

/** Larger texts are scanned by the homelab's own rules only (secretlint costs ~3 s per MB). */
export const MAX_TOKEN_SCAN_BYTES = 256 * 1024;

export interface TokenScanInput {
  readonly file: string;
  readonly text: string;
  readonly home: SecretHome;
  readonly kind: TextKind;
  /** Set for a version only Git holds ('HEAD', 'the index'). */
  readonly where?: string;
}

const WHAT: Record<string, string> = {
  aws: 'an AWS secret key',
  gcp: 'a Google Cloud service account key',
  privatekey: 'a private key',
  npm: 'an npm token',
  basicauth: 'a password in a URL',
  slack: 'a Slack token or webhook',
  sendgrid: 'a SendGrid API key',
  shopify: 'a Shopify token',
  github: 'a GitHub token',
  openai: 'an OpenAI API key',
  anthropic: 'an Anthropic API key',
  linear: 'a Linear API key',
  '1password': 'a 1Password service account token',
  'database-connection-string': 'a database connection string with a password',
};

function what(ruleId: string): string {
  const short = ruleId.replace(/^@secretlint\/secretlint-rule-/, '');
  return WHAT[short] ?? `a secret (${short})`;
}

interface Finding {
  readonly ruleId: string;
  readonly line: number;
  readonly col: number;
}
type Lint = (text: string, file: string) => Promise<Finding[]>;
let linting: Promise<Lint> | undefined;

async function loadLint(): Promise<Lint> {
  const [{ lintSource }, { creator }] = await Promise.all([
    import('@secretlint/core'),
    import('@secretlint/secretlint-rule-preset-recommend'),
  ]);
  const config = { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: creator }] };
  return async (text, file) => {
    const r = await lintSource({
      source: { content: text, filePath: file, contentType: 'text' },
      options: { config, maskSecrets: true, noPhysicFilePath: true },
    });
    return r.messages.map((m) => ({
      ruleId: m.ruleId,
      line: m.loc.start.line,
      col: m.loc.start.column + 1,
    }));
  };
}

/** Texts kept in the cache file at most (the newest scan's first). */
const MAX_CACHED = 5000;

interface ScanCache {
  /** The rules' identity: this tool's version and secretlint's (another version scans anew). */
  readonly rules: string;
  readonly entries: Record<string, readonly Finding[]>;
}

let rulesId: string | undefined;
/** This tool's version and secretlint's, from our package.json (shipped with the bundle). */
async function rules(): Promise<string> {
  if (rulesId !== undefined) return rulesId;
  const pkg = JSON.parse(await readFile(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
    version?: string;
    devDependencies?: Record<string, string>;
    dependencies?: Record<string, string>;
  };
  const deps = { ...pkg.devDependencies, ...pkg.dependencies };
  rulesId = [
    `homelab@${pkg.version ?? '?'}`,
    `core@${deps['@secretlint/core'] ?? '?'}`,
    `preset@${deps['@secretlint/secretlint-rule-preset-recommend'] ?? '?'}`,
  ].join(' ');
  return rulesId;
}

function cacheFile(env: NodeJS.ProcessEnv): string {
  return join(stateDir(env), 'secret-scan.json');
}

async function readCache(file: string, id: string): Promise<Record<string, readonly Finding[]>> {
  try {
    const cache = JSON.parse(await readFile(file, 'utf8')) as Partial<ScanCache>;
    if (cache.rules !== id || typeof cache.entries !== 'object' || cache.entries === null)
      return {};
    const entries: Record<string, readonly Finding[]> = {};
    for (const [k, v] of Object.entries(cache.entries))
      if (Array.isArray(v) && v.every(isFinding)) entries[k] = v;
    return entries;
  } catch {
    return {};
  }
}

function isFinding(f: unknown): f is Finding {
  if (typeof f !== 'object' || f === null) return false;
  const { ruleId, line, col } = f as Record<string, unknown>;
  return typeof ruleId === 'string' && Number.isInteger(line) && Number.isInteger(col);
}

/** The key of a text: its path and bytes (a rule may look at the file name). */
function keyOf(input: TokenScanInput): string {
  return createHash('sha256').update(input.file).update('\0').update(input.text).digest('hex');
}

export interface ScanOptions {
  /** Where the cache file lives (stateDir): default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Every token secretlint finds in the texts, as problems with the homelab's fix. */
export async function scanTokens(
  inputs: readonly TokenScanInput[],
  options: ScanOptions = {},
): Promise<Problem[]> {
  const small = inputs.filter((i) => i.text.length <= MAX_TOKEN_SCAN_BYTES && i.text.length > 0);
  if (small.length === 0) return [];
  const file = cacheFile(options.env ?? process.env);
  const id = await rules();
  const cached = await readCache(file, id);
  const keys = small.map(keyOf);
  const found = new Map<string, readonly Finding[]>();
  let fresh = false;
  for (const [i, input] of small.entries()) {
    const key = keys[i] ?? '';
    if (found.has(key)) continue;
    const known = cached[key];
    if (known) {
      found.set(key, known);
      continue;
    }
    linting ??= loadLint();
    const lint = await linting;
    found.set(key, await lint(input.text, input.file));
    fresh = true;
  }
  if (fresh) {
    const entries: Record<string, readonly Finding[]> = Object.fromEntries(found);
    let count = found.size;
    for (const [k, v] of Object.entries(cached)) {
      if (count >= MAX_CACHED) break;
      if (entries[k] === undefined) {
        entries[k] = v;
        count += 1;
      }
    }
    const cache: ScanCache = { rules: id, entries };
    // A cache is only a shortcut: a folder SATURN cannot write costs the next run a full scan.
    await writeFileAtomic(file, JSON.stringify(cache), { mode: 0o600, dirMode: 0o700 }).catch(
      () => undefined,
    );
  }
  const out: Problem[] = [];
  for (const [i, input] of small.entries()) {
    for (const m of found.get(keys[i] ?? '') ?? [])
      out.push({
        file: input.file,
        line: m.line,
        col: m.col,
        field: '',
        message:
          (input.where !== undefined ? `as committed in Git (${input.where}): ` : '') +
          `${what(m.ruleId)} is committed here: ${secretFix(input.kind, input.home)}`,
      });
  }
  return out;
}
