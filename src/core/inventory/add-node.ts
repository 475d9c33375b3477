// Adding a node to inventory/topology.yaml without disturbing anything else in the file: the new
// entry is rendered with yaml's Document API in the file's own style (indentation, sequence
// indentation, flow or block tags, blank lines between nodes) and spliced in after the last node,
// so every byte outside the new entry stays as the user wrote it. Pure: text in, text out.
import { isDeepStrictEqual } from 'node:util';
import { Document, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node as YamlNode, Pair, YAMLMap } from 'yaml';
import type { TransportKind } from './model.js';
import { badNameMessage, isDnsLabel } from './names.js';
import { scalarText } from './scalar-text.js';

/** What `homelab node add` knows about the new node. Optional fields are left to the defaults. */
export interface NewNode {
  readonly name: string;
  readonly address: string;
  readonly role: string;
  readonly tags: readonly string[];
  readonly wave?: number;
  readonly transport?: TransportKind;
  /** Login user on the node (default: the topology's defaults). */
  readonly user?: string;
  /** The node's homelab root (default: the topology's defaults, else /opt/homelab). */
  readonly root?: string;
  /** OpenSSH client options for this node (ssh and tailscale-ssh transports). */
  readonly ssh?: {
    readonly port?: number;
    readonly identityFile?: string;
    readonly knownHostsFile?: string;
  };
  readonly services: readonly string[];
}

export type AddNodeResult =
  | {
      readonly ok: true;
      readonly text: string;
      /** Offsets of the inserted text in `text`: everything outside [start, end) is the old file. */
      readonly inserted: { readonly start: number; readonly end: number };
    }
  | { readonly ok: false; readonly reason: string };

/** Why `name` cannot be a new node, or undefined when it can. */
export function newNodeNameFlaw(name: string, existing: readonly string[]): string | undefined {
  if (!isDnsLabel(name)) return badNameMessage('node', name);
  if (existing.includes(name))
    return `node "${name}" already exists in inventory/topology.yaml: pick another name, or edit its entry`;
  return undefined;
}

/** Names of the nodes in the topology text (in file order); empty when it has none or does not parse. */
export function nodeNames(text: string): string[] {
  const doc = parseDocument(text, { uniqueKeys: false });
  const nodes = doc.get('nodes', true);
  if (!isMap(nodes)) return [];
  return nodes.items.map((p) => keyString(p)).filter((k): k is string => k !== undefined);
}

interface Style {
  /** Column of the node names under `nodes:`. */
  readonly entryIndent: number;
  /** Indentation step inside a node. */
  readonly indent: number;
  /** `services:\n  - a` (true) or `services:\n- a` (false). */
  readonly indentSeq: boolean;
  /** `tags: [a, b]` (true) or a block list (false). */
  readonly flowTags: boolean;
  /** Nodes are separated by a blank line. */
  readonly blankBetween: boolean;
}

