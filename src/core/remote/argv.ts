// The exact local command line that runs an argv on a node, for each transport. Pure.
//
//   ssh            ssh <options> user@address -- <quoted remote argv>
//   tailscale-ssh  tailscale ssh user@address <options> -- <quoted remote argv>
//   local          the argv itself (no shell, no quoting)
//
// Decisions (docs for the README's "how SATURN reaches nodes"):
// - Host key checking stays on: `StrictHostKeyChecking=yes` for ssh, never `no` or `accept-new`.
//   A node's host key must be in known_hosts (the node's `ssh.knownHostsFile`, or the user's own)
//   before SATURN talks to it; an unknown key is reported as host-key-unknown with the fix.
//   `tailscale ssh` sets its own known-hosts source (the keys the tailnet advertises) and
//   `StrictHostKeyChecking yes` before our options, and ssh keeps the first value of an option,
//   so neither is passed there.
// - `BatchMode=yes`: ssh never prompts (password, passphrase, host key): it fails instead.
// - `tailscale ssh` accepts ssh options only after the destination, and without `user@` it logs in
//   as the local user: the user is always given.
// - `--` ends ssh's options before the remote command (ssh parses options that follow the host).
import type { NodeSpec } from '../inventory/model.js';
import { shellJoin } from './quote.js';

/**
 * A value from the inventory that cannot be put on an ssh command line. `homelab validate` refuses
 * such values first; this is the last guard, and the CLI prints its message without a stack.
 */
export class UnusableValueError extends Error {
  override name = 'UnusableValueError';
}

export interface TransportArgv {
  readonly file: string;
  readonly args: string[];
}

export interface ArgvOptions {
  /** Control socket of the node's shared (multiplexed) connection; absent: no multiplexing. */
  readonly controlPath?: string;
  /**
   * A connection of its own, never a shared one (`ControlMaster=no`, `ControlPath=none`, whatever
   * the user's ssh config says): the magic-rollback confirmation must prove a NEW connection works.
   */
  readonly fresh?: boolean;
}

/** Seconds between keep-alive probes; 3 unanswered probes drop a dead connection. */
export const SERVER_ALIVE_INTERVAL = 15;
export const SERVER_ALIVE_COUNT_MAX = 3;
/** Seconds an idle shared connection stays open after its last command. */
export const CONTROL_PERSIST = 60;

/** Runs `remote` on the node. `remote` must not be empty. */
export function transportArgv(
  node: NodeSpec,
  remote: readonly string[],
  opts: ArgvOptions = {},
): TransportArgv {
  const [first, ...rest] = remote;
  if (first === undefined) throw new TypeError('transportArgv: empty remote command');
  if (node.transport === 'local') return { file: first, args: rest };
  const mux = opts.fresh
    ? ['-o', 'ControlMaster=no', '-o', 'ControlPath=none']
    : opts.controlPath === undefined
      ? []
      : muxOptions(opts.controlPath, 'auto');
  return withDestination(node, [...commonOptions(node), ...mux], ['--', shellJoin(remote)]);
}

/**
 * Opens the node's shared connection and returns once it is up (`-f` backgrounds ssh after
 * login, `-N` runs no command). Opening it before any command avoids the race of parallel first
 * connections (one becomes master, the others warn and connect on their own).
 */
export function masterArgv(node: NodeSpec, controlPath: string): TransportArgv {
  if (node.transport === 'local')
    throw new TypeError('masterArgv: the local transport has no connection');
  return withDestination(
    node,
    [...commonOptions(node), ...muxOptions(controlPath, 'yes'), '-N', '-f'],
    [],
  );
}

/**
 * Asks the master of a control socket something (`check`: is it alive; `exit`: stop it).
 * Plain ssh for both transports: only the socket matters, nothing goes over the network.
 */
export function controlArgv(
  node: NodeSpec,
  controlPath: string,
  op: 'check' | 'exit',
): TransportArgv {
  return {
    file: 'ssh',
    args: ['-o', `ControlPath=${configValue(controlPath)}`, '-O', op, destination(node)],
  };
}

function commonOptions(node: NodeSpec): string[] {
  const o: string[] = [
    '-o',
    'BatchMode=yes',
    '-o',
    `ConnectTimeout=${Math.max(1, Math.ceil(node.ssh.connectTimeout))}`,
    '-o',
    `ServerAliveInterval=${SERVER_ALIVE_INTERVAL}`,
    '-o',
    `ServerAliveCountMax=${SERVER_ALIVE_COUNT_MAX}`,
  ];
  if (node.transport === 'ssh') {
    o.push('-o', 'StrictHostKeyChecking=yes');
    if (node.ssh.knownHostsFile !== undefined)
      o.push('-o', `UserKnownHostsFile=${configValue(node.ssh.knownHostsFile)}`);
  }
  if (node.ssh.port !== undefined) o.push('-p', String(node.ssh.port));
  if (node.ssh.identityFile !== undefined)
    o.push('-i', node.ssh.identityFile, '-o', 'IdentitiesOnly=yes');
  return o;
}

function muxOptions(controlPath: string, master: 'auto' | 'yes'): string[] {
  return [
    '-o',
    `ControlMaster=${master}`,
    '-o',
    `ControlPath=${configValue(controlPath)}`,
    '-o',
    `ControlPersist=${CONTROL_PERSIST}`,
  ];
}

function withDestination(node: NodeSpec, options: string[], command: string[]): TransportArgv {
  const dest = destination(node);
  if (node.transport === 'tailscale-ssh')
    return { file: 'tailscale', args: ['ssh', dest, ...options, ...command] };
  return { file: 'ssh', args: [...options, dest, ...command] };
}

function destination(node: NodeSpec): string {
  for (const [what, value] of [
    ['user', node.user],
    ['address', node.address],
  ] as const) {
    if (!/^[A-Za-z0-9_.:[\]%-]+$/.test(value) || value.startsWith('-')) {
      throw new UnusableValueError(
        `node ${node.name}: ${what} ${JSON.stringify(value)} cannot be used in an ssh destination: run \`homelab validate\``,
      );
    }
  }
  return `${node.user}@${node.address}`;
}

/**
 * A path as the value of `-o Key=value`: ssh reads that like a config line, where whitespace
 * separates values and `%` starts a token, so `%` is doubled and a path with spaces is quoted.
 */
function configValue(path: string): string {
  if (/["\n\r]/.test(path))
    throw new UnusableValueError(
      `path ${JSON.stringify(path)} cannot be given to ssh: run \`homelab validate\``,
    );
  const escaped = path.replaceAll('%', '%%');
  return /\s/.test(escaped) ? `"${escaped}"` : escaped;
}
