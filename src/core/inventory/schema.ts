// The shape of inventory/topology.yaml as written (before defaults are applied). Every object is
// strict: an unknown key is an error, and KEYS below feeds the "did you mean" suggestion.
import { z } from 'zod';
import { TRANSPORTS } from './model.js';
import {
  badNameMessage,
  isDnsLabel,
  isEnvName,
  isGitBranch,
  isHostAddress,
  isSafeAbsolutePath,
  isUnixUser,
  localFileFlaw,
  MAX_PATH_LENGTH,
} from './names.js';

/** Limits that keep a hostile or broken file from costing minutes and gigabytes. */
export const LIMITS = {
  wave: 99,
  nodes: 500,
  servicesPerNode: 100,
  listItems: 100,
  urlLength: 2048,
  secretName: 128,
  aiArgs: 64,
  aiArgLength: 4096,
} as const;

/** A value quoted back in a message: JSON-escaped (no control characters reach a terminal), and cut. */
export function text(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length <= 82 ? s : `${s.slice(0, 60)}…" (${String(v).length} characters)`;
}

const label = (kind: 'service' | 'role' | 'tag' | 'homelab') =>
  z.string().refine(isDnsLabel, { error: (iss) => badNameMessage(kind, String(iss.input)) });

const absPath = z.string().refine((s) => s.length <= MAX_PATH_LENGTH && isSafeAbsolutePath(s), {
  error: (iss) =>
    `${text(iss.input)} is not a usable path: write an absolute path of letters, digits, ".", "_", "-" and "/" ` +
    '(it reaches remote shell commands), for example "/opt/homelab"',
});

const localFile = z.string().superRefine((s, ctx) => {
  const flaw = localFileFlaw(s);
  if (flaw)
    ctx.addIssue({
      code: 'custom',
      message:
        `${text(s)} is not a usable file for ssh: ${flaw}. ssh reads it as a config value, so write a plain ` +
        'path of letters, digits, spaces and "._/~+@,:=-", for example "~/.ssh/id_ed25519"',
    });
});

export const sshSchema = z.strictObject({
  port: z.int().min(1).max(65535).optional(),
  identityFile: localFile.optional(),
  knownHostsFile: localFile.optional(),
  connectTimeout: z.int().min(1).max(600).optional(),
});

const user = z.string().refine(isUnixUser, {
  error: (iss) =>
    `${text(iss.input)} is not a valid login name: use lowercase letters, digits, "_" and "-", starting with a letter or "_"`,
});

const transport = z.enum(TRANSPORTS);

/** Shown back only when it looks like a mistyped name; anything else may be a pasted value. */
function shownSecretName(input: unknown): string {
  return typeof input === 'string' && /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(input)
    ? `${text(input)} is not`
    : 'this is not';
}

const secretName = z.string().refine((s) => s.length <= LIMITS.secretName && isEnvName(s), {
  error: (iss) =>
    `${shownSecretName(iss.input)} a valid secret name: secrets are environment variable names in ` +
    '<root>/config/<service>/.env, so use uppercase letters, digits and "_", not starting with a digit ' +
    '(for example "POSTGRES_PASSWORD"); write the name only, never the value',
});