function keyString(p: Pair): string | undefined {
  const k = p.key;
  if (isScalar(k))
    return k.value === null || k.value === undefined ? undefined : scalarText(k.value);
  return typeof k === 'string' || typeof k === 'number' ? String(k) : undefined;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function column(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

/** Offset just past the end of the line holding `offset` (past its newline, or the end of the text). */
function endOfLine(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? text.length : nl + 1;
}

function start(node: unknown): number | undefined {
  return (node as YamlNode | null)?.range?.[0];
}

function detectStyle(text: string, nodes: YAMLMap): Style {
  const first = nodes.items[0];
  const entryIndent = first ? column(text, start(first.key) ?? 0) : 2;
  let indent = 2;
  let indentSeq = true;
  let flowTags = true;
  let foundIndent = false;
  let foundSeq = false;
  let foundTags = false;
  for (const item of nodes.items) {
    const body = item.value;
    if (!isMap(body) || body.flow) continue;
    const keyCol = column(text, start(item.key) ?? 0);
    const firstChild = body.items[0];
    if (!foundIndent && firstChild && start(firstChild.key) !== undefined) {
      indent = column(text, start(firstChild.key) ?? 0) - keyCol;
      foundIndent = indent > 0;
      if (!foundIndent) indent = 2;
    }
    for (const child of body.items) {
      const v = child.value;
      if (!isSeq(v)) continue;
      if (keyString(child) === 'tags' && !foundTags) {
        flowTags = Boolean(v.flow);
        foundTags = true;
      }
      const firstItem = start(v.items[0]);
      if (!v.flow && !foundSeq && firstItem !== undefined && start(child.key) !== undefined) {
        // The first item starts after its "- ": the dash is the last "-" before it on its line.
        const dash = text.lastIndexOf('-', firstItem - 1);
        indentSeq = column(text, dash) > column(text, start(child.key) ?? 0);
        foundSeq = true;
      }
    }
  }
  let blankBetween = false;
  const second = nodes.items[1];
  const secondStart = second ? start(second.key) : undefined;
  if (secondStart !== undefined) {
    // Up from the second node's key, past the comment lines that introduce it: a blank line there
    // separates the nodes.
    let ls = lineStart(text, secondStart);
    while (ls > 0) {
      const prevStart = lineStart(text, ls - 1);
      const prev = text.slice(prevStart, ls);
      if (prev.trim() === '') {
        blankBetween = true;
        break;
      }
      if (!prev.trimStart().startsWith('#')) break;
      ls = prevStart;
    }
  }
  return { entryIndent, indent, indentSeq, flowTags, blankBetween };
}

/** The node's fields as they are written under `nodes:`, in the order the example uses. */
function entryValue(node: NewNode): Record<string, unknown> {
  const out: Record<string, unknown> = { address: node.address, role: node.role };
  if (node.tags.length > 0) out.tags = [...node.tags];
  if (node.transport !== undefined) out.transport = node.transport;
  if (node.user !== undefined) out.user = node.user;
  if (node.root !== undefined) out.root = node.root;
  if (node.wave !== undefined) out.wave = node.wave;
  const ssh: Record<string, unknown> = {};
  if (node.ssh?.port !== undefined) ssh.port = node.ssh.port;
  if (node.ssh?.identityFile !== undefined) ssh.identityFile = node.ssh.identityFile;
  if (node.ssh?.knownHostsFile !== undefined) ssh.knownHostsFile = node.ssh.knownHostsFile;
  if (Object.keys(ssh).length > 0) out.ssh = ssh;
  if (node.services.length > 0) out.services = [...node.services];
  return out;
}

/** The new entry's lines, `name:` at column 0, in the file's style. */
function renderEntry(node: NewNode, style: Style): string {
  const doc = new Document({ [node.name]: entryValue(node) });
  const tags = doc.getIn([node.name, 'tags'], true);
  if (isSeq(tags)) tags.flow = style.flowTags;
  // Rendered with a 2-space step, then scaled to the file's step (yaml's own `indent` option
  // shifts unindented sequences by two columns, which would not match the file).
  const text = doc.toString({
    indent: 2,
    indentSeq: style.indentSeq,
    lineWidth: 0,
    flowCollectionPadding: false,
  });
  return text.replace(/^( +)/gm, (lead: string) => ' '.repeat((lead.length / 2) * style.indent));
}

function indentLines(block: string, by: number): string {
  const pad = ' '.repeat(by);
  return block
    .split('\n')
    .map((l) => (l === '' ? l : pad + l))
    .join('\n');
}

/** Offset where the last piece of content under `node` ends (trailing comments not included). */
function contentEnd(node: unknown): number | undefined {
  if ((isMap(node) || isSeq(node)) && !node.flow && node.items.length > 0) {
    const last = node.items[node.items.length - 1];
    if (isPair(last)) return contentEnd(last.value ?? last.key) ?? contentEnd(last.key);
    return contentEnd(last);
  }
  return (node as YamlNode | null)?.range?.[1];
}

/** Where the last node ends: past its last line and the deeper-indented comment lines right after it. */
function afterLastNode(text: string, nodes: YAMLMap, entryIndent: number): number {
  const end = contentEnd(nodes) ?? text.length;
  let at = endOfLine(text, Math.max(0, end - 1));
  for (;;) {
    if (at >= text.length) return at;
    const next = endOfLine(text, at);
    const m = /^( *)#/.exec(text.slice(at, next));
    if (!m || (m[1] ?? '').length <= entryIndent) return at;
    at = next;
  }
}

function splice(text: string, at: number, insert: string): AddNodeResult {
  // A file written with CRLF line ends gets the new lines with CRLF too.
  const block = text.includes('\r\n') ? insert.replace(/\r?\n/g, '\r\n') : insert;
  return {
    ok: true,
    text: text.slice(0, at) + block + text.slice(at),
    inserted: { start: at, end: at + block.length },
  };
}

/**
 * The topology text with `node` added after the last node. Refuses a name that is not a DNS label
 * or already exists; everything else is checked by the inventory rules on the result.
 */
export function addNodeToTopology(text: string, node: NewNode): AddNodeResult {
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      reason: `inventory/topology.yaml does not parse (${doc.errors[0]?.message.split('\n')[0] ?? 'syntax error'}): run \`homelab validate\` and fix it first`,
    };
  }
  const root = doc.contents;
  if (root !== null && !isMap(root))
    return {
      ok: false,
      reason: 'inventory/topology.yaml is not a map of settings: run `homelab validate`',
    };
  const flaw = newNodeNameFlaw(node.name, nodeNames(text));
  if (flaw) return { ok: false, reason: flaw };

  const nodesPair = isMap(root) ? root.items.find((p) => keyString(p) === 'nodes') : undefined;
  const nodes = nodesPair?.value;
  let result: AddNodeResult;
  if (isMap(nodes) && !nodes.flow && nodes.items.length > 0) {
    const style = detectStyle(text, nodes);
    const at = afterLastNode(text, nodes, style.entryIndent);
    const lead = (at > 0 && text[at - 1] !== '\n' ? '\n' : '') + (style.blankBetween ? '\n' : '');
    result = splice(text, at, lead + indentLines(renderEntry(node, style), style.entryIndent));
  } else if (
    nodesPair &&
    (nodes === null || nodes === undefined || (isScalar(nodes) && nodes.value === null))
  ) {
    // `nodes:` with nothing under it: the entry goes on the lines after the key.
    const keyAt = start(nodesPair.key) ?? 0;
    const at = endOfLine(text, keyAt);
    const style: Style = {
      entryIndent: column(text, keyAt) + 2,
      indent: 2,
      indentSeq: true,
      flowTags: true,
      blankBetween: false,
    };
    const lead = at > 0 && text[at - 1] !== '\n' ? '\n' : '';
    result = splice(text, at, lead + indentLines(renderEntry(node, style), style.entryIndent));
  } else if (!nodesPair) {
    const style: Style = {
      entryIndent: 2,
      indent: 2,
      indentSeq: true,
      flowTags: true,
      blankBetween: false,
    };
    const lead = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
    result = splice(
      text,
      text.length,
      `${lead}nodes:\n${indentLines(renderEntry(node, style), 2)}`,
    );
  } else {
    return {
      ok: false,
      reason:
        '`nodes:` in inventory/topology.yaml is written in flow style ({...}): write it as a block map to add nodes with `homelab node add`',
    };
  }
  return checkSplice(text, result, node);
}

