// The forms git.remote can take, what a node needs to fetch each, and the warnings `homelab
// validate` prints for a form that will not work for some node. Pure.
import type { Inventory } from './model.js';

export type RemoteKind = 'ssh' | 'git' | 'https' | 'http' | 'file' | 'scp' | 'path' | 'relative';

export function remoteKind(remote: string): RemoteKind | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(remote)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (scheme === 'ssh' || scheme === 'git+ssh' || scheme === 'ssh+git') return 'ssh';
    if (scheme === 'git' || scheme === 'https' || scheme === 'http' || scheme === 'file')
      return scheme;
    return undefined;
  }
  if (remote.startsWith('/')) return 'path';
  // scp-like `user@host:path` or `host:path` (no slash before the colon).
  if (/^[^/:]+:/.test(remote)) return 'scp';
  return 'relative';
}

/** What the node needs to fetch this remote (for `node bootstrap`). */
export function remoteNeeds(remote: string): string {
  switch (remoteKind(remote)) {
    case 'ssh':
    case 'scp':
      return `${remote} over ssh: the node's user needs a key the Git server accepts (a read-only deploy key) and the server's host key in its known_hosts`;
    case 'git':
      return `${remote} over git://: \`git daemon --export-all\` on that host, reachable from the node (read-only, no authentication: keep it on the tailnet)`;
    case 'https':
      return `${remote} over HTTPS: read access; a private repo needs a token in a Git credential helper on the node (never in the URL); a server whose certificate is not from a public CA needs that CA in the node user's Git config (git config --global http.sslCAInfo /path/to/ca.pem)`;
    case 'http':
      return `${remote} over plain HTTP: unencrypted; reachable from the node, read access`;
    case 'path':
    case 'file':
      return `${remote} is a folder: only a node on SATURN itself can read it; when another user owns it Git refuses ("dubious ownership"): on the node run \`git config --global --add safe.directory ${remote.replace(/^file:\/\//, '')}\``;
    default:
      return `${remote}: not a form nodes can fetch (ssh://, git://, https:// or an absolute path)`;
  }
}

/** Warnings about git.remote for `homelab validate` (the inventory is valid; these may still bite). */
export function remoteWarnings(inventory: Inventory): string[] {
  const remote = inventory.git.remote;
  const kind = remoteKind(remote);
  const at = 'inventory/topology.yaml: git.remote';
  if (kind === undefined)
    return [
      `${at}: ${JSON.stringify(remote)} has a scheme nodes cannot fetch: use ssh://, git://, https:// or an absolute path`,
    ];
  if (kind === 'relative')
    return [
      `${at}: ${JSON.stringify(remote)} is a relative path: each node would look for it in its own folder; write an absolute path or a URL`,
    ];
  const out: string[] = [];
  if (kind === 'http')
    out.push(
      `${at}: http:// is unencrypted: prefer https:// or ssh:// (on the tailnet, git:// for read-only)`,
    );
  if (kind === 'path' || kind === 'file') {
    const remoteNodes = inventory.nodes.filter((n) => n.transport !== 'local').map((n) => n.name);
    if (remoteNodes.length > 0)
      out.push(
        `${at}: ${JSON.stringify(remote)} is a folder on SATURN, which only nodes on SATURN itself can read; ` +
          `${remoteNodes.join(', ')} ${remoteNodes.length === 1 ? 'is' : 'are'} reached over ${remoteNodes.length === 1 ? 'its transport' : 'their transports'}: ` +
          'serve the repo over ssh:// or git:// (or ignore this when they are all this machine)',
      );
  }
  return out;
}