/** Characters a check URL never needs and a shell would act on. */
const URL_SHELL_CHARS = /[`$;|&<>()'"\\{}!*^]/;

function httpUrlFlaw(s: string): string | undefined {
  if (s.length > LIMITS.urlLength)
    return `it is ${s.length} characters long (at most ${LIMITS.urlLength})`;
  if (/\s/.test(s)) return 'it contains whitespace';
  if (/[\x00-\x1f\x7f]/.test(s)) return 'it contains a control character';
  const meta = URL_SHELL_CHARS.exec(s);
  if (meta) return `it contains "${meta[0]}", which a check URL never needs (percent-encode it)`;
  if (!/^https?:\/\//i.test(s)) return 'it must start with http:// or https://';
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return 'it is not a valid URL';
  }
  if (url.hostname.startsWith('-') || /^https?:\/\/-/i.test(s))
    return 'its host starts with "-", which a command would read as an option';
  if (url.username !== '' || url.password !== '')
    return (
      'it holds a user or password, which would be committed to Git: check an endpoint that needs ' +
      'no login (a health URL), and change that password'
    );
  return undefined;
}

const httpUrl = z.string().superRefine((s, ctx) => {
  const flaw = httpUrlFlaw(s);
  if (flaw)
    ctx.addIssue({
      code: 'custom',
      message: `${/password|user or/.test(flaw) ? 'this' : text(s)} is not a usable check URL: ${flaw} (for example "http://127.0.0.1:8096/health")`,
    });
});

const TCP_TARGET = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

/** `host:port` → its parts, or undefined when it is not one. */
export function parseTcpTarget(s: string): { host: string; port: number } | undefined {
  const m = TCP_TARGET.exec(s);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port };
}

const tcpTarget = z
  .string()
  .refine((s) => s.length <= LIMITS.urlLength && parseTcpTarget(s) !== undefined, {
    error: (iss) =>
      `${text(iss.input)} is not a usable TCP check: write host:port, for example "127.0.0.1:2222"`,
  });

export const checkSchema = z
  .strictObject({
    http: httpUrl.optional(),
    status: z.int().min(100).max(599).optional(),
    tcp: tcpTarget.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.http === undefined && c.tcp === undefined)
      ctx.addIssue({
        code: 'custom',
        message:
          'a check needs either "http: <url>" (with optional "status") or "tcp: <host:port>"',
      });
    if (c.http !== undefined && c.tcp !== undefined)
      ctx.addIssue({
        code: 'custom',
        message: 'a check is either "http" or "tcp", not both: split it into two checks',
      });
    if (c.tcp !== undefined && c.status !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['status'],
        message: '"status" belongs to http checks only',
      });
  });

export const serviceObjectSchema = z.strictObject({
  name: label('service'),
  secrets: z.array(secretName).max(LIMITS.listItems).optional(),
  checks: z.array(checkSchema).max(LIMITS.listItems).optional(),
  override: z.enum(['optional', 'required']).optional(),
  /** `required`: verify waits for SATURN's confirmation over a new connection (magic rollback). */
  confirm: z.enum(['optional', 'required']).optional(),
});

/** A service is a map, or a plain string naming a service with no extras. */
export const serviceSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { name: v } : v),
  serviceObjectSchema,
);

const address = z.string().refine(isHostAddress, {
  error: (iss) =>
    `${text(iss.input)} is not a usable address: write a Tailscale MagicDNS name or an IP address ` +
    '(letters, digits, ".", ":" and "-", not starting with "-")',
});

export const nodeSchema = z.strictObject({
  address,
  role: label('role').optional(),
  tags: z.array(label('tag')).max(LIMITS.listItems).optional(),
  transport: transport.optional(),
  user: user.optional(),
  root: absPath.optional(),
  repo: absPath.optional(),
  wave: z.int().min(0).max(LIMITS.wave).optional(),
  ssh: sshSchema.optional(),
  services: z.array(serviceSchema).max(LIMITS.servicesPerNode).optional(),
  /** `required`: verify waits for SATURN's confirmation, else the node rolls back by itself. */
  confirm: z.enum(['optional', 'required']).optional(),
  /** Seconds SATURN has to confirm (default 60). */
  confirmTimeout: z.int().min(1).max(3600).optional(),
});

export const defaultsSchema = z.strictObject({
  transport: transport.optional(),
  user: user.optional(),
  root: absPath.optional(),
  repo: absPath.optional(),
  ssh: sshSchema.optional(),
});

/** `https://user:password@host/...`: a credential inside the URL would be committed with it. */
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i;

const gitRemote = z
  .string()
  .min(1, { error: 'must not be empty' })
  .refine((s) => !/^ext::/i.test(s), {
    error:
      'an "ext::" remote makes Git run a command on every node that fetches: write an ssh:// URL, ' +
      'for example "ssh://git@saturn/srv/git/homelab.git"',
    abort: true,
  })
  .refine((s) => s.length <= LIMITS.urlLength && !/\s/.test(s) && !s.startsWith('-'), {
    error:
      'must be a Git URL without whitespace, not starting with "-" (Git would read it as an option) and at most ' +
      `${LIMITS.urlLength} characters, for example "ssh://git@saturn/srv/git/homelab.git"`,
    abort: true,
  })
  .refine((s) => !URL_PASSWORD.test(s), {
    error:
      'the URL contains a password or token, which would be committed to Git: use an ssh:// URL with a ' +
      'deploy key on the node, or a Git credential helper, and change that password',
  });

export const gitSchema = z.strictObject({
  remote: gitRemote,
  branch: z
    .string()
    .refine((s) => s.length <= 255 && isGitBranch(s), {
      error: (iss) => `${text(iss.input)} is not a valid branch name`,
    })
    .optional(),
});

export const aiSchema = z.strictObject({
  command: z
    .array(
      z
        .string()
        .min(1, { error: 'must not be empty' })
        .max(LIMITS.aiArgLength, { error: `must be at most ${LIMITS.aiArgLength} characters` }),
    )
    .min(1, { error: 'needs at least the program to run' })
    .max(LIMITS.aiArgs, { error: `at most ${LIMITS.aiArgs} arguments` }),
});

/** Where SATURN reports a failed stage and a finished walk (src/shell/notify.ts). */
export const notifySchema = z
  .strictObject({
    /** argv of a command that reads one JSON event on stdin (not a shell string). */
    command: aiSchema.shape.command.optional(),
    /** An HTTP POST of the JSON event (an ntfy topic, a webhook). */
    url: z
      .string()
      .superRefine((s, ctx) => {
        const flaw = httpUrlFlaw(s);
        if (flaw)
          ctx.addIssue({
            code: 'custom',
            message: `${/password|user or/.test(flaw) ? 'this' : text(s)} is not a usable notify URL: ${flaw.replace('a check URL', 'a notify URL').replace('check an endpoint that needs no login (a health URL)', 'put the token in the topic path or use a command')} (for example "https://ntfy.sh/my-homelab")`,
          });
      })
      .optional(),
    /** Seconds one notification may take (default 5). */
    timeoutSeconds: z.int().min(1).max(60).optional(),
  })
  .superRefine((n, ctx) => {
    if (n.command === undefined && n.url === undefined)
      ctx.addIssue({
        code: 'custom',
        message:
          'needs "command: [program, args...]" (reads a JSON event on stdin) and/or "url: <http(s) URL>" (gets it as a POST)',
      });
  });

/** How the fleet walk (`homelab deploy`, the TUI's D) goes through a wave. */
export const deploySchema = z.strictObject({
  /** Nodes of one wave running at once (default: the whole wave). */
  concurrency: z.int().min(1).max(LIMITS.nodes).optional(),
  /** The first node of each wave alone, then the rest. */
  canary: z.boolean().optional(),
});

export const topologySchema = z.strictObject({
  homelab: label('homelab'),
  git: gitSchema,
  defaults: defaultsSchema.optional(),
  deploy: deploySchema.optional(),
  // Node names are checked with their key's position by topology-checks.ts.
  nodes: z
    .record(z.string(), nodeSchema)
    .refine((n) => Object.keys(n).length > 0, { error: 'define at least one node' })
    .refine((n) => Object.keys(n).length <= LIMITS.nodes, {
      error: `at most ${LIMITS.nodes} nodes: split the homelab`,
    }),
  ai: aiSchema.optional(),
  notify: notifySchema.optional(),
});

export type RawTopology = z.output<typeof topologySchema>;
export type RawNode = z.output<typeof nodeSchema>;
export type RawService = z.output<typeof serviceObjectSchema>;
export type RawCheck = z.output<typeof checkSchema>;
export type RawSsh = z.output<typeof sshSchema>;

const keys = (s: { shape: object }): string[] => Object.keys(s.shape);

/** The valid keys of the map at a field path, for unknown-key suggestions. */
export function knownKeysAt(path: readonly (string | number)[]): readonly string[] {
  const p = path.map((s) => (typeof s === 'number' ? '#' : s));
  const at = (...pattern: string[]): boolean =>
    p.length === pattern.length && pattern.every((x, i) => x === '*' || x === p[i]);
  if (p.length === 0) return keys(topologySchema);
  if (at('git')) return keys(gitSchema);
  if (at('defaults')) return keys(defaultsSchema);
  if (at('defaults', 'ssh') || at('nodes', '*', 'ssh')) return keys(sshSchema);
  if (at('nodes', '*')) return keys(nodeSchema);
  if (at('nodes', '*', 'services', '#')) return keys(serviceObjectSchema);
  if (at('nodes', '*', 'services', '#', 'checks', '#')) return keys(checkSchema);
  if (at('ai')) return keys(aiSchema);
  if (at('notify')) return ['command', 'url', 'timeoutSeconds'];
  if (at('deploy')) return keys(deploySchema);
  return [];
}
