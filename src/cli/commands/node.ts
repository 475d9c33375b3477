// `homelab node add|bootstrap`: onboarding a new node (design document, "Onboarding New Nodes").
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../command.js';
import { parseCommandArgs, REPO_OPTION } from '../args.js';
import { TOPOLOGY_FILE } from '../../core/inventory/parse.js';
import { formatProblem } from '../../core/problem.js';
import { confirm } from '../../shell/confirm.js';
import { dirtyPaths } from '../../shell/git.js';
import { loadInventory } from '../../shell/inventory/load.js';
import { planAddNode, topologyNodeNames, writePlan } from '../../shell/onboarding/add-node.js';
import { linePrompter, type Prompter } from '../../shell/prompt.js';
import { applyRemoval, planRemoveNode, planRemoveService } from '../../shell/onboarding/remove.js';
import type { BootstrapOutcome, BootstrapStep } from '../../shell/onboarding/bootstrap.js';
import { bootstrapNode } from '../../shell/onboarding/bootstrap.js';
import type { FieldValues } from '../../core/onboarding/fields.js';
import {
  describeRequest,
  NODE_FIELDS,
  portFlaw,
  requestFromValues,
} from '../../core/onboarding/fields.js';
import {
  fieldFlaws,
  fieldValuesFromFlags,
  NODE_FLAG_OPTIONS,
  NODE_FLAGS_HELP,
} from '../node-flags.js';
import { nextStepsAfterAdd, nextStepsAfterBootstrap } from '../../shell/onboarding/next-steps.js';
import { unpushedWarning } from '../../shell/onboarding/pushed.js';
import {
  addHostKeys,
  hostKeyKnown,
  hostPattern,
  knownHostsFileOf,
  scanHostKeys,
} from '../../shell/onboarding/host-key.js';
import { remoteNeeds } from '../../core/inventory/remote-form.js';
import type { NodeSpec } from '../../core/inventory/model.js';
import { findRepoRoot } from '../../shell/repo-root.js';

const USAGE = `Usage: homelab node add <name> --address ADDR [--role ROLE] [--tags a,b] [--wave N]
                        [--transport tailscale-ssh|ssh|local] [--user NAME] [--ssh-port N]
                        [--identity-file FILE] [--known-hosts FILE] [--root DIR]
                        [--service NAME]... [--port N] [--repo DIR]
       homelab node bootstrap <name> [--yes] [--verbose] [--repo DIR]
       homelab node remove <name> [--yes] [--keep-services] [--repo DIR]
       homelab node remove-service <name> <service> [--repo DIR]

add             defines a node on SATURN: adds it to ${TOPOLOGY_FILE} (comments, order and
                formatting of the file kept), writes hosts/<name>/<service>/docker-compose.yml (a
                starter) for each new service and hosts/<name>/node.manifest, after checking the
                result with the inventory rules (nothing is written when it would be invalid). On a
                terminal it asks for what the flags leave out; otherwise --address is required.
bootstrap       runs scripts/bootstrap/bootstrap-node.sh on the node over its transport: checks
                Docker with Compose v2, Git and Tailscale (installs missing packages after asking),
                creates <root>/{repo,state/deploy,logs/deploy,config}, clones the repo from
                git.remote and creates <root>/config/<service>/ with a note of its secrets. For the
                ssh transport it first shows the node's host key fingerprint and asks before adding
                it to the node's known_hosts file. Safe to run again.
remove          plans, then (confirmed; default no) takes the node's services down with deploy.sh
                down, removes the node from ${TOPOLOGY_FILE} (the rest of the file kept byte for
                byte) and deletes hosts/<name>/. Commit the change afterwards.
remove-service  removes a service from the node in ${TOPOLOGY_FILE} and deletes
                hosts/<name>/<service>/; commit and push, and the node's next deploy takes its
                containers down.

${NODE_FLAGS_HELP}
  --yes                 bootstrap: install missing packages and add the host key without asking;
                        remove: take the services down and remove without asking
  --keep-services       remove: do not contact the node (it is gone); only edit the repo
  --verbose             bootstrap: also print the script's log lines
  --repo DIR            the homelab repo (default: $HOMELAB_REPO, else the folder above holding inventory/)`;

