// Streams a service's logs from its node over the node's one connection: `deploy.sh logs` (the node
// redacts every line before it leaves), then every line through SATURN's boundary (toScreen:
// control sequences stripped, credential shapes redacted) before anyone sees it.
import type { NodeSpec } from '../../core/inventory/model.js';
import {
  LOGS_HEARTBEAT,
  serviceLogsArgv,
  type ServiceLogsQuery,
} from '../../core/logs/service-log.js';
import { toScreen } from '../../core/recover/redact.js';
import type { NodeRunner } from '../transport/types.js';

export interface ServiceLogsRequest extends ServiceLogsQuery {
  readonly spec: NodeSpec;
  readonly service: string;
  /** Each line of the logs, screen-safe. */
  readonly onLine: (line: string) => void;
  /** What deploy.sh or ssh said on stderr (the heartbeat dropped), screen-safe. */
  readonly onError?: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface ServiceLogsEnd {
  readonly result: 'ok' | 'failed' | 'unreachable' | 'cancelled';
  readonly exitCode: number | null;
  /** Why it ended, when not ok: the last thing the node said, or the transport's reason. */
  readonly message: string;
}

export async function streamServiceLogs(
  runner: NodeRunner,
  req: ServiceLogsRequest,
): Promise<ServiceLogsEnd> {
  const errors: string[] = [];
  const result = await runner.run(serviceLogsArgv(req.spec, req.service, req), {
    onStdout: (line) => req.onLine(toScreen(line)),
    onStderr: (line) => {
      if (line.startsWith(LOGS_HEARTBEAT)) return;
      const safe = toScreen(line);
      errors.push(safe);
      if (errors.length > 20) errors.shift();
      req.onError?.(safe);
    },
    ...(req.signal ? { signal: req.signal } : {}),
  });
  if (result.cancelled || req.signal?.aborted)
    return { result: 'cancelled', exitCode: null, message: 'stopped' };
  if (result.unreachable && result.unreachable.reason !== 'command-not-found')
    return { result: 'unreachable', exitCode: null, message: result.unreachable.message };
  if (result.exitCode === 0) return { result: 'ok', exitCode: 0, message: '' };
  const said = errors
    .filter((e) => e.trim())
    .at(-1)
    ?.replace(/^deploy\.sh: (logs: )?/, '');
  const why =
    result.exitCode === 127 || result.unreachable?.reason === 'command-not-found'
      ? `${req.spec.name} is not bootstrapped (no deploy.sh there): homelab node bootstrap ${req.spec.name}`
      : said && /unknown stage 'logs'/.test(said)
        ? `the node scripts on ${req.spec.name} are older than this tool (no \`deploy.sh logs\`): homelab scripts update, commit, push, then prepare the node`
        : (said ?? `deploy.sh logs exited ${result.exitCode ?? 'without a code'}`);
  return { result: 'failed', exitCode: result.exitCode, message: why };
}
