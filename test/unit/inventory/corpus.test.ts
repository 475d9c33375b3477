// The corpus of broken homelabs: each case changes one thing in a small valid repo and asserts
// every problem reported: file:line:col, field and message, exactly as `homelab validate` prints it.
// An expected line ending in "..." must be the start of the printed line (for long messages).
import { describe, expect, it } from 'vitest';
import { BASE, compose, filesFor, validate } from './helpers.js';
import type { Files } from './helpers.js';

const T = 'inventory/topology.yaml';
const BASE_FILES = filesFor(BASE);

function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`fixture edit: "${from}" not found`);
  return text.replace(from, to);
}

function withFiles(change: (f: Files) => void): Files {
  const f = { ...BASE_FILES };
  change(f);
  return f;
}

// Built from parts so that no scanner mistakes the test for a leaked credential.
const TSKEY = ['tskey', 'auth', 'kXb2Yc3CNTRL', 'Qw8e7r6t5y4u3i2o1p'].join('-');
const PRIVATE_KEY = [
  '-----BEGIN OPENSSH ',
  'PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH ',
  'PRIVATE KEY-----\n',
].join('');

interface Case {
  readonly name: string;
  readonly topology?: string;
  readonly files?: Files;
  readonly expected: readonly string[];
  /** Text that must not appear in any message (secret values). */
  readonly hidden?: string;
}

