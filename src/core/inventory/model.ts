// The resolved inventory: what inventory/topology.yaml describes once it has been parsed,
// validated and had its defaults applied. Pure data; everything downstream reads this shape.

export const TRANSPORTS = ['tailscale-ssh', 'ssh', 'local'] as const;
export type TransportKind = (typeof TRANSPORTS)[number];

/** How SATURN's OpenSSH client reaches a node (used by both `ssh` and `tailscale-ssh`). */
export interface SshOptions {
  /** Remote port; absent means the ssh default (22). */
  readonly port?: number;
  /** Private key for `ssh -i`; absent means the user's ssh configuration decides. */
  readonly identityFile?: string;
  /** Known-hosts file; host key checking always stays on. */
  readonly knownHostsFile?: string;
  /** Seconds before a connection attempt gives up. */
  readonly connectTimeout: number;
}

export type Check =
  | { readonly kind: 'http'; readonly url: string; readonly status: number }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

export interface ServiceSpec {
  /** DNS label; also the folder hosts/<node>/<service>/ and part of the compose project name. */
  readonly name: string;
  /** Names (never values) of keys that must be set in <root>/config/<service>/.env on the node. */
  readonly secrets: readonly string[];
  /** Extra verify checks beyond the compose healthchecks. */
  readonly checks: readonly Check[];
  /** `required`: <root>/config/<service>/docker-compose.override.yml must exist on the node. */
  readonly override: 'optional' | 'required';
  /** `required`: a verify of this node waits for SATURN's confirmation (magic rollback). */
  readonly confirm?: 'required';
}

export interface NodeSpec {
  /** DNS label: the key under `nodes:`. */
  readonly name: string;
  /** Tailscale MagicDNS name or address that the transport connects to. */
  readonly address: string;
  readonly role: string;
  readonly tags: readonly string[];
  readonly transport: TransportKind;
  /** Login user on the node. */
  readonly user: string;
  /** The node's homelab root (state, logs, config live below it). Default /opt/homelab. */
  readonly root: string;
  /** Where the repo is checked out on the node. Default <root>/repo. */
  readonly repo: string;
  /** Deploy order across nodes: lower waves go first (DNS / reverse proxy in wave 0). */
  readonly wave: number;
  readonly ssh: SshOptions;
  readonly services: readonly ServiceSpec[];
  /**
   * Magic rollback: `required` when the node or one of its services says `confirm: required`:
   * verify records known-good only once SATURN confirms over a new connection within
   * confirmTimeout seconds (default 60), else the node rolls back by itself.
   */
  readonly confirm?: 'required';
  readonly confirmTimeout?: number;
}

export interface Inventory {
  /** The homelab's name (shown in the header). */
  readonly homelab: string;
  /** The Git remote nodes fetch from (SATURN's repo over the tailnet) and its branch. */
  readonly git: { readonly remote: string; readonly branch: string };
  /** Nodes in file order. */
  readonly nodes: readonly NodeSpec[];
  /** Optional command that reads the recover-node prompt on stdin (argv, not a shell string). */
  readonly ai?: { readonly command: readonly string[] };
  /** Where failed stages and finished walks are reported (src/shell/notify.ts). */
  readonly notify?: {
    readonly command?: readonly string[];
    readonly url?: string;
    readonly timeoutSeconds?: number;
  };
  /** The fleet walk's pace: nodes of a wave at once (absent: the whole wave), canary first. */
  readonly deploy?: { readonly concurrency?: number; readonly canary?: boolean };
}

/** Path of the deploy script on a node. */
export function deployScriptPath(node: NodeSpec): string {
  return `${node.repo}/scripts/deploy/deploy.sh`;
}

/** Compose project name of a service on a node: unique per node, valid for Compose v2. */
export function composeProject(node: string, service: string): string {
  return `${node}_${service}`;
}