interface Flags {
  readonly sub: string | undefined;
  readonly name: string | undefined;
  readonly extra: string | undefined;
  /** The node's fields the flags give. */
  readonly values: FieldValues;
  readonly port?: string;
  readonly repo?: string;
  readonly yes: boolean;
  readonly verbose: boolean;
  readonly keepServices: boolean;
}

const OPTIONS = {
  ...REPO_OPTION,
  ...NODE_FLAG_OPTIONS,
  yes: { type: 'boolean' },
  verbose: { type: 'boolean' },
  'keep-services': { type: 'boolean' },
} as const;

function parseFlags(args: readonly string[], cwd: string): Flags {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, true);
  if (positionals.length > 3) throw new UsageError(`unexpected argument "${positionals[3] ?? ''}"`);
  const fields = fieldValuesFromFlags(values, cwd);
  return {
    sub: positionals[0],
    name: positionals[1],
    extra: positionals[2],
    values: positionals[1] !== undefined ? { name: positionals[1], ...fields } : fields,
    ...(values.port !== undefined ? { port: values.port } : {}),
    ...(values.repo !== undefined ? { repo: values.repo } : {}),
    yes: values.yes === true,
    verbose: values.verbose === true,
    keepServices: values['keep-services'] === true,
  };
}

// --- prompts ----------------------------------------------------------------------------------

const prompter = (ctx: CommandContext): Prompter => linePrompter(ctx.stdin, ctx.stdout);

class InputEnded extends Error {}

/** Asks until the answer passes `flaw` (which returns the reason it does not). */
async function askValid(
  p: Prompter,
  ctx: CommandContext,
  q: string,
  def: string | undefined,
  flaw: (s: string) => string | undefined,
): Promise<string> {
  for (;;) {
    const a = await p.ask(q, def);
    if (a === undefined) throw new InputEnded();
    const why = flaw(a);
    if (why === undefined) return a;
    ctx.stdout.write(`  ${why}\n`);
  }
}

/**
 * A yes/no question on the running prompter. An empty answer takes the default: yes only for
 * questions that change nothing (going back to the answers); writing files defaults to no.
 */
async function confirmYesNo(p: Prompter, question: string, defaultYes: boolean): Promise<boolean> {
  const a = await p.ask(`${question} ${defaultYes ? '[Y/n]' : '[y/N]'}`);
  if (a === undefined) return false;
  return (a === '' && defaultYes) || /^y(es)?$/i.test(a);
}

function isInteractive(ctx: CommandContext): boolean {
  return ctx.stdin.isTTY === true && ctx.stdout.isTTY === true;
}

// --- add --------------------------------------------------------------------------------------

function checkFlags(f: Flags, existing: readonly string[]): string[] {
  return [
    ...fieldFlaws(f.values, existing),
    ...(f.port !== undefined ? [portFlaw(f.port)] : []),
  ].filter((x): x is string => x !== undefined);
}

/**
 * Asks for the fields without a value (every field when `again`, the earlier answer as default),
 * each until its check passes.
 */
async function askFields(
  p: Prompter,
  ctx: CommandContext,
  existing: readonly string[],
  start: FieldValues,
  again: boolean,
): Promise<FieldValues> {
  const values: FieldValues = { ...start };
  for (const field of NODE_FIELDS) {
    const had = values[field.key];
    if (had !== undefined && !again) continue;
    const def = again && had !== undefined ? had : field.defaultFor(values);
    values[field.key] = await askValid(p, ctx, field.question, def, (s) => field.flaw(s, existing));
  }
  return values;
}

