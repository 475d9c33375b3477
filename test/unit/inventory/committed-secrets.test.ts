// The corpus of committed secrets: one real Git repo per kind, each with one secret planted (and
// committed), and `loadInventory` must report it with file:line (and the fix: where the value goes
// on the node), never quoting the value. Also: symlinks that leave their service folder, files over
// 1 MiB or with NUL bytes, what Git holds but the working tree lost, and control characters in what
// validate prints. The repo's own example homelab stays valid.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem } from '../../../src/core/problem.js';
import { loadInventory } from '../../../src/shell/inventory/load.js';
import { runCli } from '../../support/cli.js';
import { BASE, compose, filesFor } from './helpers.js';
import type { Files } from './helpers.js';

const T = 'inventory/topology.yaml';
const ROOT = join(import.meta.dirname, '..', '..', '..');
const WORK = mkdtempSync(join(tmpdir(), 'homelab-secrets-'));
afterAll(() => rmSync(WORK, { recursive: true, force: true }));

// Values built from parts, so that no scanner mistakes this file for a leak.
const j = (...parts: string[]): string => parts.join('');
const PW = j('Zq7', 'vR2mXw9', 'Lp4sKt');
const GENERATED = j('aB3dE5', 'fG7hJ9kL1', 'mN2pQ4rS6tU8vW0x');
const GITHUB = j('ghp', '_', 'R8xK2mQ9vL4pN7tB3wZ6yH1cF5dJ0sA8eG2X');
const SLACK = j('xo', 'xb-', '123456789012-1234567890123-', 'AbCdEfGhIjKlMnOpQrStUvWx');
const AWS_ID = j('AK', 'IA', 'QWERTYUIOPASDFGH');
const AWS_SECRET = j('Zx8vQ2mN4pL6', 'kJ9hG3fD1sA7wE5', 'rT0yU2iO4pL6k');
const TSKEY = j('tskey', '-auth-', 'kXb2Yc3CNTRL', '-Qw8e7r6t5y4u3i2o1p');
const BCRYPT = j('$$2y$$05$$', 'c9Vh3nJ0QmLkT2xW8pR5sO', 'eYbF1gH4iK7lM6nN9oP3qR2sT5uV8w');
const OPENSSH_KEY = j(
  '-----BEGIN OPENSSH ',
  'PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH ',
  'PRIVATE KEY-----\n',
);
const PGP_KEY = j(
  '-----BEGIN PGP ',
  'PRIVATE KEY BLOCK-----\n\nlQOYBF4AAAABCADmZ3V4cXJ0\n-----END PGP ',
  'PRIVATE KEY BLOCK-----\n',
);
/** Every value above: none may appear in any message. */
const VALUES = [
  PW,
  GENERATED,
  GITHUB,
  SLACK,
  AWS_ID,
  AWS_SECRET,
  TSKEY,
  BCRYPT.replaceAll('$$', '$'),
  'b3BlbnNzaC1rZXktdjEAAAAA',
  'lQOYBF4AAAABCADmZ3V4cXJ0',
];

const GITEA = 'hosts/saturn/gitea/docker-compose.yml';
const CADDY_DIR = 'hosts/mercury/caddy';
const env = (lines: string): string => compose('gitea', `    environment:\n${lines}`);

interface Case {
  readonly name: string;
  readonly files?: Files;
  readonly topology?: string;
  /** Files committed, then removed from the working tree (what Git holds, not the folder). */
  readonly deleteAfterCommit?: readonly string[];
  /** Files changed in the working tree after the commit: the committed version held the secret. */
  readonly afterCommit?: Files;
  /** Staged (git add) but not committed, then removed from the working tree. */
  readonly stagedOnly?: Files;
  /** Each expected problem: `file:line` (optionally `:col`) and a fragment of its message. */
  readonly expected: ReadonlyArray<readonly [string, string]>;
}

