// `homelab updates [--node N]... [--json]`: per node and service, whether its tag points to a newer
// image in the registry than the one running (the node asks the registry with its own docker
// login; nothing is pulled), with the running image's age. Exit 0 when every image is current,
// 1 when some are out of date or a node could not be asked.
//
// `homelab updates --apply --node N [--service S]... [--yes]`: shows what changes (service, image,
// running digest -> the registry's), asks, then deploy --update (pull, recreate what moved) and
// verify; verify records the new digests, and a rollback returns to the ones recorded before.
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../command.js';
import { parseCommandArgs, REPO_OPTION } from '../args.js';
import { openCommandControl } from '../open-control.js';
import { confirm } from '../../shell/confirm.js';
import { readFleetImages, readNodeImages } from '../../shell/images.js';
import {
  renderUpdatesTable,
  shortDigest,
  updatableServices,
  updateRows,
} from '../../core/images/updates.js';
import { describeEvent } from '../../core/protocol/describe.js';
import type { NodeLine } from '../../core/protocol/events.js';
import type { Control } from '../../shell/control/types.js';

/** The flags and --apply's one --node checked; throws UsageError. Runs nothing. */
function parse(args: readonly string[]) {
  const { values } = parseCommandArgs(args, {
    ...REPO_OPTION,
    json: { type: 'boolean' },
    node: { type: 'string', multiple: true },
    service: { type: 'string', multiple: true },
    apply: { type: 'boolean' },
    yes: { type: 'boolean' },
  });
  const only = values.node ?? [];
  if (values.apply && only.length !== 1)
    throw new UsageError('--apply needs exactly one --node (the node to update)');
  if (!values.apply && (values.service?.length ?? 0) > 0)
    throw new UsageError('--service goes with --apply');
  return { values, only };
}

const command: Command = {
  name: 'updates',
  summary: 'show which services’ tags point to newer images in the registry; --apply updates them',
  usage:
    'Usage: homelab updates [--node NAME]... [--json] [--repo DIR]\n' +
    '       homelab updates --apply --node NAME [--service NAME]... [--yes]\n' +
    '  --apply    pull, recreate and verify the out-of-date services of one node (asks first;\n' +
    '             roll back with: homelab run rollback --node NAME)',
  parse,
  async run(args: readonly string[], ctx: CommandContext): Promise<number> {
    const { values, only } = parse(args);
    const control = await openCommandControl(ctx, values.repo);
    if (!control) return 1;
    try {
      const unknown = only.filter((n) => !control.inventory.nodes.some((s) => s.name === n));
      if (unknown.length > 0)
        throw new UsageError(
          `no node ${unknown.map((n) => `"${n}"`).join(', ')} in inventory/topology.yaml`,
        );
      if (values.apply)
        return await apply(control, ctx, only[0] ?? '', values.service ?? [], values.yes ?? false);
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
  node: string,
  wanted: readonly string[],
  yes: boolean,
): Promise<number> {
  const found = await readNodeImages(control, node);
  if (found.error) {
    ctx.stderr.write(`homelab updates: ${node}: ${found.error}\n`);
    return 1;
  }
  const names = new Set(found.images.map((i) => i.service));
  const missing = wanted.filter((s) => !names.has(s));
  if (missing.length > 0)
    throw new UsageError(`${node} runs no service ${missing.map((s) => `"${s}"`).join(', ')}`);
  const services = updatableServices(found.images).filter(
    (s) => wanted.length === 0 || wanted.includes(s),
  );
  if (services.length === 0) {
    ctx.stdout.write(`Nothing to update on ${node}: every image is what its tag points to.\n`);
    return 0;
  }
  const changes = found.images
    .filter((i) => i.status === 'updatable' && services.includes(i.service))
    .map(
      (i) =>
        `  ${i.service}${i.containerService !== i.service ? `/${i.containerService}` : ''}  ${i.ref}  ${shortDigest(i.digest)} -> ${shortDigest(i.remoteDigest)}`,
    );
  const text = `update on ${node}: pull, recreate what moved, verify\n${changes.join('\n')}\nthe digests running now stay recorded (to return to them: homelab run rollback --node ${node})`;
  if (!yes) {
    if (!ctx.stdin.isTTY) {
      ctx.stderr.write(
        `homelab updates: --apply changes ${node}; not on a terminal, so nothing can be confirmed: pass --yes\n`,
      );
      return 2;
    }
    if (!(await confirm(`${text}\nProceed?`, ctx.stdin, ctx.stdout))) {
      ctx.stdout.write('Nothing was run.\n');
      return 1;
    }
  } else {
    ctx.stderr.write(`${text}\n`);
  }
  const print = (line: NodeLine): void => {
    if (line.kind === 'log') {
      if (!line.text.startsWith('@homelab/')) ctx.stdout.write(`${line.text}\n`);
      return;
    }
    const t = describeEvent(line.event);
    if (t && line.event.type !== 'run') ctx.stderr.write(`${t}\n`);
  };
  for (const stage of ['deploy', 'verify'] as const) {
    const outcome = await control.runStage({
      node,
      stage,
      onLine: print,
      ...(stage === 'deploy' ? { updateImages: services } : {}),
    });
    if (outcome.result !== 'ok') {
      ctx.stderr.write(
        `update ${outcome.result} on ${node} (${stage}): ${outcome.message}\n` +
          `roll back to the digests recorded before: homelab run rollback --node ${node}\n`,
      );
      return 1;
    }
  }
  ctx.stderr.write(`update ok on ${node}: ${services.join(', ')}\n`);
  return 0;
}

export default command;
