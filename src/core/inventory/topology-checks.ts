// Checks across fields of topology.yaml that a per-field schema cannot make: node names (map keys),
// duplicate addresses and services, and waves without gaps. They read the document as written, so
// they still report when other parts of the file fail the schema.
import type { Problem } from '../problem.js';
import { badNameMessage, isDnsLabel } from './names.js';
import { LIMITS } from './schema.js';
import type { FieldPath, YamlSource } from './yaml-source.js';
import { formatField } from './yaml-source.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function sshPort(holder: Obj): number | undefined {
  return isObj(holder.ssh) && typeof holder.ssh.port === 'number' ? holder.ssh.port : undefined;
}

function serviceName(item: unknown): string | undefined {
  if (typeof item === 'string') return item;
  if (isObj(item) && typeof item.name === 'string') return item.name;
  return undefined;
}

export function duplicateKeyMessage(path: FieldPath, key: string, firstLine: number): string {
  if (path.length === 1 && path[0] === 'nodes')
    return `node "${key}" is defined twice (first at line ${firstLine}): node names must be unique — rename one or merge them`;
  return `key "${key}" appears twice in the same map (first at line ${firstLine}): keep one`;
}

export function checkTopology(src: YamlSource, raw: unknown): Problem[] {
  const out: Problem[] = [];
  const at = (path: FieldPath, message: string, pos = src.position(path)): void => {
    out.push(src.problem(pos, formatField(path), message));
  };

  for (const { key, keyPos } of src.pairsAt(['nodes'])) {
    if (!isDnsLabel(key)) at(['nodes', key], badNameMessage('node', key), keyPos);
  }

  const nodes = isObj(raw) && isObj(raw.nodes) ? raw.nodes : {};
  const addresses = new Map<string, { node: string; line: number }>();
  const defaultPort = (isObj(raw) && isObj(raw.defaults) ? sshPort(raw.defaults) : undefined) ?? 22;
  const waves: Array<{ node: string; wave: number }> = [];

  for (const [name, node] of Object.entries(nodes)) {
    if (!isObj(node)) continue;
    if (typeof node.address === 'string') {
      // Two nodes may share an address behind different ssh ports (port-forwarded VMs, a lab).
      const path = ['nodes', name, 'address'];
      const port = sshPort(node) ?? defaultPort;
      const key = `${node.address.toLowerCase()}:${port}`;
      const seen = addresses.get(key);
      if (seen)
        at(
          path,
          `address "${node.address}" (ssh port ${port}) is already used by node "${seen.node}" (line ${seen.line}): each node needs its own address`,
        );
      else addresses.set(key, { node: name, line: src.position(path).line });
    }

    if (Array.isArray(node.services)) {
      const first = new Map<string, number>();
      node.services.forEach((item: unknown, i: number) => {
        const s = serviceName(item);
        if (s === undefined) return;
        const prev = first.get(s);
        if (prev === undefined) first.set(s, i);
        else
          at(
            ['nodes', name, 'services', i],
            `service "${s}" is already assigned to node "${name}" (services[${prev}]): a service runs once per node — remove one`,
          );
      });
    }

    if (node.wave === undefined) waves.push({ node: name, wave: 0 });
    // Waves out of range are the schema's problem; a gap check over them would never end.
    else if (
      Number.isInteger(node.wave) &&
      (node.wave as number) >= 0 &&
      (node.wave as number) <= LIMITS.wave
    )
      waves.push({ node: name, wave: node.wave as number });
  }

  const used = [...new Set(waves.map((w) => w.wave))].sort((a, b) => a - b);
  const max = used[used.length - 1] ?? 0;
  for (let w = 0; w < max; w++) {
    if (used.includes(w)) continue;
    const next = used.find((u) => u > w) ?? max;
    const holder = waves.find((x) => x.wave === next);
    if (!holder) continue;
    at(
      ['nodes', holder.node, 'wave'],
      `no node is in wave ${w} (waves in use: ${used.join(', ')}): waves run in order from 0 without gaps — ` +
        `put a node in wave ${w} or renumber wave ${next} to ${w}`,
    );
  }
  return out;
}
