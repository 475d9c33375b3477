// Why a node could not be reached, from what the transport printed. Pure.
//
// ssh exits 255 when its own layer fails (and also when the remote command exits 255), so the
// reason comes from ssh's stderr. The patterns below were captured from real OpenSSH 9.2 runs
// (see test/unit/remote/unreachable.test.ts for the exact lines and how each was produced).
// A refused port ("Connection refused": the host answers but nothing listens on the ssh port) is
// reported as no-route with its own message, so the UnreachableReason union stays as it is.
import type { TransportKind } from '../inventory/model.js';
import type { UnreachableReason } from '../node/types.js';
import { toScreen } from '../recover/redact.js';

export interface FailureInput {
  readonly transport: TransportKind;
  /** Exit code of the local process (ssh, tailscale, or the local command); null when it never ran. */
  readonly exitCode: number | null;
  /** What it printed on stderr (the tail is enough). */
  readonly stderr: string;
  /** The spawn error (for example `spawnSync ssh ENOENT`), when the program could not start. */
  readonly spawnError?: string;
}

export interface Unreachable {
  readonly reason: UnreachableReason;
  readonly message: string;
  /** With reason needs-check: the URL that passes the Tailscale SSH check. */
  readonly checkUrl?: string;
}

interface Rule {
  readonly reason: UnreachableReason;
  readonly pattern: RegExp;
  readonly hint: string;
}

