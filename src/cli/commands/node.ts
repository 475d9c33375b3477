// `homelab node add|bootstrap`: onboarding a new node (design document, "Onboarding New Nodes").
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../command.js';
import { parseCommandArgs, REPO_OPTION } from '../args.js';
import { newNodeNameFlaw, nodeNames, STARTER_PORT } from '../../core/inventory/add-node.js';
import { TOPOLOGY_FILE } from '../../core/inventory/parse.js';
import { formatProblem } from '../../core/problem.js';
import { confirm } from '../../shell/confirm.js';
import { dirtyPaths } from '../../shell/git.js';
import { loadInventory } from '../../shell/inventory/load.js';
import { planAddNode, writePlan } from '../../shell/onboarding/add-node.js';
import type { BootstrapOutcome, BootstrapStep } from '../../shell/onboarding/bootstrap.js';
import { bootstrapNode } from '../../shell/onboarding/bootstrap.js';
import type { FieldValues } from '../../shell/onboarding/fields.js';
import {
  addressFlaw,
  describeRequest,
  labelsFlaw,
  NODE_FIELDS,
  portFlaw,
  requestFromValues,
  splitList,
  transportFlaw,
  waveFlaw,
} from '../../shell/onboarding/fields.js';
import { nextStepsAfterAdd, nextStepsAfterBootstrap } from '../../shell/onboarding/next-steps.js';
import { unpushedWarning } from '../../shell/onboarding/pushed.js';
import { findRepoRoot } from '../../shell/repo-root.js';

const USAGE = `Usage: homelab node add <name> --address ADDR --role ROLE [--tags a,b] [--wave N]
                        [--transport tailscale-ssh|ssh|local] [--service NAME]... [--port N] [--repo DIR]
       homelab node bootstrap <name> [--yes] [--verbose] [--repo DIR]

add        defines a node on SATURN: adds it to ${TOPOLOGY_FILE} (comments, order and formatting
           of the file kept), writes hosts/<name>/<service>/docker-compose.yml (a starter) for each
           new service and hosts/<name>/node.manifest, after checking the result with the inventory
           rules (nothing is written when it would be invalid). On a terminal it asks for what the
           flags leave out; otherwise --address and --role are required.
bootstrap  runs scripts/bootstrap/bootstrap-node.sh on the node over its transport: checks Docker
           with Compose v2, Git and Tailscale (installs missing packages after asking), creates
           <root>/{repo,state/deploy,logs/deploy,config}, clones the repo from git.remote and
           creates <root>/config/<service>/ with a note of its secrets. Safe to run again.

  --address ADDR     Tailscale MagicDNS name or IP address the transport connects to
  --role ROLE        the node's role (a DNS label, for example gpu, edge, storage)
  --tags a,b         tags, comma-separated
  --wave N           deploy order across nodes (lower first; default 0)
  --transport T      how SATURN reaches it (default: the topology's defaults)
  --service NAME     a service on the node (repeat, or comma-separate)
  --port N           port of the first starter service on 127.0.0.1 (default ${STARTER_PORT}; the next get N+1...)
  --yes              bootstrap: install missing packages without asking
  --verbose          bootstrap: also print the script's log lines
  --repo DIR         the homelab repo (default: $HOMELAB_REPO, else the folder above holding inventory/)`;

interface Flags {
  readonly sub: string | undefined;
  readonly name: string | undefined;
  readonly address?: string;
  readonly role?: string;
  readonly tags?: string;
  readonly wave?: string;
  readonly transport?: string;
  readonly services: readonly string[];
  readonly port?: string;
  readonly repo?: string;
  readonly yes: boolean;
  readonly verbose: boolean;
}

const OPTIONS = {
  ...REPO_OPTION,
  address: { type: 'string' },
  role: { type: 'string' },
  tags: { type: 'string' },
  wave: { type: 'string' },
  transport: { type: 'string' },
  service: { type: 'string', multiple: true },
  port: { type: 'string' },
  yes: { type: 'boolean' },
  verbose: { type: 'boolean' },
} as const;

function parse(args: readonly string[]): Flags {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, true);
  if (positionals.length > 2) throw new UsageError(`unexpected argument "${positionals[2] ?? ''}"`);
  const opt = <K extends string>(k: K, v: string | undefined): Partial<Record<K, string>> =>
    v === undefined ? {} : ({ [k]: v } as Record<K, string>);
  return {
    sub: positionals[0],
    name: positionals[1],
    ...opt('address', values.address),
    ...opt('role', values.role),
    ...opt('tags', values.tags),
    ...opt('wave', values.wave),
    ...opt('transport', values.transport),
    ...opt('port', values.port),
    ...opt('repo', values.repo),
    services: (values.service ?? []).flatMap(splitList),
    yes: values.yes === true,
    verbose: values.verbose === true,
  };
}

// --- prompts ----------------------------------------------------------------------------------

interface Prompter {
  /** The answer (trimmed), the default for an empty answer, or undefined when input ended. */
  ask(question: string, def?: string): Promise<string | undefined>;
  close(): void;
}