async function runAdd(f: Flags, ctx: CommandContext, repo: string): Promise<number> {
  const existing = await topologyNodeNames(repo);
  const flaws = checkFlags(f, existing);
  if (flaws.length > 0) {
    ctx.stderr.write(flaws.map((x) => `homelab node add: refused: ${x}\n`).join(''));
    return 1;
  }
  const port = f.port !== undefined ? Number(f.port) : undefined;
  let values: FieldValues = { ...f.values };
  let p: Prompter | undefined;
  try {
    if (isInteractive(ctx)) {
      p = prompter(ctx);
      ctx.stdout.write('Add a node to the homelab (Enter keeps the value in brackets).\n');
      values = await askFields(p, ctx, existing, values, false);
    } else {
      const missing = [
        f.name === undefined ? '<name>' : '',
        values.address === undefined ? '--address' : '',
      ].filter(Boolean);
      // Without a terminal the defaults stand in for what is not given.
      values = { role: 'worker', ...values };
      if (missing.length > 0)
        throw new UsageError(
          `missing ${missing.join(', ')} (stdin is not a terminal, so nothing can be asked)`,
        );
    }
    for (;;) {
      const request = requestFromValues(values, port);
      const plan = await planAddNode(repo, request);
      if (!plan.ok) {
        ctx.stderr.write(`homelab node add: refused: ${plan.reason}\n`);
        ctx.stderr.write(plan.problems.map((pr) => `  ${formatProblem(pr)}\n`).join(''));
        ctx.stderr.write('Nothing was written.\n');
        if (!p || !(await confirmYesNo(p, 'Change the answers?', true))) return 1;
        values = await askFields(p, ctx, existing, values, true);
        continue;
      }
      if (p) {
        ctx.stdout.write(
          `\n${describeRequest(request)}\nFiles: ${plan.files.map((x) => x.path).join(', ')}\n`,
        );
        if (!(await confirmYesNo(p, 'Write these files?', false))) {
          ctx.stdout.write('Nothing was written.\n');
          return 1;
        }
      }
      await writePlan(repo, plan.files);
      ctx.stdout.write(
        `${nextStepsAfterAdd(plan.inventory, plan.node, plan.files, plan.keptServices).join('\n')}\n`,
      );
      return 0;
    }
  } catch (err) {
    if (err instanceof InputEnded) {
      ctx.stderr.write(
        'homelab node add: input ended before every value was given; nothing was written.\n',
      );
      return 1;
    }
    throw err;
  } finally {
    p?.close();
  }
}

// --- bootstrap --------------------------------------------------------------------------------

/**
 * ssh transport: a node whose host key SATURN does not know yet gets its key shown (fingerprints
 * from ssh-keyscan) and added only once the user agrees (or gave --yes). False: stop here.
 */
async function onboardHostKey(node: NodeSpec, f: Flags, ctx: CommandContext): Promise<boolean> {
  if (await hostKeyKnown(node, ctx.env)) return true;
  const file = knownHostsFileOf(node, ctx.env);
  const scanned = await scanHostKeys(node);
  if ('error' in scanned) {
    ctx.stderr.write(`homelab node bootstrap: ${node.name}: ${scanned.error}\n`);
    return false;
  }
  ctx.stdout.write(
    [
      `${hostPattern(node)} is not in ${file} yet. The host keys it offers now:`,
      ...scanned.fingerprints.map((x) => `  ${x}`),
      `Compare them with the node's own (on ${node.name}: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub).`,
      '',
    ].join('\n'),
  );
  const yes =
    f.yes || (isInteractive(ctx) && (await confirm(`Add them to ${file}?`, ctx.stdin, ctx.stdout)));
  if (!yes) {
    ctx.stderr.write(
      `homelab node bootstrap: the host key of ${node.name} was not added${isInteractive(ctx) ? '' : ' (stdin is not a terminal: rerun with --yes once the fingerprint is checked)'}; nothing ran on the node.\n`,
    );
    return false;
  }
  await addHostKeys(node, ctx.env, scanned.lines);
  ctx.stdout.write(
    `Added ${scanned.lines.length} host key(s) of ${hostPattern(node)} to ${file}.\n`,
  );
  return true;
}

const MARK: Record<BootstrapStep['status'], string> = { ok: '✓', skip: '!', fail: '✗', start: '…' };

function stepLine(s: BootstrapStep): string {
  const name = s.service ? `${s.step} ${s.service}` : s.step;
  return `  ${MARK[s.status]} ${name.padEnd(18)} ${s.detail}${s.changed ? '  (changed)' : ''}\n`;
}