// First match wins: the host key rules come before "Host key verification failed", which both print.
const SSH_RULES: readonly Rule[] = [
  {
    reason: 'host-key-mismatch',
    pattern: /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/,
    hint: 'the node presents a different host key than known_hosts holds: if the node was reinstalled, verify its new key and replace the old entry (ssh-keygen -R); otherwise do not connect',
  },
  {
    reason: 'host-key-unknown',
    pattern: /No \S+ host key is known for|Host key verification failed/,
    hint: "the node's host key is not in known_hosts: verify it and add it (for example ssh-keyscan the node on a trusted network, or set the node's ssh.knownHostsFile)",
  },
  {
    reason: 'auth-refused',
    pattern: /Permission denied \(|Too many authentication failures/,
    hint: "the node refused SATURN's key: add SATURN's public key to the user's ~/.ssh/authorized_keys on the node, or check the node's ssh.identityFile and user",
  },
  {
    reason: 'no-route',
    pattern: /Connection refused/,
    hint: 'the host answered but nothing listens on the ssh port: is sshd (or Tailscale SSH) running on the node, and is ssh.port right?',
  },
  {
    reason: 'no-route',
    pattern:
      /Could not resolve hostname|Name or service not known|No route to host|Network is unreachable|no such host|is offline/i,
    hint: 'check the node address, that the node is up and on the tailnet (tailscale status)',
  },
  {
    reason: 'timeout',
    pattern: /timed out|Connection timeout|Timeout, server .* not responding/i,
    hint: 'the node did not answer in time: is it up and on the tailnet? ssh.connectTimeout sets the limit',
  },
  {
    reason: 'connection-lost',
    pattern:
      /closed by remote host|Connection closed|Broken pipe|Connection reset|kex_exchange_identification|mux_client_read_packet|client_loop/,
    hint: 'the connection dropped: the node may have rebooted or lost the network; run the command again',
  },
];

// Messages of the tailscale CLI itself (exit 1), from its source (cmd/tailscale/cli): SATURN's own
// Tailscale is not usable, so no node can be reached through it.
const TAILSCALE_RULES: readonly Rule[] = [
  {
    reason: 'transport-missing',
    pattern: /^failed to connect to local tailscaled|^Tailscale is stopped|^Logged out|^NeedsLogin/,
    hint: "Tailscale is not running or not logged in on SATURN: start it (sudo systemctl start tailscaled; sudo tailscale up), or set the node's transport to ssh",
  },
  {
    reason: 'transport-missing',
    pattern: /^no system 'ssh' command found/,
    hint: 'tailscale ssh needs the OpenSSH client on SATURN (apt-get install openssh-client)',
  },
];

/** What to do when a node's host key is unknown to `tailscale ssh`. */
export const NOT_TAILSCALE_SSH =
  'this node does not run Tailscale SSH: use `transport: ssh` to its tailnet address (tailscale ssh knows only the host keys of peers running the Tailscale SSH server)';

/** The first line of the banner a Tailscale SSH server prints when its policy wants a check. */
const CHECK_BANNER = /Tailscale SSH requires an additional check/i;
/** The check's URL: https, a host name, a path of URL characters; nothing else is taken. */
const CHECK_URL = /https:\/\/[A-Za-z0-9.-]+(?::\d+)?(?:\/[A-Za-z0-9._~%/?=&+:@!,;-]*)?/;

/**
 * The URL of a Tailscale SSH check banner in what the connection printed so far, or undefined when
 * there is no banner yet (or its URL has not arrived). The text passes toScreen first (control
 * sequences stripped), so the URL is safe to draw and to copy; it is not a secret.
 */
export function checkBannerUrl(stderr: string): string | undefined {
  const lines = toScreen(stderr).split(/\r?\n/);
  const at = lines.findIndex((l) => CHECK_BANNER.test(l));
  if (at < 0) return undefined;
  for (const line of lines.slice(at, at + 4)) {
    const url = CHECK_URL.exec(line)?.[0];
    if (url !== undefined) return url.replace(/[.,;:!]+$/, '');
  }
  return undefined;
}

/** Classifies a failed command; undefined when the failure is the remote command's own. */
export function classifyFailure(input: FailureInput): Unreachable | undefined {
  const { transport, exitCode, stderr, spawnError } = input;
  if (spawnError !== undefined) {
    const program = transport === 'tailscale-ssh' ? 'tailscale' : 'ssh';
    if (transport === 'local') {
      const missing = /ENOENT/.test(spawnError);
      return {
        reason: missing ? 'command-not-found' : 'unknown',
        message: `${missing ? 'command not found' : 'could not start the command'}: ${spawnError}`,
      };
    }
    if (/ENOENT/.test(spawnError)) {
      const hint =
        transport === 'tailscale-ssh'
          ? 'install Tailscale on SATURN, or set the node transport to ssh'
          : 'install the OpenSSH client (apt-get install openssh-client)';
      return {
        reason: 'transport-missing',
        message: `${program} is not installed or not on PATH (${spawnError}): ${hint}`,
      };
    }
    return { reason: 'unknown', message: `could not start ${program}: ${spawnError}` };
  }
  if (transport === 'tailscale-ssh' && exitCode === 1) {
    // The tailscale CLI failed before it could exec ssh: its message is the first stderr line.
    const first = stderr
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean);
    const rule =
      first === undefined ? undefined : TAILSCALE_RULES.find((r) => r.pattern.test(first));
    if (first !== undefined && rule)
      return { reason: rule.reason, message: `${first}: ${rule.hint}` };
  }
  if (exitCode === 127) {
    const line = keyLine(stderr, /not found|No such file/) ?? lastLine(stderr);
    return {
      reason: 'command-not-found',
      message: `command not found on the node${line ? `: ${line}` : ''} (is the repo checked out and deploy.sh there? run prepare)`,
    };
  }
  if (transport === 'local' || exitCode !== 255) return undefined;
  for (const rule of SSH_RULES) {
    const line = keyLine(stderr, rule.pattern);
    if (line === undefined) continue;
    // `tailscale ssh` checks host keys against its own known_hosts, which holds only the keys of
    // peers running the Tailscale SSH server, under their MagicDNS name with a trailing dot: an
    // unknown key through it means the node runs another ssh server (plain OpenSSH).
    if (transport === 'tailscale-ssh' && rule.reason === 'host-key-unknown')
      return { reason: rule.reason, message: `${line}: ${NOT_TAILSCALE_SSH}` };
    return { reason: rule.reason, message: `${line}: ${rule.hint}` };
  }
  // Exit 255 without a recognised ssh message: the remote command may simply have exited 255.
  const last = lastLine(stderr);
  if (
    last !== undefined &&
    /^(ssh|ssh_\w+|ControlSocket|Control socket|muxclient|channel \d+|Bad \w+|command-line):?/.test(
      last,
    )
  ) {
    return {
      reason: 'unknown',
      message: `${last}: the ssh layer failed (run the same command with ssh -v for details)`,
    };
  }
  return undefined;
}

/** The first stderr line that matches, trimmed and without the banner's @ borders. */
function keyLine(stderr: string, pattern: RegExp): string | undefined {
  for (const raw of stderr.split('\n')) {
    const line = raw.replace(/^[@\s]+|[@\s]+$/g, '');
    if (line && pattern.test(line)) return line;
  }
  return undefined;
}

function lastLine(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1];
}
