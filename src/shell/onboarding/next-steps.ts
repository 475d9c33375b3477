// What the operator does after `homelab node add` and `homelab node bootstrap`: the printed guide.
// Pure text from the inventory and the outcome; shared by the CLI and the TUI form.
import type { Inventory, NodeSpec } from '../../core/inventory/model.js';
import { TOPOLOGY_FILE } from '../../core/inventory/parse.js';
import type { BootstrapOutcome } from './bootstrap.js';
import type { PlannedFile } from './add-node.js';

function secretLines(node: NodeSpec): string[] {
  return node.services
    .filter((s) => s.secrets.length > 0)
    .map((s) => `${node.root}/config/${s.name}/.env on ${node.name}: ${s.secrets.join(', ')}`);
}

function stageLines(node: NodeSpec): string[] {
  return [
    `homelab run prepare --node ${node.name}   (fetches the repo, checks the manifest, secrets and overrides)`,
    `homelab run deploy --node ${node.name}`,
    `homelab run verify --node ${node.name}`,
    '(or open `homelab` and press Enter on the node to take it through the stages)',
  ];
}

function reachLine(inventory: Inventory, node: NodeSpec): string {
  if (node.transport === 'tailscale-ssh')
    return `Join ${node.name} to the tailnet (\`tailscale up --ssh\` on the node) so \`tailscale ssh ${node.user}@${node.address}\` works from here.`;
  if (node.transport === 'ssh')
    return `Make sure \`ssh ${node.user}@${node.address}\` works from here without a password prompt (key in authorized_keys, host key in known_hosts).`;
  return `${node.name} uses the local transport: it is this machine (homelab ${inventory.homelab}).`;
}

/** The lines printed after a successful `homelab node add`. */
export function nextStepsAfterAdd(
  inventory: Inventory,
  node: NodeSpec,
  files: readonly PlannedFile[],
  kept: readonly string[],
): string[] {
  const starters = files.filter((f) => f.kind === 'starter');
  const paths = [TOPOLOGY_FILE, `hosts/${node.name}`].join(' ');
  const secrets = secretLines(node);
  const lines = [
    `Added node ${node.name} (${node.role}, wave ${node.wave}, ${node.transport} to ${node.user}@${node.address}).`,
    ...files.map(
      (f) =>
        `  wrote ${f.path}${f.kind === 'starter' ? `  (starter: a busybox page on 127.0.0.1:${f.port ?? ''}; replace it with the real service)` : ''}`,
    ),
    ...kept.map((s) => `  kept  hosts/${node.name}/${s}/docker-compose.yml (it already existed)`),
    '',
    'Next steps:',
    `  1. Review and commit, then push to the remote the node clones from (${inventory.git.remote}):`,
    `       git add ${paths} && git commit -m "Add node ${node.name}" && git push`,
    `  2. ${reachLine(inventory, node)}`,
    `  3. Bootstrap it (checks Docker + Compose v2, Git and Tailscale, installs what is missing after asking,`,
    `     clones the repo into ${node.repo} and creates ${node.root}/config/<service>/):`,
    `       homelab node bootstrap ${node.name}`,
    secrets.length > 0
      ? '  4. Place the secrets on the node (names only here; values never go in the repo):'
      : '  4. Secrets: none declared. When a service needs some, list their names under its `secrets:` in',
    ...(secrets.length > 0
      ? secrets.map((s) => `       ${s}`)
      : [
          `     ${TOPOLOGY_FILE} and put the values in ${node.root}/config/<service>/.env on the node.`,
        ]),
    '  5. Run the stages, starting with prepare:',
    ...stageLines(node).map((l) => `       ${l}`),
  ];
  if (starters.length === 0 && node.services.length === 0) {
    lines.splice(
      lines.indexOf('Next steps:'),
      0,
      `  No services yet: add them under nodes.${node.name}.services with hosts/${node.name}/<service>/docker-compose.yml.`,
      '',
    );
  }
  return lines;
}

/** Details of the config steps that name secrets still missing on the node. */
function missingSecrets(outcome: BootstrapOutcome): string[] {
  return outcome.steps
    .filter((s) => s.step === 'config' && s.detail.includes('secrets to place'))
    .map((s) => s.detail.slice(s.detail.indexOf('secrets to place')));
}

/** The lines printed after a successful bootstrap. */
export function nextStepsAfterBootstrap(node: NodeSpec, outcome: BootstrapOutcome): string[] {
  const missing = missingSecrets(outcome);
  const head = outcome.unchanged
    ? `Nothing changed: ${node.name} was already bootstrapped.`
    : `${node.name} is bootstrapped (${outcome.steps.filter((s) => s.changed && s.step !== 'summary').length} change(s)).`;
  return [
    head,
    '',
    'Next steps:',
    ...(missing.length > 0
      ? [
          '  1. Place the secrets on the node (KEY=value lines, mode 0600; never in the repo):',
          ...missing.map((m) => `       ${m}`),
        ]
      : ['  1. Secrets: nothing missing on the node.']),
    '  2. Run the stages, starting with prepare:',
    ...stageLines(node).map((l) => `       ${l}`),
  ];
}