async function bootstrapOnce(
  repo: string,
  f: Flags,
  ctx: CommandContext,
  yes: boolean,
  first: boolean,
): Promise<{ outcome: BootstrapOutcome } | { code: number }> {
  const { inventory, problems } = await loadInventory(repo);
  if (!inventory) {
    ctx.stderr.write(problems.map((pr) => `${formatProblem(pr)}\n`).join(''));
    ctx.stderr.write(
      'homelab node bootstrap: the inventory is invalid: fix it first (`homelab validate`).\n',
    );
    return { code: 1 };
  }
  const node = inventory.nodes.find((n) => n.name === f.name);
  if (!node) {
    ctx.stderr.write(
      `homelab node bootstrap: no node "${f.name ?? ''}" in ${TOPOLOGY_FILE} (nodes: ${inventory.nodes.map((n) => n.name).join(', ')}); ` +
        `add it first with \`homelab node add ${f.name ?? '<name>'}\`\n`,
    );
    return { code: 1 };
  }
  if (first) {
    const unpushed = await unpushedWarning(repo, inventory.git.remote, inventory.git.branch);
    if (unpushed) ctx.stderr.write(`homelab node bootstrap: warning: ${unpushed}\n`);
    if (node.transport === 'ssh' && !(await onboardHostKey(node, f, ctx))) return { code: 1 };
    ctx.stdout.write(`git.remote: ${remoteNeeds(inventory.git.remote)}\n`);
  }
  ctx.stdout.write(
    `Bootstrapping ${node.name} (${node.transport} ${node.user}@${node.address}, root ${node.root}) from ${inventory.git.remote}\n`,
  );
  const outcome = await bootstrapNode(repo, inventory, node, {
    yes,
    env: ctx.env,
    onStep: (s) => ctx.stdout.write(stepLine(s)),
    onLog: (line) => {
      if (f.verbose) ctx.stdout.write(`    ${line}\n`);
    },
    onStderr: (line) => {
      if (f.verbose || !/^\S+ bootstrap: warning: /.test(line))
        ctx.stderr.write(`  ${node.name}: ${line}\n`);
    },
  });
  return { outcome };
}

async function runBootstrap(f: Flags, ctx: CommandContext, repo: string): Promise<number> {
  if (f.name === undefined) throw new UsageError('missing <name>: the node to bootstrap');
  const dirty = await dirtyPaths(repo, ['inventory', `hosts/${f.name}`]);
  if (dirty.length > 0) {
    ctx.stderr.write(
      `homelab node bootstrap: warning: uncommitted changes (${dirty.join(', ')}): the node clones from the remote, so commit and push them first.\n`,
    );
  }
  let attempt = await bootstrapOnce(repo, f, ctx, f.yes, true);
  if ('code' in attempt) return attempt.code;
  let outcome = attempt.outcome;
  if (outcome.result === 'needs-install') {
    const what = outcome.missing || 'the missing packages';
    if (!isInteractive(ctx)) {
      ctx.stderr.write(
        `homelab node bootstrap: ${f.name} lacks ${what}: rerun with --yes to install them (apt-get, as root or with sudo).\n`,
      );
      return 1;
    }
    if (
      !(await confirm(
        `Install ${what} on ${f.name} (apt-get, as root or with sudo)?`,
        ctx.stdin,
        ctx.stdout,
      ))
    ) {
      ctx.stderr.write('Nothing was installed; the node is not bootstrapped.\n');
      return 1;
    }
    attempt = await bootstrapOnce(repo, f, ctx, true, false);
    if ('code' in attempt) return attempt.code;
    outcome = attempt.outcome;
  }
  if (outcome.result === 'unreachable') {
    ctx.stderr.write(
      `homelab node bootstrap: ${f.name} is unreachable (${outcome.unreachable?.reason ?? 'unknown'}): ${outcome.unreachable?.message ?? ''}\n`,
    );
    return 1;
  }
  const { inventory } = await loadInventory(repo);
  const node = inventory?.nodes.find((n) => n.name === f.name);
  if (outcome.result !== 'ok') {
    const failed = outcome.steps.find((s) => s.status === 'fail');
    ctx.stderr.write(
      `homelab node bootstrap: ${f.name}: ${outcome.result}${failed ? ` at ${failed.step}: ${failed.detail}` : ` (exit ${outcome.exitCode ?? 'none'})`}\n`,
    );
    if (failed && /dubious ownership/.test(failed.detail) && inventory)
      ctx.stderr.write(
        `  Git on ${f.name} refuses to read ${inventory.git.remote}: another user owns it ("dubious ownership"). ` +
          `Either serve the repo over ssh:// or git:// instead, or on the node, as ${node?.user ?? 'its user'}, run:\n` +
          `    git config --global --add safe.directory ${inventory.git.remote.replace(/^file:\/\//, '')}\n` +
          '  then bootstrap again.\n',
      );
    return 1;
  }
  const rootStep = outcome.steps.find((s) => s.step === 'root');
  const nodeRoot = rootStep?.detail.split(' (from ')[0];
  if (node && nodeRoot !== undefined && nodeRoot !== node.root)
    ctx.stderr.write(
      `homelab node bootstrap: warning: ${f.name} was bootstrapped in ${nodeRoot} (${rootStep?.detail.split(' (from ')[1]?.replace(/\)$/, '') ?? ''}), ` +
        `but the inventory resolves its root to ${node.root}, where the stages look: set \`root: ${nodeRoot}\` under nodes.${f.name} in ${TOPOLOGY_FILE}, ` +
        'then `homelab manifest`, commit and push\n',
    );
  if (node) ctx.stdout.write(`\n${nextStepsAfterBootstrap(node, outcome).join('\n')}\n`);
  return 0;
}

