// The node's deploy log, redacted on the node before it leaves (diagnose.sh redact with its .env values).
import type { NodeSpec } from '../../core/inventory/model.js';
import type { NodeRunner } from '../transport/types.js';
import { diagnoseScriptPath } from './node-redact.js';

// The given log, else the newest one of a run that was not a diagnose (diagnose logs its own runs).
// Only files the node wrote: a regular file directly in <root>/logs/deploy named deploy_*.log, never
// a symlink (a planted newer `deploy_*.log` link once sent the node user's docker config.json).
const SCRIPT =
  'd="$3/logs/deploy"; f="$1"; ' +
  'if [ -n "$f" ]; then case "$f" in "$d"/deploy_*.log) ;; *) echo "refused: $f is not a deploy log of this node"; exit 0;; esac; ' +
  'case "${f#"$d"/}" in */*) echo "refused: $f is not a deploy log of this node"; exit 0;; esac; ' +
  'if [ -L "$f" ] || { [ -e "$f" ] && [ ! -f "$f" ]; }; then echo "refused: $f is not a regular file the node wrote"; exit 0; fi; ' +
  'else for c in $(ls -1t "$d" 2>/dev/null); do case "$c" in deploy_*.log) ;; *) continue;; esac; c="$d/$c"; ' +
  '[ -L "$c" ] && continue; [ -f "$c" ] || continue; ' +
  'if ! head -n 1 "$c" | grep -q \'"stage":"diagnose"\'; then f="$c"; break; fi; done; fi; ' +
  'if [ -z "$f" ] || [ ! -r "$f" ]; then echo "no deploy log on this node yet"; exit 0; fi; ' +
  'echo "== $f"; tail -n "$4" -- "$f" | bash "$2" redact --root "$3"';

/** Last `lines` lines of the log at `logPath` (or the newest deploy log), redacted on the node. */
export async function fetchFullLog(
  runner: NodeRunner,
  node: NodeSpec,
  logPath = '',
  lines = 400,
): Promise<{ lines: string[]; message: string }> {
  const out: string[] = [];
  const r = await runner.run(
    ['sh', '-c', SCRIPT, 'sh', logPath, diagnoseScriptPath(node), node.root, String(lines)],
    { timeoutMs: 30_000, onStdout: (l) => out.push(l) },
  );
  if (r.exitCode !== 0 || r.unreachable)
    return {
      lines: out,
      message: `could not read the log on ${node.name}: ${r.unreachable?.message ?? `exit ${r.exitCode ?? 'none'}`}`,
    };
  return { lines: out, message: '' };
}