/** The new text must mean exactly the old one plus the new node. */
function checkSplice(before: string, result: AddNodeResult, node: NewNode): AddNodeResult {
  if (!result.ok) return result;
  const after = parseDocument(result.text, { uniqueKeys: false });
  const old = (parseDocument(before, { uniqueKeys: false }).toJS() ?? {}) as Record<
    string,
    unknown
  >;
  const now = after.toJS() as Record<string, unknown> | null;
  const oldNodes = (old.nodes ?? {}) as Record<string, unknown>;
  const expected = { ...old, nodes: { ...oldNodes, [node.name]: entryValue(node) } };
  if (after.errors.length > 0 || !isDeepStrictEqual(now, expected)) {
    return {
      ok: false,
      reason:
        'could not add the node without changing the rest of inventory/topology.yaml: add it by hand',
    };
  }
  return result;
}

/** Default port of the starter service (a static page served by busybox httpd). */
export const STARTER_PORT = 8080;

/**
 * hosts/<node>/<service>/docker-compose.yml for a new service: a small busybox web server with a
 * healthcheck, so the node goes through prepare, deploy and verify before the real service exists.
 */
export function starterCompose(node: string, service: string, port: number = STARTER_PORT): string {
  return `# ${service} on ${node}: starter compose file written by \`homelab node add\`.
# It serves a static page on 127.0.0.1:${port} so the node can go through prepare, deploy and verify
# before the real service exists. Replace it with the service's own definition.
# - deploy.sh runs it as compose project ${node}_${service}.
# - Secrets go in <root>/config/${service}/.env on the node (never in this repo); list their names under
#   the service's \`secrets:\` in inventory/topology.yaml.
# - Host-specific settings go in <root>/config/${service}/docker-compose.override.yml on the node.
services:
  ${service}:
    image: busybox:1.36
    network_mode: host
    restart: unless-stopped
    command: ["sh", "-c", "mkdir -p /tmp/www && echo '${service} on ${node}' > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /tmp/www"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${port}/"]
      interval: 5s
      timeout: 3s
      retries: 5
      start_period: 2s
`;
}

