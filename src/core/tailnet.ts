// SATURN's view of the tailnet, from `tailscale status --json`, for the TUI's header. Pure.

export type Tailnet =
  | {
      readonly state: 'running';
      readonly host: string;
      readonly ip: string;
      readonly peers: number;
      readonly online: number;
    }
  | { readonly state: 'down'; readonly backend: string }
  | { readonly state: 'missing' }
  | { readonly state: 'unknown'; readonly message: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses `tailscale status --json`: BackendState, Self.HostName, Self.TailscaleIPs, Peer. */
export function parseTailscaleStatus(text: string): Tailnet {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { state: 'unknown', message: 'tailscale status --json printed no JSON' };
  }
  if (!isObj(doc) || typeof doc.BackendState !== 'string')
    return { state: 'unknown', message: 'tailscale status --json has no BackendState' };
  if (doc.BackendState !== 'Running') return { state: 'down', backend: doc.BackendState };
  const self = isObj(doc.Self) ? doc.Self : {};
  const ips = Array.isArray(self.TailscaleIPs)
    ? self.TailscaleIPs.filter((x): x is string => typeof x === 'string')
    : [];
  const peers = isObj(doc.Peer) ? Object.values(doc.Peer) : [];
  return {
    state: 'running',
    host: typeof self.HostName === 'string' ? self.HostName : '',
    ip: ips.find((ip) => !ip.includes(':')) ?? ips[0] ?? '',
    peers: peers.length,
    online: peers.filter((p) => isObj(p) && p.Online === true).length,
  };
}

/** `tailnet up as saturn 100.64.0.1, 3/4 peers online`, `tailnet Stopped: run tailscale up`, ... */
export function describeTailnet(t: Tailnet): string {
  switch (t.state) {
    case 'running':
      return `tailnet up as ${t.host || '?'}${t.ip ? ` ${t.ip}` : ''}, ${t.online}/${t.peers} peers online`;
    case 'down':
      return t.backend === 'NeedsLogin' || t.backend === 'NeedsMachineAuth'
        ? `tailnet ${t.backend}: run tailscale up and log in`
        : `tailnet ${t.backend}: run tailscale up`;
    case 'missing':
      return 'tailscale not installed on this machine';
    case 'unknown':
      return `tailnet unknown (${t.message})`;
  }
}