const CASES: readonly Case[] = [
  {
    name: '.envrc at the repo root',
    files: { '.envrc': `export DB_PASSWORD=${PW}\n` },
    expected: [['.envrc', 'secrets file committed to Git']],
  },
  {
    name: '*.env.bak in a service folder',
    files: { 'hosts/saturn/gitea/gitea.env.bak': `X=${PW}\n` },
    expected: [
      [
        'hosts/saturn/gitea/gitea.env.bak',
        'move it to /opt/homelab/config/gitea/.env on node "saturn"',
      ],
    ],
  },
  {
    name: '.env at the repo root',
    files: { '.env': `X=${PW}\n` },
    expected: [['.env', 'secrets file committed to Git']],
  },
  {
    name: '.env under inventory/',
    files: { 'inventory/.env': `X=${PW}\n` },
    expected: [['inventory/.env', 'secrets file committed to Git']],
  },
  {
    name: 'environment literal under a non-credential name',
    files: { [GITEA]: env(`      APP_CONFIG_VALUE: ${GENERATED}\n`) },
    expected: [
      [
        `${GITEA}:6:25`,
        'APP_CONFIG_VALUE holds what looks like a generated secret: move the value to /opt/homelab/config/gitea/.env on the node as APP_CONFIG_VALUE=..., write ${APP_CONFIG_VALUE} in its place',
      ],
    ],
  },
  {
    name: 'DATABASE_URL with user:password@',
    files: { [GITEA]: env(`      DATABASE_URL: postgres://gitea:${PW}@db:5432/gitea\n`) },
    expected: [
      [
        `${GITEA}:6:21`,
        'a password in a URL is committed here: move the value to /opt/homelab/config/gitea/.env',
      ],
    ],
  },
  {
    name: 'literal mixed with ${VAR}',
    files: { [GITEA]: env(`      ADMIN_PASSWORD: "\${PREFIX}${PW}"\n`) },
    expected: [
      [
        `${GITEA}:6:23`,
        'ADMIN_PASSWORD is set to a literal value: secrets must not be committed to Git. Put ADMIN_PASSWORD=... in /opt/homelab/config/gitea/.env',
      ],
    ],
  },
  {
    name: 'literal as the default of ${VAR:-...}',
    files: { [GITEA]: env(`      DB_PASSWORD: \${DB_PASSWORD:-${PW}}\n`) },
    expected: [[`${GITEA}:6:20`, 'DB_PASSWORD is set to a literal value']],
  },
  {
    name: 'value reached through a YAML anchor',
    files: {
      [GITEA]: `x-secrets: &db\n  DB_PASSWORD: ${PW}\n${compose('gitea', '    environment: *db\n')}`,
    },
    expected: [[`${GITEA}:2:16`, 'DB_PASSWORD is set to a literal value']],
  },
  {
    name: 'value reached through a <<: merge',
    files: {
      [GITEA]: `x-env: &env\n  SMTP_PASS: ${PW}\n${compose('gitea', '    environment:\n      <<: *env\n      TZ: Europe/Berlin\n')}`,
    },
    expected: [[`${GITEA}:2:14`, 'SMTP_PASS is set to a literal value']],
  },
  {
    name: 'scalar anchor used as a password',
    files: {
      [GITEA]: `x-pw: &pw ${PW}\n${compose('gitea', '    environment:\n      DB_PASSWORD: *pw\n')}`,
    },
    expected: [[`${GITEA}:7:20`, 'DB_PASSWORD is set to a literal value']],
  },
  {
    name: '--db-password= in command:',
    files: { [GITEA]: compose('gitea', `    command: ["gitea", "--db-password=${PW}"]\n`) },
    expected: [[`${GITEA}:5:25`, 'a password given as a command-line flag is committed here']],
  },
  {
    name: '--db-password <value> in a block list',
    files: {
      [GITEA]: compose(
        'gitea',
        `    command:\n      - gitea\n      - --db-password\n      - ${PW}\n`,
      ),
    },
    expected: [
      [`${GITEA}:8:9`, 'a password given as a command-line flag (--db-password) is committed here'],
    ],
  },
  {
    name: 'curl -u admin:... in a healthcheck',
    files: {
      [GITEA]: compose(
        'gitea',
        `    healthcheck:\n      test: ["CMD", "curl", "-fsS", "-u", "admin:${PW}", "http://127.0.0.1:3000/"]\n`,
      ),
    },
    expected: [[`${GITEA}:6:38`, 'a user:password for -u/--user is committed here']],
  },
  {
    name: 'curl -u in a CMD-SHELL string',
    files: {
      [GITEA]: compose(
        'gitea',
        `    healthcheck:\n      test: curl -fsS -u admin:${PW} http://127.0.0.1:3000/\n`,
      ),
    },
    expected: [[`${GITEA}:6:23`, 'a user:password for -u/--user is committed here']],
  },
  {
    name: 'htpasswd label (traefik basicauth user:$2y$...)',
    files: {
      [GITEA]: compose(
        'gitea',
        `    labels:\n      traefik.http.middlewares.auth.basicauth.users: "admin:${BCRYPT}"\n`,
      ),
    },
    expected: [[`${GITEA}:6:61`, 'a password hash (htpasswd, basic auth) is committed here']],
  },
  {
    name: 'caddy basicauth label with a bcrypt hash',
    files: { [GITEA]: compose('gitea', `    labels:\n      caddy.basicauth.admin: "${BCRYPT}"\n`) },
    expected: [[`${GITEA}:6:31`, 'a password hash (htpasswd, basic auth) is committed here']],
  },
  {
    name: 'GitHub token in a comment',
    files: { [GITEA]: `# deploy token ${GITHUB}\n${compose('gitea')}` },
    expected: [
      [
        `${GITEA}:1:16`,
        'a GitHub token is committed here: move the value to /opt/homelab/config/gitea/.env',
      ],
    ],
  },
  {
    name: 'password in a compose comment',
    files: { [GITEA]: `${compose('gitea')}    # password: ${PW}\n` },
    expected: [[`${GITEA}:5:7`, 'password is set to a literal value here (in a comment)']],
  },
  {
    name: 'Slack token in a mounted config',
    files: { [`${CADDY_DIR}/notify.conf`]: `url = https://hooks.example/\ntoken ${SLACK}\n` },
    expected: [
      [
        `${CADDY_DIR}/notify.conf:2:7`,
        'a Slack token or webhook is committed here: keep the value out of Git: put it in /opt/homelab/config/caddy/.env',
      ],
    ],
  },
  {
    name: 'PGP private key block',
    files: { [`${CADDY_DIR}/backup.asc`]: PGP_KEY },
    expected: [[`${CADDY_DIR}/backup.asc:1:1`, 'a private key is committed here']],
  },
  {
    name: 'OpenSSH private key',
    files: { [`${CADDY_DIR}/id_ed25519`]: OPENSSH_KEY },
    expected: [[`${CADDY_DIR}/id_ed25519:1:1`, 'a private key is committed here']],
  },
  {
    name: 'AWS keys in a .conf',
    files: {
      [`${CADDY_DIR}/aws.conf`]: `[default]\naws_access_key_id = ${AWS_ID}\naws_secret_access_key = ${AWS_SECRET}\n`,
    },
    expected: [
      [`${CADDY_DIR}/aws.conf:2:21`, 'an AWS access key id is committed here'],
      [`${CADDY_DIR}/aws.conf:3:1`, 'aws_secret_access_key is set to a literal value here'],
    ],
  },
  {
    name: 'password in a mounted .json',
    files: {
      [`${CADDY_DIR}/settings.json`]: `{\n  "smtp": { "host": "mail", "password": "${PW}" }\n}\n`,
    },
    expected: [
      [
        `${CADDY_DIR}/settings.json:2:30`,
        'password is set to a literal value here: keep the value out of Git',
      ],
    ],
  },
  {
    name: 'password in a mounted .conf',
    files: { [`${CADDY_DIR}/app.conf`]: `[db]\nhost = db\npassword = ${PW}\n` },
    expected: [[`${CADDY_DIR}/app.conf:3:1`, 'password is set to a literal value here']],
  },
  {
    name: 'password in a mounted .yml',
    files: { [`${CADDY_DIR}/config.yml`]: `smtp:\n  host: mail\n  password: ${PW}\n` },
    expected: [
      [
        `${CADDY_DIR}/config.yml:3:13`,
        'password is set to a literal value: keep the value out of Git',
      ],
    ],
  },
  {
    name: 'Tailscale auth key in a compose file',
    files: { [GITEA]: env(`      TS_AUTHKEY: ${TSKEY}\n`) },
    expected: [[`${GITEA}:6:19`, 'a Tailscale auth key is committed here']],
  },
  {
    name: 'literal POSTGRES_PASSWORD in list form',
    files: { [GITEA]: env(`      - POSTGRES_PASSWORD=${PW}\n`) },
    expected: [[`${GITEA}:6:9`, 'POSTGRES_PASSWORD is set to a literal value']],
  },
  {
    name: 'committed docker-compose.override.yml',
    files: {
      [`${CADDY_DIR}/docker-compose.override.yml`]:
        'services:\n  caddy:\n    devices: ["/dev/dri:/dev/dri"]\n',
    },
    expected: [
      [
        `${CADDY_DIR}/docker-compose.override.yml`,
        'host-local override committed to Git: it belongs on the node at /opt/homelab/config/caddy/docker-compose.override.yml',
      ],
    ],
  },
  {
    name: 'compose secrets: file in the repo',
    files: {
      [GITEA]: `${compose('gitea')}secrets:\n  db_pw:\n    file: ./db_pw.txt\n`,
      'hosts/saturn/gitea/db_pw.txt': `${PW}\n`,
    },
    expected: [
      [
        `${GITEA}:7:11`,
        'compose secret "db_pw" is read from "./db_pw.txt" in the repo checkout, so the secret would be committed: put the file on the node at /opt/homelab/config/gitea/db_pw',
      ],
    ],
  },
  {
    name: 'password in a topology comment',
    topology: `${BASE}# admin password: ${PW}\n`,
    expected: [
      [
        `${T}:14:9`,
        'password is set to a literal value here (in a comment): remove it: the topology holds secret names only',
      ],
    ],
  },
  {
    name: 'GitHub token in a topology comment',
    topology: `${BASE}# ${GITHUB}\n`,
    expected: [[`${T}:14:3`, 'a GitHub token is committed here']],
  },
  {
    name: 'password in a check URL',
    topology: `${BASE}        checks:\n          - http: http://admin:${PW}@127.0.0.1:8080/\n`,
    expected: [
      [
        `${T}:15:19`,
        'this is not a usable check URL: it holds a user or password, which would be committed to Git',
      ],
    ],
  },
  {
    name: 'private key in a file over 1 MiB',
    files: { [`${CADDY_DIR}/bundle.pem`]: `${'# padding line\n'.repeat(80_000)}${OPENSSH_KEY}` },
    expected: [[`${CADDY_DIR}/bundle.pem:80001:1`, 'a private key is committed here']],
  },
  {
    name: 'private key in a file with a NUL byte',
    files: { [`${CADDY_DIR}/keystore.bin`]: `\0\u0001binary\n${OPENSSH_KEY}` },
    expected: [[`${CADDY_DIR}/keystore.bin:2:1`, 'a private key is committed here']],
  },
  {
    name: '.env in HEAD but deleted from the working tree',
    files: { 'hosts/saturn/gitea/.env': `X=${PW}\n` },
    deleteAfterCommit: ['hosts/saturn/gitea/.env'],
    expected: [
      [
        'hosts/saturn/gitea/.env',
        'secrets file committed to Git (HEAD), though gone from the working tree: remove it from Git (git rm --cached hosts/saturn/gitea/.env, then commit)',
      ],
    ],
  },
  {
    name: 'a password in the committed version of a file since changed',
    files: { [GITEA]: env(`      DB_PASSWORD: ${PW}\n`) },
    afterCommit: { [GITEA]: env('      DB_PASSWORD: ${DB_PASSWORD}\n') },
    expected: [
      [`${GITEA}:6:20`, 'as committed in Git (HEAD): DB_PASSWORD is set to a literal value'],
    ],
  },
  {
    name: 'a .env staged in the index, then deleted',
    stagedOnly: { 'inventory/prod.env': `X=${PW}\n` },
    expected: [['inventory/prod.env', 'secrets file committed to Git (the index)']],
  },
];

