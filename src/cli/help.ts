// What `homelab <command> --help` adds below each command's own usage text: the flags a short usage
// line leaves undescribed, the exit codes and an example. One table, so every command's help has the
// same parts (test/unit/onboarding/help.test.ts checks each command has them).

export interface HelpExtra {
  /** Flag descriptions for commands whose usage is a single line. */
  readonly flags?: string;
  readonly exitCodes: string;
  readonly examples: readonly string[];
}

const REPO_FLAG =
  '  --repo DIR   the homelab repo (default: $HOMELAB_REPO, else the folder above holding inventory/)';

export const HELP_EXTRA: Readonly<Record<string, HelpExtra>> = {
  tui: {
    exitCodes:
      '0 quit normally (or status table: every node reachable and healthy), 1 otherwise, 2 usage',
    examples: ['homelab', 'homelab --no-tui --repo ~/my-homelab'],
  },
  init: {
    exitCodes: '0 created, 1 refused (folder not empty, git failed, invalid first node), 2 usage',
    examples: [
      'homelab init my-homelab --remote ssh://homelab@saturn/srv/git/my-homelab.git',
      'homelab init my-homelab --node pluto --address pluto --service web',
      'homelab init demo-copy --example',
    ],
  },
  demo: {
    exitCodes: '0 done, 1 the demo could not be built or torn down, 2 usage',
    examples: ['homelab demo', 'homelab demo --no-tui --dir /tmp/lab --keep'],
  },
  validate: {
    exitCodes: '0 valid (warnings may be printed), 1 invalid, 2 usage',
    examples: ['homelab validate', 'homelab validate --json --repo ~/my-homelab'],
  },
  manifest: {
    exitCodes:
      '0 written (or up to date with --check), 1 invalid inventory or stale with --check, 2 usage',
    examples: ['homelab manifest && git add hosts && git commit -m "Update manifests"'],
  },
  node: {
    exitCodes:
      '0 done, 1 refused or failed (nothing written for a refused add/remove), 2 usage; bootstrap: 1 also when the node is unreachable',
    examples: [
      'homelab node add pluto --address 127.0.0.1 --transport ssh --ssh-port 2222 --user homelab --root /srv/homelab --service web',
      'homelab node bootstrap pluto',
      'homelab node remove-service pluto web',
      'homelab node remove pluto --yes',
    ],
  },
  scripts: {
    exitCodes: '0 up to date or refreshed, 1 failed, 2 usage',
    examples: ['homelab scripts status', 'homelab scripts update && git diff --stat scripts'],
  },
  recover: {
    exitCodes: '0 prompt built (and the AI answered with --ai), 1 failed, 2 usage',
    examples: ['homelab recover solaria', 'homelab recover solaria --out /tmp/solaria.md'],
  },
  logs: {
    flags: REPO_FLAG,
    exitCodes:
      '0 printed (with -f: the containers stopped), 1 failed (no such service on the node, old node scripts), 2 usage, 130 interrupted, 255 unreachable',
    examples: [
      'homelab logs pluto web --tail 50',
      'homelab logs pluto web -f --since 10m | grep -i error',
    ],
  },
  status: {
    flags: [
      '  --json       print the report as JSON (one object per node: reachable, stage, health, commit, services)',
      '  --node NAME  only this node (repeat for several)',
      REPO_FLAG,
    ].join('\n'),
    exitCodes:
      '0 every node reachable and healthy with no drift, 1 any node unreachable, unhealthy, failed or drifted, 2 usage',
    examples: ['homelab status', 'homelab status --json --node pluto'],
  },
  updates: {
    flags: [
      '  --node NAME     only this node (repeat for several)',
      '  --json          print {nodes: [{node, images, error}]} as JSON',
      '  --apply         pull, recreate and verify the out-of-date services of the selected nodes (all',
      '                  when none is named), wave by wave, each wave shown and asked first',
      '  --wave N        with --apply: only the nodes of wave N (repeat for several)',
      '  --service NAME  with --apply: only this service (repeat for several)',
      '  --yes           with --apply: do not ask',
      REPO_FLAG,
    ].join('\n'),
    exitCodes:
      '0 every image current (or the update verified), 1 an image out of date, a node not asked, or the update failed, 2 usage',
    examples: [
      'homelab updates',
      'homelab updates --apply --node pluto --service web',
      'homelab updates --apply --wave 1',
    ],
  },
  history: {
    flags: [
      '  --node NAME  only this node (repeat for several)',
      '  --json       print {entries, errors} as JSON, entries newest first',
      '  --limit N    at most N runs',
      '  --run ID     with one --node: print that run’s log from the node (deploy.sh attach --run ID)',
      REPO_FLAG,
    ].join('\n'),
    exitCodes: '0 every node answered, 1 a node could not be read, 2 usage',
    examples: [
      'homelab history',
      'homelab history --node pluto --limit 20',
      'homelab history --node pluto --run s1abc-123-1-xyz',
    ],
  },
  deploy: {
    flags: REPO_FLAG,
    exitCodes:
      '0 every selected node verified at HEAD (or already up to date), 1 a node failed, the walk was refused or declined, 2 usage (or no terminal without --yes), 130 interrupted',
    examples: [
      'homelab deploy',
      'homelab deploy --wave 1 --yes',
      'homelab deploy --node pluto --node solaria --per-stage',
    ],
  },
  run: {
    flags: REPO_FLAG,
    exitCodes:
      '0 stage ok, 1 stage failed or refused, 2 usage, 3 another run holds the node lock, 130 interrupted, 255 unreachable',
    examples: ['homelab run prepare --node pluto', 'homelab run deploy --node pluto --yes'],
  },
};

/** The full `--help` text: the command's usage, then the flags it lacks, exit codes and examples. */
export function helpText(name: string, usage: string): string {
  const extra = HELP_EXTRA[name];
  if (!extra) return `${usage}\n`;
  const parts = [usage];
  // Flags only when the usage text describes none itself (a line starting with "  --").
  if (extra.flags !== undefined && !/^ {2}--/m.test(usage))
    parts.push(`\nOptions:\n${extra.flags}`);
  parts.push(`\nExit codes: ${extra.exitCodes}`);
  parts.push(
    `\nExample${extra.examples.length > 1 ? 's' : ''}:\n${extra.examples.map((e) => `  ${e}`).join('\n')}`,
  );
  return `${parts.join('\n')}\n`;
}
