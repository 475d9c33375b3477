// Opening a node's shared connection through `tailscale ssh` when its policy may want a check.
//
// A Tailscale SSH server in check mode prints "Tailscale SSH requires an additional check. To
// authenticate, visit: https://login.tailscale.com/a/..." and holds the connection (up to 30
// minutes) until someone opens the URL. ConnectTimeout does not cover that wait and BatchMode does
// not fail it, so the banner is read from stderr while the connection opens:
//
// - no banner: the connect timeout applies as for ssh, and the result is the opening's own;
// - a banner: the node reports needs-check with the URL at once; the connection stays open
//   (held) for the check, so passing it in the browser completes it; the operator's "done"
//   (CheckGate.retry) stops it and the next command connects again.
// Through the tailnet's CheckGate, only one node holds a check at a time (one browser tab).
import type { NodeSpec } from '../../core/inventory/model.js';
import { masterArgv, type TransportArgv } from '../../core/remote/argv.js';
import {
  checkBannerUrl,
  classifyFailure,
  type Unreachable,
} from '../../core/remote/unreachable.js';
import type { CheckGate } from './check-gate.js';
import { spawnGroup, type SpawnOptions, type Spawned } from './spawn-group.js';

/** A Tailscale SSH server holds a check for up to 30 minutes: keep ours a little longer. */
const CHECK_HOLD_MS = 31 * 60_000;

export type Opened =
  { readonly spawned: Spawned; readonly timedOut: boolean } | { readonly unreachable: Unreachable };

export interface CheckedOpener {
  /** Opens the node's master (`ssh -M -N -f` through tailscale) within the gate. */
  open(timeoutMs: number): Promise<Opened>;
  /** Stops a held check connection. */
  close(): Promise<void>;
}

export function needsCheck(node: NodeSpec, url: string): Unreachable {
  return {
    reason: 'needs-check',
    checkUrl: url,
    message: `Tailscale SSH on ${node.address} requires a check: open ${url} in a browser and log in, then retry ${node.name}`,
  };
}

export function waitingFor(holder: string): Unreachable {
  return {
    reason: 'needs-check',
    message: `waiting for the Tailscale SSH check of ${holder} (one check at a time): pass that one first, then this node is tried`,
  };
}

export function checkedOpener(
  node: NodeSpec,
  controlPath: string,
  gate: CheckGate,
  env: NodeJS.ProcessEnv | undefined,
): CheckedOpener {
  let held: { readonly url: string; readonly stop: () => Promise<void> } | undefined;

  const open = async (timeoutMs: number): Promise<Opened> => {
    if (held) return { unreachable: needsCheck(node, held.url) };
    const entry = await gate.enter(node.name);
    if (entry.kind === 'blocked') return { unreachable: waitingFor(entry.by.node) };
    const { ticket } = entry;
    const abort = new AbortController();
    let stderr = '';
    let timedOut = false;
    let bannerUrl: string | undefined;
    let sawBanner: (url: string) => void = () => undefined;
    const banner = new Promise<string>((resolve) => {
      sawBanner = resolve;
    });
    // The connect timeout, as for ssh, until a banner says the server holds us for a check.
    const timer = setTimeout(() => {
      if (bannerUrl === undefined) {
        timedOut = true;
        abort.abort();
      }
    }, timeoutMs);
    const done = spawnGroup(masterArgv(node, controlPath), {
      env,
      quiet: true,
      signal: abort.signal,
      timeoutMs: CHECK_HOLD_MS,
      onStderr: (line) => {
        if (bannerUrl !== undefined) return;
        stderr = (stderr + line + '\n').slice(-16_384);
        const url = checkBannerUrl(stderr);
        if (url === undefined) return;
        bannerUrl = url;
        clearTimeout(timer);
        sawBanner(url);
      },
    });
    const first = await Promise.race([
      done.then((spawned) => ({ spawned })),
      banner.then((url) => ({ url })),
    ]);
    if ('spawned' in first) {
      clearTimeout(timer);
      if (first.spawned.exitCode === 0) ticket.ok();
      else ticket.failed();
      return { spawned: first.spawned, timedOut };
    }
    const stop = async (): Promise<void> => {
      abort.abort();
      await done;
    };
    if (ticket.banner(first.url, stop) === 'drop') {
      await stop();
      return { unreachable: waitingFor(gate.current()?.node ?? 'another node') };
    }
    const mine = { url: first.url, stop };
    held = mine;
    // Passing the check in the browser lets the held connection finish: the master is then up.
    void done.then((spawned) => {
      if (held === mine) held = undefined;
      if (spawned.exitCode === 0 && !spawned.cancelled) gate.succeeded(node.name);
      else gate.release(node.name);
    });
    return { unreachable: needsCheck(node, first.url) };
  };

  return {
    open,
    async close() {
      const h = held;
      held = undefined;
      if (h) await h.stop();
    },
  };
}

/** What a command on a connection of its own did, opened within the gate. */
export type CheckedRun =
  { readonly spawned: Spawned; readonly checkUrl?: string } | { readonly unreachable: Unreachable };

/**
 * Runs one command over a connection of its own (no master: the magic-rollback confirmation)
 * within the tailnet's gate, like every opening: blocked while another node holds a check; a
 * banner makes this node the tailnet's one check (or drops it when another holds one). A held
 * command goes on when the check passes in the browser, until the command's own deadline;
 * `checkUrl` says it met a check.
 */
export async function checkedCommand(
  node: NodeSpec,
  cmd: TransportArgv,
  gate: CheckGate,
  options: SpawnOptions,
): Promise<CheckedRun> {
  const entry = await gate.enter(node.name);
  if (entry.kind === 'blocked') return { unreachable: waitingFor(entry.by.node) };
  const { ticket } = entry;
  const abort = new AbortController();
  const onAbort = (): void => abort.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) abort.abort();
  let stderr = '';
  let checkUrl: string | undefined;
  let verdict: 'hold' | 'drop' | undefined;
  const stop = async (): Promise<void> => {
    abort.abort();
    await done;
  };
  const done = spawnGroup(cmd, {
    ...options,
    signal: abort.signal,
    onStderr: (line) => {
      options.onStderr?.(line);
      if (checkUrl !== undefined) return;
      stderr = (stderr + line + '\n').slice(-16_384);
      const url = checkBannerUrl(stderr);
      if (url === undefined) return;
      checkUrl = url;
      verdict = ticket.banner(url, stop);
      if (verdict === 'drop') abort.abort();
    },
  });
  const spawned = await done;
  options.signal?.removeEventListener('abort', onAbort);
  if (verdict === 'drop')
    return { unreachable: waitingFor(gate.current()?.node ?? 'another node') };
  const reached =
    spawned.exitCode !== null &&
    !spawned.cancelled &&
    !spawned.timedOut &&
    classifyFailure({
      transport: node.transport,
      exitCode: spawned.exitCode,
      stderr: spawned.stderrTail,
      spawnError: spawned.spawnError,
    }) === undefined;
  if (verdict === 'hold') {
    if (reached) gate.succeeded(node.name);
    else gate.release(node.name);
  } else if (reached) ticket.ok();
  else ticket.failed();
  return checkUrl === undefined ? { spawned } : { spawned, checkUrl };
}