// --- taking things out ----------------------------------------------------------------------

export type RemoveResult =
  { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: string };

/** Offset of the first line of the comment block directly above the line at `ls` (no blank line between). */
function commentsAbove(text: string, ls: number): number {
  let at = ls;
  while (at > 0) {
    const prevStart = lineStart(text, at - 1);
    if (!text.slice(prevStart, at).trimStart().startsWith('#')) break;
    at = prevStart;
  }
  return at;
}

/** Blank lines directly above the line at `ls`. */
function blanksAbove(text: string, ls: number): number {
  let at = ls;
  while (at > 0) {
    const prevStart = lineStart(text, at - 1);
    if (text.slice(prevStart, at).trim() !== '') break;
    at = prevStart;
  }
  return at;
}

function parseForEdit(text: string): {
  doc: ReturnType<typeof parseDocument>;
  nodes?: YAMLMap;
  reason?: string;
} {
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0)
    return {
      doc,
      reason: `inventory/topology.yaml does not parse (${doc.errors[0]?.message.split('\n')[0] ?? 'syntax error'}): run \`homelab validate\` and fix it first`,
    };
  const nodes = isMap(doc.contents) ? doc.contents.get('nodes', true) : undefined;
  if (!isMap(nodes) || nodes.flow)
    return { doc, reason: 'inventory/topology.yaml has no block map `nodes:` to edit' };
  return { doc, nodes };
}

function checkedEdit(
  before: string,
  after: string,
  expected: (old: Record<string, unknown>) => unknown,
): RemoveResult {
  const old = (parseDocument(before, { uniqueKeys: false }).toJS() ?? {}) as Record<
    string,
    unknown
  >;
  const now = parseDocument(after, { uniqueKeys: false });
  if (now.errors.length > 0 || !isDeepStrictEqual(now.toJS(), expected(old)))
    return {
      ok: false,
      reason:
        'could not edit inventory/topology.yaml without changing the rest of it: edit it by hand',
    };
  return { ok: true, text: after };
}

/**
 * The topology text without node `name`: its lines, the comment lines directly above it and the
 * blank line that separated it go; every other byte stays.
 */