function git(dir: string, ...args: string[]): void {
  execFileSync('git', ['-C', dir, ...args], { stdio: 'ignore' });
}

let serial = 0;
function writeAll(dir: string, files: Files): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/** A committed repo: BASE plus `files`, then the case's changes after the commit. */
function repoFor(c: Case): string {
  const dir = join(WORK, `case-${serial++}`);
  const topology = c.topology ?? BASE;
  writeAll(dir, { [T]: topology, ...filesFor(BASE), ...c.files });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'planted');
  for (const p of c.deleteAfterCommit ?? []) unlinkSync(join(dir, p));
  writeAll(dir, c.afterCommit ?? {});
  if (c.stagedOnly) {
    writeAll(dir, c.stagedOnly);
    git(dir, 'add', ...Object.keys(c.stagedOnly));
    for (const p of Object.keys(c.stagedOnly)) unlinkSync(join(dir, p));
  }
  return dir;
}

function where(line: string): string {
  // file, file:line or file:line:col before ": "
  return line.slice(0, line.indexOf(': '));
}

describe('committed secrets: one per kind, each with file:line and the fix', () => {
  it('has a case for every kind the issue lists', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(34);
  });

  it.each(CASES)('$name', async (c) => {
    const { inventory, problems } = await loadInventory(repoFor(c));
    const lines = problems.map(formatProblem);
    expect(inventory).toBeUndefined();
    for (const [at, fragment] of c.expected) {
      const hit = lines.find(
        (l) =>
          (at.split(':').length > 2 ? where(l) === at : where(l).startsWith(at)) &&
          l.includes(fragment),
      );
      if (!hit) expect(lines).toContain(`${at}: …${fragment}…`);
    }
    expect(lines).toHaveLength(c.expected.length);
    for (const v of VALUES) expect(lines.join('\n')).not.toContain(v);
  });
});

