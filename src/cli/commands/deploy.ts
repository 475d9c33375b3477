// `homelab deploy [--wave N] [--node NAME]... [--tag T] [--yes] [--per-stage]`: the fleet walk of the
// TUI's D for scripts and plain terminals (src/shell/control/walk.ts, the same engine). Waves in
// order; each wave confirmed once (one run per node: prepare -> deploy -> verify), or each stage
// with --per-stage. One line per node event. Without a terminal it refuses unless --yes. Exit 0
// only when every selected node is verified at SATURN's HEAD.
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../command.js';
import { parseCommandArgs, REPO_OPTION } from '../args.js';
import { openCommandControl } from '../open-control.js';
import { paintFor, warningLines } from '../colour.js';
import { questioner } from '../../shell/confirm.js';
import { describeWalkQuestion, walkFleet, type WalkEvent } from '../../shell/control/walk.js';
import { shortSha } from '../../core/status/summary.js';
import { selects, type WalkSelection } from '../../core/walk/plan.js';

const USAGE = `Usage: homelab deploy [--wave N]... [--node NAME]... [--tag T]... [--yes] [--per-stage] [--repo DIR]
  --wave N     only the nodes of wave N (repeat for several)
  --node NAME  only this node (repeat for several)
  --tag T      only nodes with tag T (repeat for several)
  --yes        do not ask (required without a terminal)
  --per-stage  confirm each stage (prepare, deploy, verify: three runs per node) instead of each wave
  --repo DIR   the homelab repo (default: $HOMELAB_REPO, else the folder above holding inventory/)
  The topology's deploy: block sets the pace: concurrency (nodes of a wave at once, default the
  whole wave) and canary: true (the first node of each wave alone, then the rest).`;

/** The selection flags and --wave's numbers checked; throws UsageError. Runs nothing. */
function parse(args: readonly string[]) {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      ...REPO_OPTION,
      wave: { type: 'string', multiple: true },
      node: { type: 'string', multiple: true },
      tag: { type: 'string', multiple: true },
      yes: { type: 'boolean' },
      'per-stage': { type: 'boolean' },
    },
    true,
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const waves = (values.wave ?? []).map((w) => {
    if (!/^\d{1,2}$/.test(w)) throw new UsageError(`--wave takes a wave number, got "${w}"`);
    return Number(w);
  });
  return { values, waves };
}

const command: Command = {
  name: 'deploy',
  summary: 'deploy the homelab wave by wave (nodes of a wave in parallel), as the TUI does with D',
  usage: USAGE,
  parse,
  async run(args: readonly string[], ctx: CommandContext): Promise<number> {
    const { values, waves } = parse(args);
    if (!values.yes && !ctx.stdin.isTTY) {
      ctx.stderr.write(
        'homelab deploy: not on a terminal, so nothing can be confirmed: pass --yes\n',
      );
      return 2;
    }
    const control = await openCommandControl(ctx, values.repo);
    if (!control) return 1;
    const paint = paintFor(ctx.env, ctx.stderr);
    const out = (text: string): void => {
      ctx.stderr.write(`${text}\n`);
    };
    try {
      const names = control.inventory.nodes.map((n) => n.name);
      for (const n of values.node ?? [])
        if (!names.includes(n))
          throw new UsageError(
            `no node "${n}" in inventory/topology.yaml (nodes: ${names.join(', ')})`,
          );
      const selection: WalkSelection = {
        ...(waves.length ? { waves } : {}),
        ...(values.node?.length ? { nodes: values.node } : {}),
        ...(values.tag?.length ? { tags: values.tag } : {}),
      };
      if (!control.inventory.nodes.some((n) => selects(selection, n)))
        throw new UsageError('no node matches --wave, --node and --tag together');
      const asker = values.yes ? undefined : questioner(ctx.stdin, ctx.stdout);
      const abort = new AbortController();
      const onSigint = (): void => abort.abort();
      process.once('SIGINT', onSigint);
      const onEvent = (ev: WalkEvent): void => {
        switch (ev.type) {
          case 'wave':
            if (ev.todo.length === 0 && ev.upToDate.length === 0) return;
            out(
              `wave ${ev.wave}: ${ev.todo.length > 0 ? `to deploy ${ev.todo.join(', ')}` : 'nothing to deploy'}` +
                (ev.upToDate.length > 0 ? `; up to date ${ev.upToDate.join(', ')}` : ''),
            );
            return;
          case 'node-start':
            out(`${ev.node}: ${ev.stage} at ${shortSha(ev.commit)} started`);
            return;
          case 'node-stage':
            out(`${ev.node}: ${ev.stage}`);
            return;
          case 'node-end': {
            const o = ev.outcome;
            const secs = `${(o.durationMs / 1000).toFixed(1)}s`;
            out(
              o.result === 'ok'
                ? `${ev.node}: ${paint.ok('✓')} ${o.stage} ok at ${shortSha(o.commit)} (${secs})`
                : `${ev.node}: ${paint.error('✗')} ${o.stage} ${o.result}${o.message ? `: ${o.message}` : ''} (${secs})`,
            );
            return;
          }
          case 'refused':
            out(`${ev.node}: ${paint.error('refused')}, nothing ran: ${ev.why}`);
            return;
          case 'declined':
            out(`wave ${ev.wave}: declined, nothing ran`);
            return;
          default:
            return;
        }
      };
      const result = await walkFleet({
        control,
        selection,
        granularity: values['per-stage'] ? 'stage' : 'wave',
        onEvent,
        signal: abort.signal,
        confirm: async (q) => {
          const warnings = [...new Set(q.plans.flatMap((p) => p.warnings ?? []))];
          ctx.stderr.write(warningLines(paint, warnings));
          if (!asker) return true;
          const { title, lines } = describeWalkQuestion(q);
          return asker.ask(`${title}\n${lines.join('\n')}\nProceed?`);
        },
      }).finally(() => {
        process.off('SIGINT', onSigint);
        asker?.close();
      });
      if (result.ok) {
        const n = result.deployed.length;
        out(
          n === 0
            ? `every selected node is up to date at ${shortSha(result.head)}`
            : `${paint.ok('deployed')} ${n} node${n === 1 ? '' : 's'} at ${shortSha(result.head)}` +
                (result.upToDate.length > 0
                  ? `; ${result.upToDate.length} already up to date`
                  : ''),
        );
        return 0;
      }
      const rest =
        result.notStarted.length > 0 ? `; not started: ${result.notStarted.join(', ')}` : '';
      if (result.refused)
        out(
          `deploy ${paint.error('refused')} at ${result.refused.node}: ${result.refused.why}${rest}`,
        );
      else if (result.declined) out(`deploy stopped: declined${rest}`);
      else
        out(
          `deploy ${paint.error('stopped')} in wave ${result.stoppedWave ?? '?'}: ` +
            result.failed.map((f) => `${f.node} failed: ${f.message}`).join('; ') +
            rest,
        );
      if (result.failed.length > 0)
        out(`recover: homelab recover ${result.failed[0]?.node ?? ''} (or the TUI's recover view)`);
      return abort.signal.aborted ? 130 : 1;
    } finally {
      await control.close();
    }
  },
};

export default command;
