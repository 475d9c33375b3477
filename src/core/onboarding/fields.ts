// The fields `homelab node add` asks for, with their questions, defaults and checks: one table for
// the CLI prompts and the TUI form. Pure. Each check returns the reason a value is refused, in the
// inventory's own words (src/core/inventory/names.ts), or undefined when it is fine.
import { newNodeNameFlaw } from '../inventory/add-node.js';
import type { NewNode } from '../inventory/add-node.js';
import type { TransportKind } from '../inventory/model.js';
import { TRANSPORTS } from '../inventory/model.js';
import {
  badNameMessage,
  isDnsLabel,
  isHostAddress,
  isSafeAbsolutePath,
  isUnixUser,
} from '../inventory/names.js';

/** What `node add` (CLI or TUI form) asks the shell to plan and write. */
export interface AddNodeRequest extends NewNode {
  /** Port of the first starter service (default 8080); the next ones get the following ports. */
  readonly starterPort?: number;
}

export type FieldKey =
  | 'name'
  | 'address'
  | 'role'
  | 'tags'
  | 'wave'
  | 'transport'
  | 'user'
  | 'sshPort'
  | 'identityFile'
  | 'knownHostsFile'
  | 'root'
  | 'services';
export type FieldValues = Partial<Record<FieldKey, string>>;

export interface FieldSpec {
  readonly key: FieldKey;
  /** A short name for a summary line (the TUI form's left column), at most 11 characters. */
  readonly label: string;
  readonly question: string;
  /** The value an empty answer stands for ('' = leave it out). */
  defaultFor(values: FieldValues): string;
  flaw(value: string, existingNodes: readonly string[]): string | undefined;
}

export function splitList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

export function waveFlaw(s: string): string | undefined {
  return /^\d{1,4}$/.test(s)
    ? undefined
    : `wave ${JSON.stringify(s)} is not a whole number from 0 (first) up`;
}

export function transportFlaw(s: string): string | undefined {
  return (TRANSPORTS as readonly string[]).includes(s)
    ? undefined
    : `transport ${JSON.stringify(s)} is not one of ${TRANSPORTS.join(', ')}`;
}

export function addressFlaw(s: string): string | undefined {
  return isHostAddress(s)
    ? undefined
    : `${JSON.stringify(s)} is not a usable address: write a Tailscale MagicDNS name or an IP address (letters, digits, ".", ":" and "-", not starting with "-")`;
}

export function labelsFlaw(
  kind: 'tag' | 'service' | 'role',
  list: readonly string[],
): string | undefined {
  const bad = list.find((x) => !isDnsLabel(x));
  if (bad !== undefined) return badNameMessage(kind, bad);
  const dup = list.find((x, i) => list.indexOf(x) !== i);
  return dup === undefined ? undefined : `${kind} "${dup}" is given twice`;
}

export function portFlaw(s: string): string | undefined {
  const n = Number(s);
  return /^\d+$/.test(s) && n >= 1 && n <= 65535
    ? undefined
    : `port ${JSON.stringify(s)} is not a TCP port (1-65535)`;
}

export function userFlaw(s: string): string | undefined {
  return isUnixUser(s)
    ? undefined
    : `user ${JSON.stringify(s)} is not a valid login name: use lowercase letters, digits, "_" and "-", starting with a letter or "_"`;
}

export function rootFlaw(s: string): string | undefined {
  return isSafeAbsolutePath(s)
    ? undefined
    : `root ${JSON.stringify(s)} is not a usable path: write an absolute path of letters, digits, ".", "_", "-" and "/", for example "/opt/homelab"`;
}

/** A file on SATURN (identity file, known_hosts): any non-empty path without tabs or newlines. */
export function localFileFlaw(what: string, s: string): string | undefined {
  return s !== '' && !/[\t\n\r]/.test(s)
    ? undefined
    : `${what} ${JSON.stringify(s)} is not a usable file path (no tabs or newlines)`;
}

/** '' (leave it out) is fine for every optional field. */
const optional =
  (check: (s: string) => string | undefined) =>
  (s: string): string | undefined =>
    s === '' ? undefined : check(s);

