// The fields `homelab node add` asks for, with their questions, defaults and checks: one table for
// the CLI prompts and the TUI form. Pure. Each check returns the reason a value is refused, in the
// inventory's own words (src/core/inventory/names.ts), or undefined when it is fine.
import { newNodeNameFlaw } from '../../core/inventory/add-node.js';
import type { TransportKind } from '../../core/inventory/model.js';
import { TRANSPORTS } from '../../core/inventory/model.js';
import { badNameMessage, isDnsLabel, isHostAddress } from '../../core/inventory/names.js';
import type { AddNodeRequest } from './add-node.js';

export type FieldKey = 'name' | 'address' | 'role' | 'tags' | 'wave' | 'transport' | 'services';
export type FieldValues = Partial<Record<FieldKey, string>>;

export interface FieldSpec {
  readonly key: FieldKey;
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

/** In the order they are asked. */
export const NODE_FIELDS: readonly FieldSpec[] = [
  {
    key: 'name',
    question: 'Node name (a DNS label, e.g. vega)',
    defaultFor: () => '',
    flaw: (s, existing) => newNodeNameFlaw(s, existing),
  },
  {
    key: 'address',
    question: 'Tailscale name or address',
    defaultFor: (v) => v.name ?? '',
    flaw: addressFlaw,
  },
  {
    key: 'role',
    question: 'Role',
    defaultFor: () => 'worker',
    flaw: (s) => labelsFlaw('role', [s]),
  },
  {
    key: 'tags',
    question: 'Tags, comma-separated',
    defaultFor: () => '',
    flaw: (s) => labelsFlaw('tag', splitList(s)),
  },
  {
    key: 'wave',
    question: 'Wave (deploy order, lower first)',
    defaultFor: () => '0',
    flaw: waveFlaw,
  },
  {
    key: 'transport',
    question: `Transport (${TRANSPORTS.join(', ')}; empty: the topology's default)`,
    defaultFor: () => '',
    flaw: (s) => (s === '' ? undefined : transportFlaw(s)),
  },
  {
    key: 'services',
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
    ...(starterPort !== undefined ? { starterPort } : {}),
  };
}

/** One line describing the request, for the confirmation. */
export function describeRequest(req: AddNodeRequest): string {
  const parts = [
    `address ${req.address}`,
    `role ${req.role}`,
    `tags ${req.tags.length > 0 ? req.tags.join(',') : '(none)'}`,
    `wave ${req.wave ?? 0}`,
    `transport ${req.transport ?? '(default)'}`,
    `services ${req.services.length > 0 ? req.services.join(',') : '(none)'}`,
  ];
  return `${req.name}: ${parts.join(', ')}`;
}