const CASES: readonly Case[] = [
  {
    name: 'YAML syntax error',
    topology: edit(BASE, '    services: [gitea]\n', '    services: [gitea\n'),
    expected: [
      `${T}:8:3: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    ],
  },
  {
    name: 'aliases that expand without bound',
    // A "billion laughs": 10^9 items from 9 lines.
    topology: [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefghi'.split('').map(
        (l, i) =>
          `${l}: &${l} [${Array(10)
            .fill(`*${'abcdefghi'[i] ?? ''}`)
            .join(', ')}]`,
      ),
      '',
    ].join('\n'),
    expected: [
      `${T}:1:1: YAML error: Excessive alias count indicates a resource exhaustion attack`,
    ],
  },
  {
    name: 'empty file',
    topology: '',
    expected: [`${T}:1:1: the file is empty: start from the example in the README`],
  },
  {
    name: 'top level is a list',
    topology: '- saturn\n- mercury\n',
    expected: [`${T}:1:1: expected a map (key: value lines), got a list`],
  },
  {
    name: 'wrong type: wave is text',
    topology: edit(BASE, 'wave: 1', 'wave: one'),
    expected: [`${T}:10:11: nodes.mercury.wave: expected a number, got the text "one"`],
  },
  {
    name: 'wrong type: services is not a list',
    topology: edit(BASE, 'services: [gitea]', 'services: gitea'),
    expected: [
      `${T}:7:15: nodes.saturn.services: expected a list (- item lines), got the text "gitea"`,
    ],
  },
  {
    name: 'wrong type: wave is a fraction',
    topology: edit(BASE, 'wave: 1', 'wave: 1.5'),
    expected: [`${T}:10:11: nodes.mercury.wave: expected a whole number, got the number 1.5`],
  },
  {
    name: 'negative wave',
    topology: edit(BASE, 'wave: 1', 'wave: -1'),
    expected: [`${T}:10:11: nodes.mercury.wave: -1 is too small: must be at least 0`],
  },
  {
    name: 'empty value',
    topology: edit(BASE, 'address: mercury', 'address:'),
    expected: [
      `${T}:9:5: nodes.mercury.address: expected a text value, got nothing (an empty value)`,
    ],
  },
  {
    name: 'missing required address',
    topology: edit(BASE, '    address: mercury\n', ''),
    expected: [`${T}:8:3: nodes.mercury.address: missing required key "address"`],
  },
  {
    name: 'unknown key with suggestion',
    topology: edit(BASE, 'services: [gitea]', 'servises: [gitea]'),
    expected: [
      `${T}:7:5: nodes.saturn.servises: unknown key "servises" — did you mean "services"?`,
    ],
  },
  {
    name: 'unknown top-level key with suggestion',
    topology: edit(BASE, 'nodes:\n', 'default:\n  user: homelab\nnodes:\n'),
    expected: [`${T}:3:1: default: unknown key "default" — did you mean "defaults"?`],
  },
  {
    name: 'unknown key without a close match lists the valid keys',
    topology: edit(BASE, '    transport: local\n', '    transport: local\n    colour: blue\n'),
    expected: [
      `${T}:7:5: nodes.saturn.colour: unknown key "colour" (valid keys here: address, role, tags, transport, user, root, repo, wave, ssh, services, confirm, confirmTimeout)`,
    ],
  },
  {
    name: 'bad transport with suggestion',
    topology: edit(BASE, 'transport: local', 'transport: tailscale'),
    expected: [
      `${T}:6:16: nodes.saturn.transport: "tailscale" is not one of tailscale-ssh, ssh, local — did you mean "tailscale-ssh"?`,
    ],
  },
  {
    name: 'node name with shell metacharacters and a space',
    topology: edit(BASE, '  saturn:\n', '  "a;rm -rf":\n'),
    expected: [
      `${T}:4:3: nodes.a;rm -rf: "a;rm -rf" is not a valid node name: it contains ";" and a space. Names travel into remote shell commands, folder and compose project names, so only lowercase letters, digits and "-" are allowed (a DNS label of at most 63 characters, not starting or ending with "-"); for example "a-rm-rf"`,
    ],
  },
  {
    name: 'node name with command substitution',
    topology: edit(BASE, '  saturn:\n', '  $(x):\n'),
    expected: [
      `${T}:4:3: nodes.$(x): "$(x)" is not a valid node name: it contains "$", "(" and ")". Names travel...`,
    ],
  },
  {
    name: 'node name with a space',
    topology: edit(BASE, '  saturn:\n', '  my node:\n'),
    expected: [
      `${T}:4:3: nodes.my node: "my node" is not a valid node name: it contains a space. Names...`,
    ],
  },
  {
    name: 'node name in uppercase',
    topology: edit(BASE, '  saturn:\n', '  Saturn:\n'),
    expected: [
      `${T}:4:3: nodes.Saturn: "Saturn" is not a valid node name: it contains uppercase letters. Names...`,
    ],
  },
  {
    name: 'service names with shell metacharacters',
    topology: edit(BASE, 'services: [gitea]', 'services: [gitea, "a;rm -rf", "$(x)"]'),
    expected: [
      `${T}:7:23: nodes.saturn.services[1]: "a;rm -rf" is not a valid service name: it contains ";" and a space. Names travel...`,
      `${T}:7:35: nodes.saturn.services[2]: "$(x)" is not a valid service name: it contains "$", "(" and ")". Names travel...`,
    ],
  },
  {
    name: 'service name with a space in map form',
    topology: edit(BASE, 'name: caddy', 'name: my svc'),
    expected: [
      `${T}:12:15: nodes.mercury.services[0].name: "my svc" is not a valid service name: it contains a space...`,
    ],
  },
  {
    name: 'address that ssh would read as an option',
    topology: edit(BASE, 'address: mercury', 'address: -oProxyCommand=sh'),
    expected: [
      `${T}:9:14: nodes.mercury.address: "-oProxyCommand=sh" is not a usable address: write a Tailscale MagicDNS name or an IP address (letters, digits, ".", ":" and "-", not starting with "-")`,
    ],
  },
  {
    name: 'duplicate node key',
    topology: `${BASE.replace('transport: local', 'transport: locale')}  saturn:\n    address: saturn2\n`,
    expected: [
      `${T}:6:16: nodes.saturn.transport: "locale" is not one of tailscale-ssh, ssh, local — did you mean "local"?`,
      `${T}:14:3: nodes.saturn: node "saturn" is defined twice (first at line 4): node names must be unique — rename one or merge them`,
    ],
  },
  {
    name: 'duplicate address',
    topology: edit(BASE, 'address: mercury', 'address: Saturn'),
    expected: [
      `${T}:9:14: nodes.mercury.address: address "Saturn" (ssh port 22) is already used by node "saturn" (line 5): each node needs its own address`,
    ],
  },
  {
    name: 'duplicate service within a node',
    topology: edit(BASE, 'services: [gitea]', 'services: [gitea, gitea]'),
    expected: [
      `${T}:7:23: nodes.saturn.services[1]: service "gitea" is already assigned to node "saturn" (services[0]): a service runs once per node — remove one`,
    ],
  },
  {
    name: 'wave gap',
    topology: edit(BASE, 'wave: 1', 'wave: 2'),
    expected: [
      `${T}:10:11: nodes.mercury.wave: no node is in wave 1 (waves in use: 0, 2): waves run in order from 0 without gaps — put a node in wave 1 or renumber wave 2 to 1`,
    ],
  },
  {
    name: 'bad check URLs',
    topology: `${BASE}        checks:\n          - http: htp://127.0.0.1/\n          - http: "http://127.0.0.1:80/a b"\n`,
    expected: [
      `${T}:15:19: nodes.mercury.services[0].checks[0].http: "htp://127.0.0.1/" is not a usable check URL: it must start with http:// or https:// (for example "http://127.0.0.1:8096/health")`,
      `${T}:16:19: nodes.mercury.services[0].checks[1].http: "http://127.0.0.1:80/a b" is not a usable check URL: it contains whitespace (for example "http://127.0.0.1:8096/health")`,
    ],
  },
  {
    name: 'bad tcp check and a check that is neither',
    topology: `${BASE}        checks:\n          - tcp: 127.0.0.1\n          - status: 200\n`,
    expected: [
      `${T}:15:18: nodes.mercury.services[0].checks[0].tcp: "127.0.0.1" is not a usable TCP check: write host:port, for example "127.0.0.1:2222"`,
      `${T}:16:13: nodes.mercury.services[0].checks[1]: a check needs either "http: <url>" (with optional "status") or "tcp: <host:port>"`,
    ],
  },
  {
    name: 'bad secret name',
    topology: edit(BASE, 'secrets: [CADDY_TOKEN]', 'secrets: [db-password]'),
    expected: [
      `${T}:13:19: nodes.mercury.services[0].secrets[0]: "db-password" is not a valid secret name: secrets are environment variable names in <root>/config/<service>/.env, so use uppercase letters, digits and "_", not starting with a digit (for example "POSTGRES_PASSWORD"); write the name only, never the value`,
    ],
  },
  {
    name: 'Tailscale key pasted into the topology is found and never quoted back',
    topology: edit(BASE, 'transport: local', `transport: ${TSKEY}`),
    expected: [
      `${T}:6:16: nodes.saturn.transport: "tskey-…" is not one of tailscale-ssh, ssh, local`,
      `${T}:6:16: a Tailscale auth key is committed here: revoke it in the Tailscale admin console, put the new key in <root>/config/<service>/.env on the node (for example TS_AUTHKEY=...) and reference it as \${TS_AUTHKEY}`,
    ],
    hidden: 'kXb2Yc3CNTRL',
  },
  {
    name: 'secret value written where a secret name belongs is not quoted back',
    topology: edit(BASE, 'secrets: [CADDY_TOKEN]', 'secrets: ["CADDY_TOKEN=hunter2"]'),
    expected: [
      `${T}:13:19: nodes.mercury.services[0].secrets[0]: this is not a valid secret name: secrets are environment variable names in <root>/config/<service>/.env...`,
    ],
    hidden: 'hunter2',
  },
  {
    name: 'password inside the Git remote URL',
    topology: edit(
      BASE,
      'ssh://git@saturn/srv/git/homelab.git',
      'https://homelab:hunter2@git.example.org/homelab.git',
    ),
    expected: [
      `${T}:2:16: git.remote: the URL contains a password or token, which would be committed to Git: use an ssh:// URL with a deploy key on the node, or a Git credential helper, and change that password`,
    ],
    hidden: 'hunter2',
  },
  {
    name: 'missing compose folder',
    files: withFiles((f) => delete f['hosts/mercury/caddy/docker-compose.yml']),
    expected: [
      `${T}:12:9: nodes.mercury.services[0]: service "caddy" on node "mercury" has no compose file: create hosts/mercury/caddy/docker-compose.yml`,
    ],
  },
  {
    name: 'compose file under another name',
    files: withFiles((f) => {
      f['hosts/mercury/caddy/compose.yaml'] = f['hosts/mercury/caddy/docker-compose.yml'] ?? '';
      delete f['hosts/mercury/caddy/docker-compose.yml'];
    }),
    expected: [
      `${T}:12:9: nodes.mercury.services[0]: service "caddy" on node "mercury" has no compose file: rename hosts/mercury/caddy/compose.yaml to docker-compose.yml`,
    ],
  },
  {
    name: 'orphan compose folder',
    files: withFiles((f) => (f['hosts/mercury/redis/docker-compose.yml'] = compose('redis'))),
    expected: [
      `hosts/mercury/redis/: folder is not assigned to node "mercury": add "redis" to nodes.mercury.services in ${T}, or delete the folder`,
    ],
  },
  {
    name: 'orphan host folder',
    files: withFiles((f) => (f['hosts/pluto/web/docker-compose.yml'] = compose('web'))),
    expected: [
      `hosts/pluto/: folder belongs to no node: add node "pluto" under nodes: in ${T}, or delete the folder`,
    ],
  },
  {
    name: 'compose file directly in a node folder',
    files: withFiles((f) => (f['hosts/saturn/docker-compose.yml'] = compose('gitea'))),
    expected: [
      'hosts/saturn/docker-compose.yml: compose file at the node level: each service has its own folder, so move it to hosts/saturn/<service>/docker-compose.yml and list <service> under nodes.saturn.services',
    ],
  },
  {
    name: 'secrets file under another .env name',
    files: withFiles((f) => (f['hosts/saturn/gitea/gitea.env'] = 'GITEA_DB_PASSWORD=x\n')),
    expected: [
      'hosts/saturn/gitea/gitea.env: secrets file committed to Git: move it to /opt/homelab/config/gitea/.env on node "saturn"...',
    ],
  },
  {
    name: 'committed .env',
    files: withFiles((f) => (f['hosts/mercury/caddy/.env'] = 'CADDY_TOKEN=supersecret-value\n')),
    expected: [
      'hosts/mercury/caddy/.env: secrets file committed to Git: move it to /opt/homelab/config/caddy/.env on node "mercury", remove it from the repo (git rm --cached hosts/mercury/caddy/.env) and change the secrets it held',
    ],
    hidden: 'supersecret',
  },
  {
    name: 'literal POSTGRES_PASSWORD',
    files: withFiles(
      (f) =>
        (f['hosts/saturn/gitea/docker-compose.yml'] = compose(
          'gitea',
          '    environment:\n      POSTGRES_USER: gitea\n      POSTGRES_PASSWORD: hunter2\n',
        )),
    ),
    expected: [
      'hosts/saturn/gitea/docker-compose.yml:7:26: services.gitea.environment.POSTGRES_PASSWORD: POSTGRES_PASSWORD is set to a literal value: secrets must not be committed to Git. Put POSTGRES_PASSWORD=... in /opt/homelab/config/gitea/.env on the node, write ${POSTGRES_PASSWORD} here instead, list POSTGRES_PASSWORD under the service\'s "secrets:" in inventory/topology.yaml, and change the committed password',
    ],
    hidden: 'hunter2',
  },
  {
    name: 'literal password in list-form environment',
    files: withFiles(
      (f) =>
        (f['hosts/saturn/gitea/docker-compose.yml'] = compose(
          'gitea',
          '    environment:\n      - TZ=Europe/Berlin\n      - DB_PASSWORD=hunter2\n',
        )),
    ),
    expected: [
      'hosts/saturn/gitea/docker-compose.yml:7:9: services.gitea.environment[1]: DB_PASSWORD is set to a literal value: secrets must not be committed to Git. Put DB_PASSWORD=... in /opt/homelab/config/gitea/.env on the node...',
    ],
    hidden: 'hunter2',
  },
  {
    name: 'Tailscale auth key in a compose file',
    files: withFiles(
      (f) =>
        (f['hosts/mercury/caddy/docker-compose.yml'] = compose(
          'caddy',
          `    environment:\n      TS_HOSTNAME: caddy\n      TS_AUTHKEY: ${TSKEY}\n`,
        )),
    ),
    expected: [
      'hosts/mercury/caddy/docker-compose.yml:7:19: a Tailscale auth key is committed here: revoke it in the Tailscale admin console, put the new key in /opt/homelab/config/caddy/.env on the node (for example TS_AUTHKEY=...) and reference it as ${TS_AUTHKEY}',
    ],
    hidden: 'kXb2Yc3CNTRL',
  },
  {
    name: 'private key in a file under hosts/',
    files: withFiles((f) => (f['hosts/mercury/caddy/certs/key.pem'] = PRIVATE_KEY)),
    expected: [
      'hosts/mercury/caddy/certs/key.pem:1:1: a private key is committed here: remove it from Git, replace it (it is no longer private), and keep the new one on the node under /opt/homelab/config/caddy/, mounted into the container',
    ],
    hidden: 'b3BlbnNzaC1rZXktdjEAAAAA',
  },
  {
    name: 'compose file without services',
    files: withFiles(
      (f) => (f['hosts/saturn/gitea/docker-compose.yml'] = "version: '3.8'\nvolumes:\n  data:\n"),
    ),
    expected: [
      'hosts/saturn/gitea/docker-compose.yml:1:1: no "services:" map: a compose file defines its containers under services:',
    ],
  },
  {
    name: 'compose file with an empty services key',
    files: withFiles((f) => (f['hosts/saturn/gitea/docker-compose.yml'] = 'name: x\nservices:\n')),
    expected: [
      'hosts/saturn/gitea/docker-compose.yml:2:1: services: expected a map of compose services (name: { image: ... })',
    ],
  },
  {
    name: 'compose YAML syntax error',
    files: withFiles(
      (f) =>
        (f['hosts/saturn/gitea/docker-compose.yml'] =
          'services:\n  gitea:\n    image: "busybox:1.36\n'),
    ),
    expected: [
      'hosts/saturn/gitea/docker-compose.yml:4:1: YAML syntax error: Missing closing "quote',
    ],
  },
  {
    name: 'stale manifest',
    topology: edit(BASE, '    transport: local\n', '    transport: local\n    role: control\n'),
    expected: [
      'hosts/saturn/node.manifest:5:1: out of date with inventory/topology.yaml (line 5 differs): run `homelab manifest` and commit the result',
    ],
  },
  {
    name: 'missing manifest',
    files: withFiles((f) => delete f['hosts/mercury/node.manifest']),
    expected: [
      'hosts/mercury/node.manifest: missing: run `homelab manifest` to write it from inventory/topology.yaml, then commit it',
    ],
  },
  {
    name: 'several problems at once, sorted',
    topology: edit(
      edit(
        edit(BASE, 'services: [gitea]', 'servises: [gitea]'),
        'transport: local',
        'transport: sssh',
      ),
      'wave: 1',
      'wave: 2',
    ),
    files: withFiles((f) => (f['hosts/mercury/caddy/.env'] = 'X=1\n')),
    expected: [
      'hosts/mercury/caddy/.env: secrets file committed to Git: move it to /opt/homelab/config/caddy/.env...',
      `${T}:6:16: nodes.saturn.transport: "sssh" is not one of tailscale-ssh, ssh, local — did you mean "ssh"?`,
      `${T}:7:5: nodes.saturn.servises: unknown key "servises" — did you mean "services"?`,
      `${T}:10:11: nodes.mercury.wave: no node is in wave 1 (waves in use: 0, 2)...`,
    ],
  },
];

function matches(actual: string, expected: string): boolean {
  return expected.endsWith('...') ? actual.startsWith(expected.slice(0, -3)) : actual === expected;
}

describe('broken inventories: every problem with file:line:col, field and fix', () => {
  it('has a corpus of at least 25 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(25);
  });

  it.each(CASES)('$name', (c) => {
    const actual = validate(c.topology ?? BASE, c.files ?? BASE_FILES);
    const ok =
      actual.length === c.expected.length &&
      c.expected.every((e, i) => matches(actual[i] ?? '', e));
    // On failure, show both lists whole.
    if (!ok) expect(actual).toEqual(c.expected);
    if (c.hidden !== undefined) expect(actual.join('\n')).not.toContain(c.hidden);
  });
});

