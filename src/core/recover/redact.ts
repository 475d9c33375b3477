// Redaction of secrets from text that leaves a node or reaches a person or a model. Pure.
//
// Two layers: the literal values of every .env key the caller knows (longest first), then
// shape rules for anything that looks like a credential whatever its origin. The node redacts its
// own .env values before printing (scripts/deploy/lib/redact.sh); SATURN runs this again over
// everything it puts in a prompt, on the screen or in a saved file.

export const REDACTED = '[REDACTED]';

/** Values shorter than this are not replaced literally (a value like `1` or `on` would shred the text). */
export const MIN_VALUE_LENGTH = 3;

interface Rule {
  readonly name: string;
  readonly pattern: RegExp;
  readonly replace: (match: string, ...groups: string[]) => string;
}

// Key names that mark an assignment's value as secret: PASSWORD=, db_secret: , "apiToken": ...
const SECRET_KEY = String.raw`[A-Za-z0-9_.-]*(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|AUTH_?KEY|PRIVATE_?KEY|CREDENTIALS?)[A-Za-z0-9_.-]*`;

const RULES: readonly Rule[] = [
  {
    name: 'private-key',
    pattern:
      /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
    replace: () => REDACTED,
  },
  { name: 'tailscale-key', pattern: /\btskey-[A-Za-z0-9_-]+/g, replace: () => REDACTED },
  {
    name: 'authorization-header',
    pattern: /\b(Authorization[ \t]*[:=][ \t]*)(?:(Bearer|Basic|Token|Digest)[ \t]+)?[^\s"',]+/gi,
    replace: (_m, head = '', scheme = '') => `${head}${scheme ? `${scheme} ` : ''}${REDACTED}`,
  },
  {
    name: 'bearer',
    pattern: /\b(Bearer)([ \t]+)[A-Za-z0-9._~+/=-]{8,}/gi,
    replace: (_m, scheme = '', space = '') => `${scheme}${space}${REDACTED}`,
  },
  {
    name: 'jwt',
    pattern: /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}/g,
    replace: () => REDACTED,
  },
  {
    name: 'aws-access-key',
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b/g,
    replace: () => REDACTED,
  },
  {
    name: 'github-token',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g,
    replace: () => REDACTED,
  },
  { name: 'slack-token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, replace: () => REDACTED },
  {
    name: 'url-credentials',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s@/]+)(@)/gi,
    replace: (_m, head = '', _pass = '', at = '') => `${head}${REDACTED}${at}`,
  },
  {
    // KEY=value, KEY: value, "key": "value", --password=value, -e TOKEN=value
    name: 'secret-assignment',
    pattern: new RegExp(
      String.raw`(["']?\b${SECRET_KEY}["']?)([ \t]*[=:][ \t]*)("[^"\n]*"|'[^'\n]*'|[^\s"',;]+)`,
      'gi',
    ),
    replace: (match, key = '', sep = '', value = '', offset = '', whole = '') => {
      const bare = value.replace(/^["']|["']$/g, '');
      // Prose in an error message, not an assignment: "services.web.environment.X_TOKEN: required variable ...".
      const after = String(whole).slice(
        Number(offset) + match.length,
        Number(offset) + match.length + 2,
      );
      if (key.includes('.') && /^[a-z]+$/.test(bare) && /^ [a-z]/.test(after)) return match;
      // Leave references and already-redacted text readable: ${DB_PASSWORD}, $$TOKEN, [REDACTED], empty.
      if (bare === '' || /^\$\$?\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(bare) || bare === REDACTED)
        return match;
      // YAML block scalars and flow collections (`secrets: [db]`) are structure, not a value.
      if (/^[|>][-+]?$/.test(bare) || /^[[{]/.test(bare)) return match;
      const quote = /^["']/.test(value) ? (value[0] ?? '') : '';
      return `${key}${sep}${quote}${REDACTED}${quote}`;
    },
  },
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The distinct values worth replacing literally, longest first (so a value containing another wins). */
export function redactableValues(values: readonly string[]): string[] {
  const unique = new Set(
    values.map((v) => v.trim()).filter((v) => v.length >= MIN_VALUE_LENGTH && v !== REDACTED),
  );
  return [...unique].sort((a, b) => b.length - a.length || a.localeCompare(b));
}

/** Replaces every literal value (e.g. the .env values of a node), then every credential-shaped text. */
export function redact(text: string, values: readonly string[] = []): string {
  let out = text;
  const literal = redactableValues(values);
  if (literal.length > 0) {
    out = out.replace(new RegExp(literal.map(escapeRegExp).join('|'), 'g'), REDACTED);
  }
  for (const rule of RULES) {
    out = out.replace(rule.pattern, rule.replace);
  }
  return out;
}

/** Values of a .env file's keys (KEY=VALUE lines, optional `export`, quotes stripped). Names are not returned. */
export function envValues(envText: string): string[] {
  const values: string[] = [];
  for (const raw of envText.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = (m[1] ?? '').trim();
    if (/^".*"$/.test(value) || /^'.*'$/.test(value)) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, '');
    if (value !== '') values.push(value);
  }
  return values;
}