/** In the order they are asked. */
export const NODE_FIELDS: readonly FieldSpec[] = [
  {
    key: 'name',
    label: 'name',
    question: 'Node name (a DNS label, e.g. vega)',
    defaultFor: () => '',
    flaw: (s, existing) => newNodeNameFlaw(s, existing),
  },
  {
    key: 'address',
    label: 'address',
    question: 'Tailscale name or address',
    defaultFor: (v) => v.name ?? '',
    flaw: addressFlaw,
  },
  {
    key: 'role',
    label: 'role',
    question: 'Role',
    defaultFor: () => 'worker',
    flaw: (s) => labelsFlaw('role', [s]),
  },
  {
    key: 'tags',
    label: 'tags',
    question: 'Tags, comma-separated',
    defaultFor: () => '',
    flaw: (s) => labelsFlaw('tag', splitList(s)),
  },
  {
    key: 'wave',
    label: 'wave',
    question: 'Wave (deploy order, lower first)',
    defaultFor: () => '0',
    flaw: waveFlaw,
  },
  {
    key: 'transport',
    label: 'transport',
    question: `Transport (${TRANSPORTS.join(', ')}; empty: the topology's default)`,
    defaultFor: () => '',
    flaw: (s) => (s === '' ? undefined : transportFlaw(s)),
  },
  {
    key: 'user',
    label: 'user',
    question: "Login user on the node (empty: the topology's default)",
    defaultFor: () => '',
    flaw: optional(userFlaw),
  },
  {
    key: 'sshPort',
    label: 'ssh port',
    question: 'ssh port (empty: 22)',
    defaultFor: () => '',
    flaw: optional(portFlaw),
  },
  {
    key: 'identityFile',
    label: 'identity',
    question: "ssh identity file on SATURN (empty: ssh's own choice)",
    defaultFor: () => '',
    flaw: optional((s) => localFileFlaw('identity file', s)),
  },
  {
    key: 'knownHostsFile',
    label: 'known_hosts',
    question: "known_hosts file on SATURN (empty: ssh's default)",
    defaultFor: () => '',
    flaw: optional((s) => localFileFlaw('known_hosts file', s)),
  },
  {
    key: 'root',
    label: 'root',
    question: "Node root (empty: the topology's default, else /opt/homelab)",
    defaultFor: () => '',
    flaw: optional(rootFlaw),
  },
  {
    key: 'services',
    label: 'services',
    question: 'Services, comma-separated',
    defaultFor: () => '',
    flaw: (s) => labelsFlaw('service', splitList(s)),
  },
];

/** The request for planAddNode from the answers (a blank transport means the topology's default). */
export function requestFromValues(v: FieldValues, starterPort?: number): AddNodeRequest {
  return {
    name: v.name ?? '',
    address: v.address ?? '',
    role: v.role ?? '',
    tags: splitList(v.tags ?? ''),
    services: splitList(v.services ?? ''),
    ...(v.wave !== undefined && v.wave !== '' ? { wave: Number(v.wave) } : {}),
    ...(v.transport !== undefined && v.transport !== ''
      ? { transport: v.transport as TransportKind }
      : {}),
    ...(given(v.user) ? { user: v.user } : {}),
    ...(given(v.root) ? { root: v.root } : {}),
    ...(given(v.sshPort) || given(v.identityFile) || given(v.knownHostsFile)
      ? {
          ssh: {
            ...(given(v.sshPort) ? { port: Number(v.sshPort) } : {}),
            ...(given(v.identityFile) ? { identityFile: v.identityFile } : {}),
            ...(given(v.knownHostsFile) ? { knownHostsFile: v.knownHostsFile } : {}),
          },
        }
      : {}),
    ...(starterPort !== undefined ? { starterPort } : {}),
  };
}

function given(s: string | undefined): s is string {
  return s !== undefined && s !== '';
}

/** One line describing the request, for the confirmation. */
export function describeRequest(req: AddNodeRequest): string {
  const parts = [
    `address ${req.address}`,
    `role ${req.role}`,
    `tags ${req.tags.length > 0 ? req.tags.join(',') : '(none)'}`,
    `wave ${req.wave ?? 0}`,
    `transport ${req.transport ?? '(default)'}`,
    ...(req.user !== undefined ? [`user ${req.user}`] : []),
    ...(req.ssh?.port !== undefined ? [`ssh port ${req.ssh.port}`] : []),
    ...(req.ssh?.identityFile !== undefined ? [`identity ${req.ssh.identityFile}`] : []),
    ...(req.ssh?.knownHostsFile !== undefined ? [`known_hosts ${req.ssh.knownHostsFile}`] : []),
    ...(req.root !== undefined ? [`root ${req.root}`] : []),
    `services ${req.services.length > 0 ? req.services.join(',') : '(none)'}`,
  ];
  return `${req.name}: ${parts.join(', ')}`;
}

/** What the add-node form's check found: the plan's lines to review, or the refusal's. */
export interface NodeAddCheck {
  readonly ok: boolean;
  readonly lines: readonly string[];
}

/** What writing the node did: its name when it was written, and the next steps (or the failure). */
export interface NodeAddWritten {
  readonly added?: string;
  readonly lines: readonly string[];
}

/**
 * The add-node form's intents (the TUI controller implements them): the form asks and shows, the
 * controller plans, writes and reloads the inventory. `check` writes nothing; `add` checks again
 * (the repo may have changed since), writes, and puts the new node in the list.
 */
export interface NodeAddIntents {
  checkNode(values: FieldValues, starterPort?: number): Promise<NodeAddCheck>;
  addNode(values: FieldValues, starterPort?: number): Promise<NodeAddWritten>;
}