// --- remove ---------------------------------------------------------------------------------

async function runRemoveService(f: Flags, ctx: CommandContext, repo: string): Promise<number> {
  if (f.name === undefined || f.extra === undefined)
    throw new UsageError(
      'give the node and the service: homelab node remove-service <name> <service>',
    );
  const plan = await planRemoveService(repo, f.name, f.extra);
  if (!plan.ok) {
    ctx.stderr.write(`homelab node remove-service: refused: ${plan.reason}\n`);
    ctx.stderr.write(plan.problems.map((pr) => `  ${formatProblem(pr)}\n`).join(''));
    return 1;
  }
  await applyRemoval(repo, plan);
  ctx.stdout.write(
    [
      `Removed service ${f.extra} from node ${f.name}:`,
      ...plan.files.map((x) => `  wrote   ${x.path}`),
      ...plan.removed.map((x) => `  removed ${x}/`),
      '',
      'Next steps: commit and push, then deploy the node; its deploy takes the containers down:',
      `  git add -A ${TOPOLOGY_FILE} hosts/${f.name} && git commit -m "Remove ${f.extra} from ${f.name}" && git push`,
      `  homelab run prepare --node ${f.name} && homelab run deploy --node ${f.name}`,
      '',
    ].join('\n'),
  );
  return 0;
}

