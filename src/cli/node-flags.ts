// The flags that describe a node, shared by `homelab node add` and `homelab init --node`: each maps
// to one field of src/core/onboarding/fields.ts (the table the prompts and the TUI form use too).
import { isAbsolute, resolve } from 'node:path';
import type { FieldKey, FieldValues } from '../core/onboarding/fields.js';
import { NODE_FIELDS, splitList } from '../core/onboarding/fields.js';

export const NODE_FLAG_OPTIONS = {
  address: { type: 'string' },
  role: { type: 'string' },
  tags: { type: 'string' },
  wave: { type: 'string' },
  transport: { type: 'string' },
  user: { type: 'string' },
  'ssh-port': { type: 'string' },
  'identity-file': { type: 'string' },
  'known-hosts': { type: 'string' },
  root: { type: 'string' },
  service: { type: 'string', multiple: true },
  port: { type: 'string' },
} as const;

/** Flag name → field key. */
const FLAG_FIELD: ReadonlyArray<readonly [keyof typeof NODE_FLAG_OPTIONS, FieldKey]> = [
  ['address', 'address'],
  ['role', 'role'],
  ['tags', 'tags'],
  ['wave', 'wave'],
  ['transport', 'transport'],
  ['user', 'user'],
  ['ssh-port', 'sshPort'],
  ['identity-file', 'identityFile'],
  ['known-hosts', 'knownHostsFile'],
  ['root', 'root'],
];

export const NODE_FLAGS_HELP = `  --address ADDR        Tailscale MagicDNS name or IP address the transport connects to
  --role ROLE           the node's role (a DNS label, for example gpu, edge, storage; default worker)
  --tags a,b            tags, comma-separated
  --wave N              deploy order across nodes (lower first; default 0)
  --transport T         tailscale-ssh | ssh | local (default: the topology's defaults)
  --user NAME           login user on the node (default: the topology's defaults, else homelab)
  --ssh-port N          the node's sshd port (default 22): nodes may share an address on different ports
  --identity-file FILE  the private key ssh uses for this node (on SATURN)
  --known-hosts FILE    the known_hosts file holding this node's host key (on SATURN; node bootstrap
                        offers to add the key, after showing its fingerprint)
  --root DIR            the node's homelab root (default: the topology's defaults, else /opt/homelab;
                        a node whose sshd sets HOMELAB_ROOT needs that folder here)
  --service NAME        a service on the node (repeat, or comma-separate)
  --port N              port of the first starter service on 127.0.0.1 (default 8080; the next get N+1...)`;

type FlagValues = {
  readonly [K in keyof typeof NODE_FLAG_OPTIONS]?: string | string[] | undefined;
};

/** Relative files are made absolute (ssh would resolve them against whatever folder it runs in). */
function absoluteFile(cwd: string, s: string): string {
  return s === '' || isAbsolute(s) || s.startsWith('~') ? s : resolve(cwd, s);
}

/** The field values the flags give (only those given). */
export function fieldValuesFromFlags(values: FlagValues, cwd: string): FieldValues {
  const out: FieldValues = {};
  for (const [flag, key] of FLAG_FIELD) {
    const v = values[flag];
    if (typeof v !== 'string') continue;
    out[key] = key === 'identityFile' || key === 'knownHostsFile' ? absoluteFile(cwd, v) : v;
  }
  const services = values.service;
  if (Array.isArray(services) && services.length > 0)
    out.services = services.flatMap(splitList).join(',');
  return out;
}

/** Every flaw of the given values, by the fields' own checks. */
export function fieldFlaws(values: FieldValues, existing: readonly string[]): string[] {
  return NODE_FIELDS.flatMap((f) => {
    const v = values[f.key];
    if (v === undefined) return [];
    const why = f.flaw(v, existing);
    return why === undefined ? [] : [why];
  });
}