function prompter(ctx: CommandContext): Prompter {
  const rl = createInterface({ input: ctx.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  return {
    async ask(question, def) {
      ctx.stdout.write(`${question}${def !== undefined && def !== '' ? ` [${def}]` : ''}: `);
      const next = await lines.next();
      if (next.done) {
        ctx.stdout.write('\n');
        return undefined;
      }
      const answer = String(next.value).trim();
      return answer === '' ? (def ?? '') : answer;
    },
    close: () => rl.close(),
  };
}

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

/** A yes/no question on the running prompter whose default (an empty answer) is yes. */
async function confirmDefaultYes(p: Prompter, question: string): Promise<boolean> {
  const a = await p.ask(`${question} [Y/n]`);
  if (a === undefined) return false;
  return a === '' || /^y(es)?$/i.test(a);
}

function isInteractive(ctx: CommandContext): boolean {
  return ctx.stdin.isTTY === true && ctx.stdout.isTTY === true;
}

// --- add --------------------------------------------------------------------------------------

function checkFlags(f: Flags, existing: readonly string[]): string[] {
  const flaws = [
    f.name !== undefined ? newNodeNameFlaw(f.name, existing) : undefined,
    f.address !== undefined ? addressFlaw(f.address) : undefined,
    f.role !== undefined ? labelsFlaw('role', [f.role]) : undefined,
    f.tags !== undefined ? labelsFlaw('tag', splitList(f.tags)) : undefined,
    f.wave !== undefined ? waveFlaw(f.wave) : undefined,
    f.transport !== undefined ? transportFlaw(f.transport) : undefined,
    labelsFlaw('service', f.services),
    f.port !== undefined ? portFlaw(f.port) : undefined,
  ];
  return flaws.filter((x): x is string => x !== undefined);
}

/** The answers the flags already give. */
function givenValues(f: Flags): FieldValues {
  return {
    ...(f.name !== undefined ? { name: f.name } : {}),
    ...(f.address !== undefined ? { address: f.address } : {}),
    ...(f.role !== undefined ? { role: f.role } : {}),
    ...(f.tags !== undefined ? { tags: f.tags } : {}),
    ...(f.wave !== undefined ? { wave: f.wave } : {}),
    ...(f.transport !== undefined ? { transport: f.transport } : {}),
    ...(f.services.length > 0 ? { services: f.services.join(',') } : {}),
  };
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
  const topology = await readFile(join(repo, TOPOLOGY_FILE), 'utf8');
  const existing = nodeNames(topology);
  const flaws = checkFlags(f, existing);
  if (flaws.length > 0) {
    ctx.stderr.write(flaws.map((x) => `homelab node add: refused: ${x}\n`).join(''));
    return 1;
  }
  const port = f.port !== undefined ? Number(f.port) : undefined;
  let values = givenValues(f);
  let p: Prompter | undefined;
  try {
    if (isInteractive(ctx)) {
      p = prompter(ctx);
      ctx.stdout.write('Add a node to the homelab (Enter keeps the value in brackets).\n');
      values = await askFields(p, ctx, existing, values, false);
    } else {
      const missing = [
        f.name === undefined ? '<name>' : '',
        f.address === undefined ? '--address' : '',
        f.role === undefined ? '--role' : '',
      ].filter(Boolean);
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
        if (!p || !(await confirmDefaultYes(p, 'Change the answers?'))) return 1;
        values = await askFields(p, ctx, existing, values, true);
        continue;
      }
      if (p) {
        ctx.stdout.write(
          `\n${describeRequest(request)}\nFiles: ${plan.files.map((x) => x.path).join(', ')}\n`,
        );
        if (!(await confirmDefaultYes(p, 'Write these files?'))) {
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
  if (outcome.result !== 'ok') {
    const failed = outcome.steps.find((s) => s.status === 'fail');
    ctx.stderr.write(
      `homelab node bootstrap: ${f.name}: ${outcome.result}${failed ? ` at ${failed.step}: ${failed.detail}` : ` (exit ${outcome.exitCode ?? 'none'})`}\n`,
    );
    return 1;
  }
  const { inventory } = await loadInventory(repo);
  const node = inventory?.nodes.find((n) => n.name === f.name);
  if (node) ctx.stdout.write(`\n${nextStepsAfterBootstrap(node, outcome).join('\n')}\n`);
  return 0;
}

async function run(args: readonly string[], ctx: CommandContext): Promise<number> {
  const f = parse(args);
  if (f.sub !== 'add' && f.sub !== 'bootstrap')
    throw new UsageError(
      f.sub === undefined
        ? 'missing subcommand: add or bootstrap'
        : `unknown subcommand "${f.sub}"`,
    );
  let repo: string;
  try {
    repo = findRepoRoot(ctx.cwd, ctx.env, f.repo);
  } catch (err) {
    ctx.stderr.write(`homelab node: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  return f.sub === 'add' ? runAdd(f, ctx, repo) : runBootstrap(f, ctx, repo);
}

const command: Command = {
  name: 'node',
  summary:
    'onboard a node: `node add` defines it on SATURN, `node bootstrap` prepares it over its transport',
  usage: USAGE,
  run,
};

export default command;