describe('what stays valid', () => {
  it('the example homelab of this repo (inventory/ and hosts/) is valid', async () => {
    const { inventory, problems } = await loadInventory(ROOT);
    expect(problems.map(formatProblem)).toEqual([]);
    expect(inventory?.homelab).toBe('mesh-lab');
  });

  it('interpolated secrets, names of variables, *_FILE settings and .env.example placeholders', async () => {
    const c: Case = {
      name: 'clean',
      files: {
        [GITEA]: env(
          '      DB_PASSWORD: ${DB_PASSWORD:?set it in .env}\n' +
            '      DATABASE_URL: postgres://gitea:${DB_PASSWORD}@db/gitea\n' +
            '      PASSWORD_FILE: /run/secrets/db\n' +
            '      SECRET_NAME: GITEA_SECRET_KEY\n' +
            '      IMAGE_DIGEST: sha256-0123456789abcdef0123456789abcdef\n',
        ),
        [`${CADDY_DIR}/.env.example`]: 'CADDY_TOKEN=change-me\n',
        [`${CADDY_DIR}/app.conf`]:
          '# password = set in /opt/homelab/config/caddy/.env\npassword_file = /run/secrets/x\n',
      },
      expected: [],
    };
    const { problems } = await loadInventory(repoFor(c));
    expect(problems.map(formatProblem)).toEqual([]);
  });
});