export function removeNodeFromTopology(text: string, name: string): RemoveResult {
  const { nodes, reason } = parseForEdit(text);
  if (!nodes) return { ok: false, reason: reason ?? 'no nodes' };
  const index = nodes.items.findIndex((p) => keyString(p) === name);
  const pair = nodes.items[index];
  if (!pair) return { ok: false, reason: `no node "${name}" in inventory/topology.yaml` };
  const entryIndent = column(text, start(pair.key) ?? 0);
  let from = commentsAbove(text, lineStart(text, start(pair.key) ?? 0));
  const next = nodes.items[index + 1];
  let to: number;
  if (next) {
    // Up to the next node's own comment lines; the blank lines above the removed node stay.
    to = commentsAbove(text, lineStart(text, start(next.key) ?? 0));
  } else {
    to = afterLastNode(text, nodes, entryIndent);
    // The last node: the blank lines that separated it from the one before go with it.
    if (index > 0) from = blanksAbove(text, from);
  }
  const out = text.slice(0, from) + text.slice(to);
  return checkedEdit(text, out, (old) => {
    const n = { ...((old.nodes ?? {}) as Record<string, unknown>) };
    delete n[name];
    return { ...old, nodes: Object.keys(n).length > 0 ? n : null };
  });
}

function serviceName(item: unknown): string | undefined {
  if (isScalar(item)) return item.value === null ? undefined : scalarText(item.value);
  if (isMap(item)) {
    const n = item.get('name', true);
    return isScalar(n) && n.value !== null ? scalarText(n.value) : undefined;
  }
  return undefined;
}

/** The topology text without `service` under node `node`; every other byte stays. */
export function removeServiceFromTopology(
  text: string,
  node: string,
  service: string,
): RemoveResult {
  const { nodes, reason } = parseForEdit(text);
  if (!nodes) return { ok: false, reason: reason ?? 'no nodes' };
  const body = nodes.items.find((p) => keyString(p) === node)?.value;
  if (!isMap(body)) return { ok: false, reason: `no node "${node}" in inventory/topology.yaml` };
  const pair = body.items.find((p) => keyString(p) === 'services');
  const seq = pair?.value;
  const names = isSeq(seq) ? seq.items.map(serviceName) : [];
  const index = names.indexOf(service);
  if (!pair || !isSeq(seq) || index === -1)
    return {
      ok: false,
      reason: `node "${node}" has no service "${service}" (services: ${names.filter(Boolean).join(', ') || 'none'})`,
    };
  if (seq.flow || body.flow)
    return {
      ok: false,
      reason: `the services of "${node}" are written in flow style ([...]): remove "${service}" by hand`,
    };
  let from: number;
  let to: number;
  if (seq.items.length === 1) {
    from = commentsAbove(text, lineStart(text, start(pair.key) ?? 0));
    to = endOfLine(text, Math.max(0, (contentEnd(seq) ?? text.length) - 1));
  } else {
    const itemLine = (i: number): number => {
      const at = start(seq.items[i]) ?? 0;
      return lineStart(text, text.lastIndexOf('-', at - 1));
    };
    from = commentsAbove(text, itemLine(index));
    to =
      index + 1 < seq.items.length
        ? commentsAbove(text, itemLine(index + 1))
        : endOfLine(text, Math.max(0, (contentEnd(seq.items[index]) ?? text.length) - 1));
  }
  const out = text.slice(0, from) + text.slice(to);
  return checkedEdit(text, out, (old) => {
    const oldNodes = (old.nodes ?? {}) as Record<string, Record<string, unknown>>;
    const entry = { ...oldNodes[node] };
    const rest = ((entry.services ?? []) as unknown[]).filter((_, i) => i !== index);
    if (rest.length > 0) entry.services = rest;
    else delete entry.services;
    return { ...old, nodes: { ...oldNodes, [node]: entry } };
  });
}
