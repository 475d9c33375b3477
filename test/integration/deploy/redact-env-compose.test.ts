// The node reads .env the way Docker Compose does: every awkward file of the corpus, Compose's own
// values (asked through a generated project that references each key) against lib/redact.pl's; then
// every form those values take in Compose's and Go's errors, and the head a cut leaves, are redacted.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/node-fixture.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('docker');
const LIB = join(REPO_ROOT, 'scripts', 'deploy', 'lib');
const dir = mkdtempSync(join(tmpdir(), 'hl-envc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each file is valid for Compose; together they hold every rule of its dotenv parser we rely on.
const FILES = {
  comments:
    'A=inl1ne-secret # a comment\nB=tab\t#not-a-comment\nC=a#b\n# whole line\n  # indented\nD="x y" # after quotes\n',
  double:
    'A="dq \\"esc\\" \\n nl \\t tab"\nB="back\\\\slash"\nC="u \\u00c4 x \\x41 o \\0"\nD="dollar \\$HOME lit"\nE="multi\nline value"\n',
  single: "A='sq \\n $lit'\nB='with \"dq\" inside'\nC='esc \\' quote'\n",
  shapes:
    'export A=exported-val\nB = spaced-val \nC=\nD=dup1\nD=dup2\nE:yaml-style\nF=crlf-val\r\nG=ünï-cödé\nH=x=y=z\n',
  interpolation:
    'A=base-value\nB=${A}-ref\nC=$A/plain\nD=${NOPE:-fallback-1}\nE="${A:+alt-2}"\nF=a$$b\nG=${A}${A}\n',
} satisfies Record<string, string>;

/** What Compose gives each key: `config --format json` of a project whose environment references it. */
function composeValues(envFile: string, keys: readonly string[]): Record<string, string> {
  const compose = join(dir, 'gen.yml');
  writeFileSync(
    compose,
    `services:\n  x:\n    image: busybox:1.36\n    environment:\n${keys.map((k) => `      ${k}: "\${${k}}"\n`).join('')}`,
  );
  const out = execFileSync(
    'docker',
    ['compose', '--env-file', envFile, '-f', compose, '-p', 'envc', 'config', '--format', 'json'],
    { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } },
  );
  const env = (JSON.parse(out) as { services: { x: { environment: Record<string, string> } } })
    .services.x.environment;
  // `config` writes a literal $ as $$.
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace(/\$\$/g, '$')]));
}

function nodeValues(envFile: string): Record<string, string> {
  const raw = execFileSync('perl', [join(LIB, 'redact.pl'), 'env', envFile], { encoding: 'utf8' });
  const parts = raw.split('\0');
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) out[parts[i] as string] = parts[i + 1] as string;
  return out;
}

/** The node's redaction of each text, with the .env files under root loaded once. */
function nodeRedactAll(root: string, texts: readonly string[]): string[] {
  const out = execFileSync(
    'bash',
    [
      '-c',
      `source "${LIB}/redact.sh"; secrets_load "$1"; shift; for t in "$@"; do redact "$t"; printf '\\0'; done`,
      'test',
      root,
      ...texts,
    ],
    { encoding: 'utf8' },
  );
  return out.split('\0').slice(0, texts.length);
}

function nodeRedact(root: string, text: string): string {
  return nodeRedactAll(root, [text])[0] ?? '';
}

describe.skipIf(!ok)('.env read as Docker Compose reads it', () => {
  it.each(Object.keys(FILES))('%s: the same key -> value map as Compose', (name) => {
    const file = join(dir, `${name}.env`);
    writeFileSync(file, FILES[name as keyof typeof FILES]);
    const mine = nodeValues(file);
    const theirs = composeValues(file, Object.keys(mine));
    expect(mine).toEqual(theirs);
    expect(Object.keys(mine).length).toBeGreaterThanOrEqual(3);
  });

  it('redacts every value Compose gives, in text and as Compose and Go quote it in their errors', () => {
    const root = join(dir, 'root');
    const values: string[] = [];
    for (const [name, text] of Object.entries(FILES)) {
      mkdirSync(join(root, 'config', name), { recursive: true });
      const envFile = join(root, 'config', name, '.env');
      writeFileSync(envFile, text);
      const got = composeValues(envFile, Object.keys(nodeValues(envFile)));
      values.push(...Object.values(got).filter((v) => v.length >= 3));
    }
    expect(values.length).toBeGreaterThanOrEqual(25);
    const texts = values.map((v) => `raw ${v} |json ${JSON.stringify(v)} end`);
    const outs = nodeRedactAll(root, texts);
    values.forEach((v, i) => {
      expect(outs[i], v).not.toContain(v);
      expect(outs[i], v).not.toContain(JSON.stringify(v).slice(1, -1));
    });
  });

  it("redacts the values in Compose's own errors: a bad duration, size and port made of a secret", () => {
    const root = join(dir, 'root2');
    const svc = join(root, 'config', 'svc');
    mkdirSync(svc, { recursive: true });
    const env = join(svc, '.env');
    writeFileSync(env, 'D="geheim-Ä\\\\back\\"q-77"\nP=cfg\\back\\slash-9\nU="ctl-\\t-ünï"\n');
    const cases = [
      'healthcheck:\n      test: ["CMD", "true"]\n      interval: ${D}',
      'mem_limit: ${D}',
      'ports: ["${P}:80"]',
      'healthcheck:\n      test: ["CMD", "true"]\n      timeout: ${U}',
    ];
    for (const c of cases) {
      const file = join(dir, 'bad.yml');
      writeFileSync(file, `services:\n  x:\n    image: busybox:1.36\n    ${c}\n`);
      const r = spawnSync(
        'docker',
        ['compose', '--env-file', env, '-f', file, '-p', 'envbad', 'config', '-q'],
        { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } },
      );
      expect(r.status, c).not.toBe(0);
      const err = r.stderr;
      expect(err).toMatch(/geheim|cfg|ctl/);
      const out = nodeRedact(root, err);
      for (const bit of ['geheim', 'back', 'slash-9', 'ctl-']) expect(out, err).not.toContain(bit);
      expect(out).toContain('[REDACTED]');
    }
  });

  it('redacts the head of a secret a cut left at the end of a line, and a tail at the start', () => {
    const root = join(dir, 'root3');
    mkdirSync(join(root, 'config', 'svc'), { recursive: true });
    const secret = 'cut-me-0123456789abcdef-long-secret';
    writeFileSync(join(root, 'config', 'svc', '.env'), `S=${secret}\n`);
    const head = `${'x'.repeat(40)} ${secret.slice(0, 12)}`;
    const out = nodeRedact(root, `${head}\n${secret.slice(-10)} rest\nshort ${secret.slice(0, 5)}`);
    expect(out).toBe(`${'x'.repeat(40)} [REDACTED]\n[REDACTED] rest\nshort ${secret.slice(0, 5)}`);
  });
});