describe('what is accepted', () => {
  it('the base repo is valid', () => {
    expect(validate(BASE, BASE_FILES)).toEqual([]);
  });

  it('secrets referenced through ${VAR}, $VAR and *_FILE keys are not literal credentials', () => {
    const env =
      '    environment:\n' +
      '      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n' +
      '      API_TOKEN: "${API_TOKEN:?set API_TOKEN in .env}"\n' +
      '      DATABASE_URL: postgres://gitea:${DB_PASSWORD}@db/gitea\n' +
      '      SECRET_KEY: $SECRET_KEY\n' +
      '      PASSWORD_FILE: /run/secrets/db_password\n' +
      '      JWT_TOKEN_EXPIRY: 24h\n' +
      '      PASSWORD_LOGIN_ENABLED: "true"\n' +
      '      DISABLE_TOKEN_AUTH: false\n' +
      '      ADMIN_PASSWORD:\n' +
      '      TZ: Europe/Berlin\n';
    const files = withFiles(
      (f) => (f['hosts/saturn/gitea/docker-compose.yml'] = compose('gitea', env)),
    );
    expect(validate(BASE, files)).toEqual([]);
  });

  it('nodes may share an address behind different ssh ports (port-forwarded VMs, a loopback lab)', () => {
    const topology = edit(
      edit(BASE, 'address: mercury', 'address: saturn'),
      '    wave: 1\n',
      '    wave: 1\n    ssh: { port: 2202 }\n',
    );
    expect(validate(topology, filesFor(topology))).toEqual([]);
  });

  it('other files in a service folder (configs, .env.example) and files at the top of hosts/ are fine', () => {
    const files = withFiles((f) => {
      f['hosts/mercury/caddy/Caddyfile'] = 'example.home.arpa {\n\treverse_proxy saturn:3000\n}\n';
      f['hosts/README.md'] = 'one folder per node\n';
      f['hosts/mercury/caddy/.env.example'] = 'CADDY_TOKEN=change-me\n';
    });
    expect(validate(BASE, files)).toEqual([]);
  });
});
