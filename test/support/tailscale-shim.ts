// Puts the `tailscale` test shim (test/support/tailscale-shim/tailscale) first on PATH for a
// runner, pointed at a loopback sshd from ./sshd.ts. Pass `env` to createRunner(node, { env }).
//
// `tailnet` makes it behave like the real `tailscale ssh` host key checking: the host becomes the
// MagicDNS name with a trailing dot and keys are looked up in the tailnet's own known_hosts, which
// holds only `peers` (the node addresses that run the Tailscale SSH server). `checkDir` turns on
// check mode per host: see checkNode/passCheck and the shim's header.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manifestPath, renderManifest } from '../../src/core/inventory/manifest.js';
import { parseTopology } from '../../src/core/inventory/parse.js';
import type { SshdLab } from './sshd.js';

export const SHIM_DIR = fileURLToPath(new URL('./tailscale-shim', import.meta.url));

export interface TailscaleShim {
  /** Environment for the runner: PATH with the shim first, and the shim's target server. */
  readonly env: NodeJS.ProcessEnv;
  /** File where the shim logs each call's arguments (one line per call, shell-quoted). */
  readonly logFile: string;
}

export interface TailnetOptions {
  /** The MagicDNS suffix (`tail-lab.ts.net`). */
  readonly magicDns: string;
  /** Node addresses (short names) whose host key the tailnet advertises: Tailscale SSH peers. */
  readonly peers: readonly string[];
}

export interface ShimOptions {
  readonly tailnet?: TailnetOptions;
  /** Folder for check mode (created): a host is in check mode while a file named after it exists. */
  readonly checkDir?: string;
}

export function tailscaleShim(lab: SshdLab, opts: ShimOptions = {}): TailscaleShim {
  const logFile = join(lab.dir, 'tailscale-calls.log');
  let knownHosts = lab.knownHostsFile;
  const extra: NodeJS.ProcessEnv = {};
  if (opts.tailnet) {
    const { magicDns, peers } = opts.tailnet;
    // The server's key, as the tailnet would advertise it for each Tailscale SSH peer.
    const key = readFileSync(lab.knownHostsFile, 'utf8').trim().split(/\s+/).slice(1).join(' ');
    knownHosts = join(lab.dir, 'tailnet_known_hosts');
    writeFileSync(knownHosts, peers.map((p) => `${p}.${magicDns}. ${key}\n`).join(''));
    extra.HOMELAB_SHIM_MAGICDNS = magicDns;
  }
  if (opts.checkDir !== undefined) {
    mkdirSync(opts.checkDir, { recursive: true });
    extra.HOMELAB_SHIM_CHECK_DIR = opts.checkDir;
  }
  return {
    logFile,
    env: {
      PATH: `${SHIM_DIR}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOMELAB_SHIM_PORT: String(lab.port),
      HOMELAB_SHIM_KEY: lab.keyFile,
      HOMELAB_SHIM_KNOWN_HOSTS: knownHosts,
      HOMELAB_SHIM_LOG: logFile,
      ...extra,
    },
  };
}

/** Puts a host (the node's address) in check mode: its next login prints the banner and waits. */
export function checkNode(checkDir: string, host: string): void {
  writeFileSync(join(checkDir, host), '');
}

/** The operator passed the host's check: held connections go on, new ones log in at once. */
export function passCheck(checkDir: string, host: string): void {
  rmSync(join(checkDir, host), { force: true });
}

export interface Hold {
  readonly host: string;
  readonly start: number;
  /** Nanoseconds since the epoch; Infinity while still held. */
  readonly end: number;
}

/**
 * The check holds the shim logged, in order of their start. A start and its end are paired by the
 * shim's pid (one hold per shim process), so an end line that went missing can never be taken for
 * another hold's end; a second end line of the same hold is ignored.
 */
export function holds(checkDir: string): Hold[] {
  let text: string;
  try {
    text = readFileSync(join(checkDir, 'holds.log'), 'utf8');
  } catch {
    return [];
  }
  return parseHolds(text);
}

/** holds() of the text of a holds.log. */
export function parseHolds(text: string): Hold[] {
  const open = new Map<string, { host: string; start: number }>();
  const out: Hold[] = [];
  for (const line of text.split('\n')) {
    const [what, host, at, pid = ''] = line.split(' ');
    if (!host || !at) continue;
    const key = `${host} ${pid}`;
    const ns = Number(at);
    if (what === 'start') open.set(key, { host, start: ns });
    if (what === 'end') {
      const started = open.get(key);
      open.delete(key);
      if (started) out.push({ ...started, end: ns });
    }
  }
  for (const started of open.values()) out.push({ ...started, end: Infinity });
  return out.sort((a, b) => a.start - b.start);
}

/** The most holds that overlapped in time. */
export function maxConcurrentHolds(list: readonly Hold[]): number {
  const edges = list.flatMap((h) => [
    [h.start, 1],
    [h.end, -1],
  ]);
  edges.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0) || (a[1] ?? 0) - (b[1] ?? 0));
  let now = 0;
  let max = 0;
  for (const [, d] of edges) {
    now += d ?? 0;
    max = Math.max(max, now);
  }
  return max;
}

/** A homelab repo whose nodes are reached with `tailscale ssh user@<name>`. */
export function tailscaleHomelab(dir: string, user: string, names: readonly string[]): string {
  const repo = join(dir, 'saturn');
  mkdirSync(join(repo, 'inventory'), { recursive: true });
  const yaml = [
    'homelab: tscheck',
    'git:',
    `  remote: ${join(dir, 'remote.git')}`,
    '  branch: main',
    'defaults:',
    '  transport: tailscale-ssh',
    `  user: ${user}`,
    '  ssh:',
    '    connectTimeout: 3',
    'nodes:',
    ...names.flatMap((n, i) => [
      `  ${n}:`,
      `    address: ${n}`,
      '    role: worker',
      `    wave: ${i}`,
      `    root: ${join(dir, 'root', n)}`,
      '    services: []',
    ]),
  ].join('\n');
  writeFileSync(join(repo, 'inventory', 'topology.yaml'), `${yaml}\n`);
  const parsed = parseTopology(`${yaml}\n`);
  if (!parsed.inventory) throw new Error('topology invalid');
  for (const node of parsed.inventory.nodes) {
    mkdirSync(join(repo, 'hosts', node.name), { recursive: true });
    writeFileSync(join(repo, manifestPath(node.name)), renderManifest(parsed.inventory, node));
  }
  const git = (...args: string[]): void => {
    execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  };
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'tailscale nodes');
  return repo;
}
