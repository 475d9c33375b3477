// Generic token shapes (AWS, GCP, GitHub, Slack, npm, OpenAI, Anthropic, SendGrid, Shopify,
// Linear, 1Password, private keys, basic auth in URLs, database connection strings) from
// secretlint's recommended preset: a rule set kept up to date by others, where the homelab's own
// rules (core/inventory/secret-scan.ts) cover what is specific to compose files and the node.
// Loaded on first use (about 80 ms); only small texts go through it (it takes ~3 ms per 1 KB).
import type { Problem } from '../../core/problem.js';
import type { SecretHome, TextKind } from '../../core/inventory/secret-scan.js';
import { secretFix } from '../../core/inventory/secret-scan.js';

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

type Lint = (
  text: string,
  file: string,
) => Promise<Array<{ ruleId: string; line: number; col: number }>>;
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

/** Every token secretlint finds in the texts, as problems with the homelab's fix. */
export async function scanTokens(inputs: readonly TokenScanInput[]): Promise<Problem[]> {
  const small = inputs.filter((i) => i.text.length <= MAX_TOKEN_SCAN_BYTES && i.text.length > 0);
  if (small.length === 0) return [];
  linting ??= loadLint();
  const lint = await linting;
  const out: Problem[] = [];
  for (const input of small) {
    for (const m of await lint(input.text, input.file))
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