describe('symlinks under hosts/', () => {
  function linked(target: string, at: string): string {
    const dir = repoFor({ name: 'link', expected: [] });
    rmSync(join(dir, at), { recursive: true, force: true });
    symlinkSync(target, join(dir, at));
    return dir;
  }

  it.each([
    [
      'a compose file pointing at /etc/shadow',
      '/etc/shadow',
      GITEA,
      `symlink to "/etc/shadow" leaves its service folder hosts/saturn/gitea/`,
    ],
    [
      'a compose file pointing into another service',
      '../../mercury/caddy/docker-compose.yml',
      GITEA,
      'leaves its service folder hosts/saturn/gitea/',
    ],
    [
      'a service folder pointing at /etc',
      '/etc',
      CADDY_DIR,
      'symlink to "/etc": node and service folders must be real folders',
    ],
  ])('%s is refused, and says why', async (_name, target, at, message) => {
    const { problems } = await loadInventory(linked(target, at));
    const lines = problems.map(formatProblem);
    expect(lines.find((l) => l.startsWith(`${at}: `) && l.includes(message))).toBeDefined();
    expect(lines.join('\n')).toContain('the node would read whatever that path holds');
  });

  it('a link to a file in the same service folder is fine', async () => {
    const dir = repoFor({
      name: 'ok',
      files: { [`${CADDY_DIR}/conf/real.conf`]: 'a = 1\n' },
      expected: [],
    });
    symlinkSync('conf/real.conf', join(dir, CADDY_DIR, 'app.conf'));
    const { problems } = await loadInventory(dir);
    expect(problems.map(formatProblem)).toEqual([]);
  });
});

describe('what validate prints has no control characters', () => {
  it('a hosts/ folder named with ESC[2J and an OSC 52 clipboard write is shown escaped', async () => {
    const dir = repoFor({ name: 'esc', expected: [] });
    mkdirSync(join(dir, 'hosts', '\x1b[2J\x1b]52;c;aGk=\x07x'));
    const text = await runCli(['validate', '--repo', dir], { cwd: dir });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      'hosts/\\x1b[2J\\x1b]52;c;aGk=\\x07x/: folder belongs to no node',
    );

    expect(text.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    const json = await runCli(['validate', '--json', '--repo', dir], { cwd: dir });

    expect(json.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });
});