async function runRemove(f: Flags, ctx: CommandContext, repo: string): Promise<number> {
  if (f.name === undefined) throw new UsageError('missing <name>: the node to remove');
  if (f.extra !== undefined) throw new UsageError(`unexpected argument "${f.extra}"`);
  const { inventory, problems } = await loadInventory(repo);
  const node = inventory?.nodes.find((n) => n.name === f.name);
  if (!inventory) {
    ctx.stderr.write(problems.map((pr) => `${formatProblem(pr)}\n`).join(''));
    ctx.stderr.write(
      'homelab node remove: the inventory is invalid: fix it first (`homelab validate`).\n',
    );
    return 1;
  }
  if (!node) {
    ctx.stderr.write(`homelab node remove: no node "${f.name}" in ${TOPOLOGY_FILE}\n`);
    return 1;
  }
  const ask = async (q: string): Promise<boolean> => {
    if (f.yes) return true;
    if (!isInteractive(ctx)) {
      ctx.stderr.write(
        'homelab node remove: stdin is not a terminal: rerun with --yes to confirm.\n',
      );
      return false;
    }
    return confirm(q, ctx.stdin, ctx.stdout);
  };
  const services = node.services.map((s) => s.name);
  if (services.length > 0 && !f.keepServices) {
    // Step 1 of the plan: the services come out of the topology first, so the node's next deploy
    // takes their containers down (deploy.sh does that for every service no longer assigned).
    ctx.stdout.write(
      [
        `Plan to remove node ${node.name}:`,
        `  1. now: take its services out of ${TOPOLOGY_FILE} and hosts/${node.name}/: ${services.join(', ')}`,
        `  2. you: commit, push, then \`homelab run prepare --node ${node.name}\` and \`homelab run deploy --node ${node.name}\`:`,
        '     the deploy takes their containers down on the node',
        `  3. then \`homelab node remove ${node.name}\` again removes the node itself`,
        `  (a node that is gone for good: \`homelab node remove ${node.name} --keep-services\` skips 1-2)`,
        '',
      ].join('\n'),
    );
    if (!(await ask(`Take ${services.join(', ')} out of ${node.name} now?`))) {
      ctx.stdout.write('Nothing was changed.\n');
      return 1;
    }
    let plan = await planRemoveService(repo, node.name, services[0] ?? '');
    for (const svc of services.slice(1)) {
      if (!plan.ok) break;
      await applyRemoval(repo, plan);
      plan = await planRemoveService(repo, node.name, svc);
    }
    if (!plan.ok) {
      ctx.stderr.write(`homelab node remove: refused: ${plan.reason}\n`);
      ctx.stderr.write(plan.problems.map((pr) => `  ${formatProblem(pr)}\n`).join(''));
      return 1;
    }
    await applyRemoval(repo, plan);
    ctx.stdout.write(
      [
        `Took ${services.join(', ')} out of ${node.name}. Next:`,
        `  git add -A ${TOPOLOGY_FILE} hosts/${node.name} && git commit -m "Take down ${node.name}'s services" && git push`,
        `  homelab run prepare --node ${node.name} && homelab run deploy --node ${node.name}`,
        `  homelab node remove ${node.name}`,
        '',
      ].join('\n'),
    );
    return 0;
  }
  ctx.stdout.write(
    `Plan: remove node ${node.name} from ${TOPOLOGY_FILE} (the rest of the file kept byte for byte) and delete hosts/${node.name}/.\n` +
      `  Its root ${node.root} on ${node.address} is left as it is (remove it there by hand when you want).\n`,
  );
  if (!(await ask(`Remove node ${node.name}?`))) {
    ctx.stdout.write('Nothing was changed.\n');
    return 1;
  }
  const plan = await planRemoveNode(repo, node.name);
  if (!plan.ok) {
    ctx.stderr.write(`homelab node remove: refused: ${plan.reason}\n`);
    ctx.stderr.write(plan.problems.map((pr) => `  ${formatProblem(pr)}\n`).join(''));
    return 1;
  }
  await applyRemoval(repo, plan);
  ctx.stdout.write(
    [
      `Removed node ${node.name}: wrote ${TOPOLOGY_FILE}, removed hosts/${node.name}/.`,
      'Next: commit and push',
      `  git add -A ${TOPOLOGY_FILE} hosts/${node.name} && git commit -m "Remove node ${node.name}" && git push`,
      '',
    ].join('\n'),
  );
  return 0;
}

const SUBCOMMANDS = ['add', 'bootstrap', 'remove', 'remove-service'] as const;

/** The subcommand and its flags; throws UsageError for what run() refuses as usage. Runs nothing. */
function parse(
  args: readonly string[],
  cwd = '/',
): Flags & { readonly sub: (typeof SUBCOMMANDS)[number] } {
  const f = parseFlags(args, cwd);
  const sub = SUBCOMMANDS.find((x) => x === f.sub);
  if (sub === undefined)
    throw new UsageError(
      f.sub === undefined
        ? `missing subcommand: ${SUBCOMMANDS.join(', ')}`
        : `unknown subcommand "${f.sub}"`,
    );
  if (sub !== 'remove-service' && f.extra !== undefined)
    throw new UsageError(`unexpected argument "${f.extra}"`);
  if (sub === 'remove-service' && (f.name === undefined || f.extra === undefined))
    throw new UsageError(
      'give the node and the service: homelab node remove-service <name> <service>',
    );
  if ((sub === 'bootstrap' || sub === 'remove') && f.name === undefined)
    throw new UsageError(`missing <name>: the node to ${sub}`);
  return { ...f, sub };
}

async function run(args: readonly string[], ctx: CommandContext): Promise<number> {
  const f = parse(args, ctx.cwd);
  const { sub } = f;
  let repo: string;
  try {
    repo = findRepoRoot(ctx.cwd, ctx.env, f.repo);
  } catch (err) {
    ctx.stderr.write(`homelab node: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  switch (sub) {
    case 'add':
      return runAdd(f, ctx, repo);
    case 'bootstrap':
      return runBootstrap(f, ctx, repo);
    case 'remove':
      return runRemove(f, ctx, repo);
    case 'remove-service':
      return runRemoveService(f, ctx, repo);
  }
}

const command: Command = {
  name: 'node',
  summary:
    'nodes: `node add` defines one, `node bootstrap` prepares it, `node remove`/`remove-service` take things down',
  usage: USAGE,
  run,
  parse,
};

export default command;
