// `homelab updates [--node N]... [--json]`: per node and service, whether its tag points to a newer
// image in the registry than the one running (the node asks the registry with its own docker
// login; nothing is pulled), with the running image's age. Exit 0 when every image is current,
// 1 when some are out of date or a node could not be asked.
//
// `homelab updates --apply [--wave N]... [--node NAME]... [--service S]... [--yes]`: the updatable
// services of the selected nodes (every node when none is named), wave by wave through the fleet
// walk (walkUpdates: the engine of `homelab deploy`); each wave asked once, showing what changes
// (service, tag, running digest -> the registry's, age), its nodes at once: deploy --update (pull,
// recreate what moved) then verify, which records the new digests. The first failure stops new
// starts; a rollback returns to the digests recorded before.
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../command.js';
import { parseCommandArgs, REPO_OPTION } from '../args.js';
import { openCommandControl } from '../open-control.js';
import { confirm } from '../../shell/confirm.js';
import { readFleetImages, walkUpdates } from '../../shell/images.js';
import {
  renderUpdatesTable,
  updatableServices,
  updateRows,
  updateWork,
} from '../../core/images/updates.js';
import { selects } from '../../core/walk/plan.js';
import { describeEvent } from '../../core/protocol/describe.js';
import type { NodeLine } from '../../core/protocol/events.js';
import type { Control } from '../../shell/control/types.js';

/** The flags and --wave's numbers checked; throws UsageError. Runs nothing. */
function parse(args: readonly string[]) {
  const { values } = parseCommandArgs(args, {
    ...REPO_OPTION,
    json: { type: 'boolean' },
    node: { type: 'string', multiple: true },
    wave: { type: 'string', multiple: true },
    service: { type: 'string', multiple: true },
    apply: { type: 'boolean' },
    yes: { type: 'boolean' },
  });
  const only = values.node ?? [];
  if (!values.apply && (values.service?.length ?? 0) > 0)
    throw new UsageError('--service goes with --apply');
  if (!values.apply && (values.wave?.length ?? 0) > 0)
    throw new UsageError('--wave goes with --apply');
  const waves = (values.wave ?? []).map((w) => {
    if (!/^\d{1,2}$/.test(w)) throw new UsageError(`--wave takes a wave number, got "${w}"`);
    return Number(w);
  });
  return { values, only, waves };
}

const command: Command = {
  name: 'updates',
  summary: 'show which services’ tags point to newer images in the registry; --apply updates them',
  usage:
    'Usage: homelab updates [--node NAME]... [--json] [--repo DIR]\n' +
    '       homelab updates --apply [--wave N]... [--node NAME]... [--service NAME]... [--yes]\n' +
    '  --apply    pull, recreate and verify the out-of-date services of the selected nodes (all\n' +
    '             when none is named), wave by wave, each wave asked first; the first failure\n' +
    '             stops new starts (roll back a node with: homelab run rollback --node NAME)',
  parse,
  async run(args: readonly string[], ctx: CommandContext): Promise<number> {
    const { values, only, waves } = parse(args);
    const control = await openCommandControl(ctx, values.repo);
    if (!control) return 1;
    try {
      const unknown = only.filter((n) => !control.inventory.nodes.some((s) => s.name === n));
      if (unknown.length > 0)
        throw new UsageError(
          `no node ${unknown.map((n) => `"${n}"`).join(', ')} in inventory/topology.yaml`,
        );
      if (values.apply)
        return await apply(control, ctx, { nodes: only, waves }, values.service ?? [], {
          yes: values.yes ?? false,
        });
      const nodes = await readFleetImages(control, only);
      if (values.json) ctx.stdout.write(`${JSON.stringify({ nodes }, null, 2)}\n`);
      else ctx.stdout.write(renderUpdatesTable(updateRows(nodes, Date.now())));
      const stale = nodes.some((n) => n.error || updatableServices(n.images).length > 0);
      return stale ? 1 : 0;
    } finally {
      await control.close();
    }
  },
};

async function apply(
  control: Control,
  ctx: CommandContext,
  selection: { readonly nodes: readonly string[]; readonly waves: readonly number[] },
  wanted: readonly string[],
  opts: { readonly yes: boolean },
): Promise<number> {
  const chosen = control.inventory.nodes
    .filter((n) => selects(selection, { name: n.name, wave: n.wave, tags: n.tags }))
    .map((n) => n.name);
  if (chosen.length === 0) throw new UsageError('no node matches --wave and --node together');
  if (!opts.yes && !ctx.stdin.isTTY) {
    ctx.stderr.write(
      'homelab updates: --apply changes nodes; not on a terminal, so nothing can be confirmed: pass --yes\n',
    );
    return 2;
  }
  const found = await readFleetImages(control, chosen);
  const work = updateWork(found, wanted);
  if (work.unknown.length > 0)
    throw new UsageError(
      `${chosen.length === 1 ? chosen[0] : 'no selected node'} runs no service ${work.unknown.map((s) => `"${s}"`).join(', ')}`,
    );
  for (const e of work.errors) ctx.stderr.write(`homelab updates: ${e.node}: ${e.error}\n`);
  if (work.services.size === 0) {
    const where = chosen.length === 1 ? `on ${chosen[0] ?? ''}` : 'on the selected nodes';
    if (work.errors.length === 0)
      ctx.stdout.write(`Nothing to update ${where}: every image is what its tag points to.\n`);
    return work.errors.length > 0 ? 1 : 0;
  }
  let asked = false;
  let declined = false;
  const print = (line: NodeLine): void => {
    if (line.kind === 'log') {
      if (!line.text.startsWith('@homelab/')) ctx.stdout.write(`${line.text}\n`);
      return;
    }
    const t = describeEvent(line.event);
    if (t && line.event.type !== 'run') ctx.stderr.write(`${t}\n`);
  };
  const result = await walkUpdates({
    control,
    found,
    work,
    confirm: async (q) => {
      const lines = q.nodes.flatMap((n) => [
        `update on ${n}: pull, recreate what moved, verify`,
        ...(q.changes[n] ?? []).map((c) => `  ${c}`),
      ]);
      const text = `wave ${q.wave}:\n${lines.join('\n')}\nthe digests running now stay recorded (to return to them: homelab run rollback --node NAME)`;
      asked = true;
      if (opts.yes) {
        ctx.stderr.write(`${text}\n`);
        return true;
      }
      const yes = await confirm(`${text}\nProceed?`, ctx.stdin, ctx.stdout);
      declined = !yes;
      return yes;
    },
    onEvent: (ev) => {
      if (ev.type === 'node-line') print(ev.line);
    },
  });
  if (declined || (!asked && result.declined)) {
    ctx.stdout.write('Nothing was run.\n');
    return 1;
  }
  if (result.refused) {
    ctx.stderr.write(`update on ${result.refused.node} not run: ${result.refused.why}\n`);
    return 1;
  }
  for (const f of result.failed) {
    const o = result.outcomes.get(f.node);
    ctx.stderr.write(
      `update ${o?.result ?? 'failed'} on ${f.node} (${o?.stage ?? 'deploy'}): ${f.message}\n` +
        `roll back to the digests recorded before: homelab run rollback --node ${f.node}\n`,
    );
  }
  for (const n of result.deployed)
    ctx.stderr.write(`update ok on ${n}: ${(work.services.get(n) ?? []).join(', ')}\n`);
  if (result.notStarted.length > 0)
    ctx.stderr.write(`not started (the update stopped first): ${result.notStarted.join(', ')}\n`);
  return result.ok && work.errors.length === 0 ? 0 : 1;
}

export default command;
