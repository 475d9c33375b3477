// The key table: the single source for what each key does, the footer hints and the help screen.
// Keys are tokens ('up', 'enter', 'esc', 'f5', 'pgup', or the typed character). Pure.
import type { Key } from 'ink';
import { CHANGING_STAGES } from '../core/protocol/events.js';
import { nextStage } from '../core/stage/machine.js';
import {
  anyRunning,
  isRunning,
  selectedNode,
  visibleNodes,
  type AppState,
  type ModeKind,
} from './state/reducer.js';

export type Command =
  | 'up'
  | 'down'
  | 'advance'
  | 'stage-menu'
  | 'resume'
  | 'rollback'
  | 'diagnose'
  | 'refresh'
  | 'filter'
  | 'deploy-all'
  | 'log-up'
  | 'log-down'
  | 'help'
  | 'quit'
  | 'close'
  | 'yes'
  | 'no'
  | 'walk-each'
  | 'walk-wave'
  | 'filter-apply'
  | 'filter-clear'
  | 'menu-pick'
  | 'menu-up'
  | 'menu-down'
  | 'add-node'
  | 'service-logs'
  | 'command-log'
  | 'logs-filter'
  | 'logs-timestamps'
  | 'logs-pause'
  | 'logs-up'
  | 'logs-down'
  | 'logs-page-up'
  | 'logs-page-down'
  | 'logs-end'
  | 'logs-reopen'
  | 'logs-back'
  | 'logs-filter-apply'
  | 'logs-filter-clear'
  | 'pick-up'
  | 'pick-down'
  | 'pick-open'
  | 'cmdlog-all'
  | 'check-copy'
  | 'check-done'
  | 'recover'
  | 'form'
  | 'help-scroll-up'
  | 'help-scroll-down'
  | 'rec-resume'
  | 'rec-rollback'
  | 'rec-diagnose'
  | 'rec-prompt'
  | 'rec-copy'
  | 'rec-ai'
  | 'rec-log'
  | 'rec-raw'
  | 'rec-up'
  | 'rec-down'
  | 'rec-page-up'
  | 'rec-page-down'
  | 'rec-expand'
  | 'rec-back'
  | 'history'
  | 'updates-check'
  | 'update'
  | 'update-up'
  | 'update-down'
  | 'update-pick'
  | 'hist-up'
  | 'hist-down'
  | 'hist-page-up'
  | 'hist-page-down'
  | 'hist-open'
  | 'hist-reload'
  | 'hist-back';

export type KeyGroup = 'Move' | 'Stages' | 'View' | 'Recover' | 'Dialogs' | 'Logs';

export interface KeyBinding {
  readonly command: Command;
  /** Tokens that trigger it; empty when a widget reads the keys itself (the stage menu). */
  readonly keys: readonly string[];
  /** How the keys are written on screen. */
  readonly label: string;
  /** Short word for the footer. */
  readonly hint: string;
  /** One sentence for the help screen. */
  readonly description: string;
  readonly group: KeyGroup;
  readonly modes: readonly ModeKind[];
  /** Changes a node: asks for confirmation first. */
  readonly changes?: boolean;
  /** Why the key cannot act right now, or null when it can. */
  readonly disabled?: (state: AppState) => string | null;
}

function head(state: AppState): string {
  return state.repo?.head ?? '';
}

function needsNode(state: AppState): string | null {
  const n = selectedNode(state);
  if (!n) return 'no node selected';
  if (!visibleNodes(state).includes(n)) return `no node matches "${state.filter}"`;
  if (isRunning(n)) return `a stage is running on ${n.spec.name}`;
  return null;
}

function reachableNode(state: AppState): string | null {
  const why = needsNode(state);
  if (why) return why;
  const n = selectedNode(state);
  if (n?.probe && !n.probe.reachable) return `${n.spec.name} is unreachable`;
  return null;
}

/** Why the Tailscale SSH check keys cannot act on the selected node, or null when they can. */
function checkWaiting(state: AppState): string | null {
  const n = selectedNode(state);
  if (!n) return 'no node selected';
  const p = n.probe;
  if (p && !p.reachable && p.reason === 'needs-check')
    return p.checkUrl ? null : `${n.spec.name} waits for another node's check: select that one`;
  return `no Tailscale SSH check is waiting on ${n.spec.name}`;
}

/** The stage Enter would run on the selected node, or null with nothing to do. */
export function advanceStage(state: AppState): ReturnType<typeof nextStage> {
  const n = selectedNode(state);
  if (!n?.probe || !n.probe.reachable) return null;
  const next = nextStage(n.probe.status, head(state));
  // A dry run changes nothing on the node, so its state cannot say how far the walk got: this
  // session's results do (a dry prepare that went through leads to a dry deploy, then verify).
  if (state.dryRun && next !== null) {
    const seen = n.stages ?? {};
    if (seen.deploy?.status === 'ok') return seen.verify?.status === 'ok' ? null : 'verify';
    if (seen.prepare?.status === 'ok') return 'deploy';
  }
  return next;
}

/** The guided recover view's keys (mode 'recover'); the view says when one cannot act and why. */
const RECOVER_KEYS: readonly KeyBinding[] = (
  [
    [
      'rec-resume',
      ['r'],
      'r',
      'resume',
      'Resume the node: re-run the failed stage and the rest (asks first)',
      true,
    ],
    [
      'rec-rollback',
      ['b'],
      'b',
      'rollback',
      'Roll back to the known-good commit, then deploy and verify it (asks first)',
      true,
    ],
    ['rec-diagnose', ['d'], 'd', 'diagnose', 'Re-run diagnose (read-only)'],
    [
      'rec-prompt',
      ['p'],
      'p',
      'prompt',
      'Build the recover-node prompt: saved, shown and copied to the clipboard',
    ],
    [
      'rec-copy',
      ['c'],
      'c',
      'copy',
      'Copy the prompt to the clipboard again (OSC 52), in the prompt pane',
    ],
    [
      'rec-ai',
      ['a'],
      'a',
      'ask AI',
      'Ask the AI command (ai.command in the inventory) with the prompt',
    ],
    ['rec-log', ['l'], 'l', 'full log', 'Open the full log of the failed run (redacted)'],
    [
      'rec-raw',
      ['v'],
      'v',
      'raw lines',
      'In the full log: show the raw protocol records, or the human lines again',
    ],
    ['rec-up', ['up', 'k'], '↑/k', 'select', 'The finding above (in a pane: scroll up)'],
    ['rec-down', ['down', 'j'], '↓/j', 'select', 'The finding below (in a pane: scroll down)'],
    ['rec-page-up', ['pgup'], 'PgUp', 'page up', 'Scroll a page up'],
    ['rec-page-down', ['pgdown', ' '], 'PgDn', 'page down', 'Scroll a page down'],
    [
      'rec-expand',
      ['enter'],
      'Enter',
      'expand',
      'Show the selected finding whole: all its evidence and its fix',
    ],
    [
      'rec-back',
      ['esc', 'left'],
      'Esc',
      'back',
      'Back: from a pane to the findings, from the findings to the nodes',
    ],
  ] as const
).map(([command, keys, label, hint, description, changes]): KeyBinding => ({
  command,
  keys,
  label,
  hint,
  description,
  group: 'Recover',
  modes: ['recover'],
  ...(changes ? { changes } : {}),
}));

/** The service logs view, its service picker and the command log (modes of their own). */
const LOGS_KEYS: readonly KeyBinding[] = (
  [
    ['pick-up', ['up', 'k'], '↑/k', 'choose', 'The service above', ['service-pick']],
    ['pick-down', ['down', 'j'], '↓/j', 'choose', 'The service below', ['service-pick']],
    ['pick-open', ['enter'], 'Enter', 'open', "Open the chosen service's logs", ['service-pick']],
    [
      'logs-filter',
      ['/'],
      '/',
      'filter',
      'Filter the lines (plain text, any case); Enter keeps it, Esc clears it',
      ['service-logs'],
    ],
    [
      'logs-timestamps',
      ['t'],
      't',
      'timestamps',
      "Show or hide each line's time (UTC)",
      ['service-logs'],
    ],
    [
      'logs-pause',
      ['p', ' '],
      'p/Space',
      'pause',
      'Pause the view (new lines are kept, and counted), or follow again',
      ['service-logs'],
    ],
    [
      'logs-up',
      ['up', 'k'],
      '↑/k',
      'scroll',
      'Scroll up a line (pauses); in the command log, the command above',
      ['service-logs', 'command-log'],
    ],
    [
      'logs-down',
      ['down', 'j'],
      '↓/j',
      'scroll',
      'Scroll down a line (at the end: follow again)',
      ['service-logs', 'command-log'],
    ],
    [
      'logs-page-up',
      ['pgup', 'K'],
      'PgUp/K',
      'page up',
      'Scroll a page up',
      ['service-logs', 'command-log'],
    ],
    [
      'logs-page-down',
      ['pgdown', 'J'],
      'PgDn/J',
      'page down',
      'Scroll a page down',
      ['service-logs', 'command-log'],
    ],
    [
      'logs-end',
      ['G'],
      'G',
      'follow',
      'To the newest line, following again',
      ['service-logs', 'command-log'],
    ],
    [
      'logs-reopen',
      ['R'],
      'R',
      'reconnect',
      'Open the logs again (after the stream ended or failed)',
      ['service-logs'],
    ],
    [
      'cmdlog-all',
      ['a'],
      'a',
      'all nodes',
      "The commands of every node, or only the selected node's",
      ['command-log'],
    ],
    [
      'logs-back',
      ['esc', 'left'],
      'Esc',
      'back',
      'Back to the nodes (the logs stop streaming)',
      ['service-pick', 'service-logs', 'command-log'],
    ],
    ['logs-filter-apply', ['enter'], 'Enter', 'keep filter', 'Keep the filter', ['logs-filter']],
    ['logs-filter-clear', ['esc'], 'Esc', 'clear', 'Clear the filter', ['logs-filter']],
  ] as const
).map(([command, keys, label, hint, description, modes]): KeyBinding => ({
  command,
  keys,
  label,
  hint,
  description,
  group: 'Logs',
  modes,
}));

// The history view's keys (mode 'history': the list, or the log of the run opened from it).
const HISTORY_KEYS: readonly KeyBinding[] = (
  [
    ['hist-up', ['up', 'k'], '↑/k', 'up', 'The newer run; in a log, scroll up a line'],
    ['hist-down', ['down', 'j'], '↓/j', 'down', 'The older run; in a log, scroll down a line'],
    ['hist-page-up', ['pgup', 'K'], 'PgUp/K', 'page up', 'A page up'],
    ['hist-page-down', ['pgdown', 'J'], 'PgDn/J', 'page down', 'A page down'],
    [
      'hist-open',
      ['enter'],
      'Enter',
      'log',
      "Open the run's log from its node (deploy.sh attach --run ID)",
    ],
    ['hist-reload', ['R'], 'R', 'reload', "Read every node's history again"],
    [
      'hist-back',
      ['esc', 'left', 'q', 'h'],
      'Esc',
      'back',
      'From a log back to the list; from the list back to the nodes',
    ],
  ] as const
).map(([command, keys, label, hint, description]): KeyBinding => ({
  command,
  keys,
  label,
  hint,
  description,
  group: 'View',
  modes: ['history'],
}));

export const KEY_TABLE: readonly KeyBinding[] = [
  {
    command: 'up',
    keys: ['up', 'k'],
    label: '↑/k',
    hint: 'move',
    description: 'Select the node above',
    group: 'Move',
    modes: ['normal'],
  },
  {
    command: 'down',
    keys: ['down', 'j'],
    label: '↓/j',
    hint: 'move',
    description: 'Select the node below',
    group: 'Move',
    modes: ['normal'],
  },
  {
    command: 'advance',
    keys: ['enter'],
    label: 'Enter',
    hint: 'next',
    description:
      'Advance the selected node to its next stage (prepare -> deploy -> verify, or resume after a failure)',
    group: 'Stages',
    modes: ['normal'],
    changes: true,
    disabled: (s) => {
      const why = reachableNode(s);
      if (why) return why;
      const n = selectedNode(s);
      if (!n?.probe) return 'status not known yet';
      return advanceStage(s) === null ? `${n.spec.name} is up to date` : null;
    },
  },
  {
    command: 'stage-menu',
    keys: ['s'],
    label: 's',
    hint: 'stage',
    description: 'Choose a stage to run on the selected node',
    group: 'Stages',
    modes: ['normal'],
    disabled: reachableNode,
  },
  {
    command: 'diagnose',
    keys: ['d'],
    label: 'd',
    hint: 'diagnose',
    description: 'Diagnose the selected node (read-only, never asks)',
    group: 'Stages',
    modes: ['normal'],
    disabled: reachableNode,
  },
  {
    command: 'recover',
    keys: ['g'],
    label: 'g',
    hint: 'recover',
    description:
      'Open the guided recover view of the selected node: findings, resume, rollback, the recover-node prompt',
    group: 'Stages',
    modes: ['normal'],
    disabled: reachableNode,
  },
  {
    command: 'resume',
    keys: ['r'],
    label: 'r',
    hint: 'resume',
    description: 'Resume: re-run the failed or interrupted stage, then the rest',
    group: 'Stages',
    modes: ['normal'],
    changes: true,
    disabled: (s) => {
      const why = reachableNode(s);
      if (why) return why;
      const n = selectedNode(s);
      const st = n?.probe?.reachable ? n.probe.status : undefined;
      if (!st) return 'status not known yet';
      return st.stageStatus === 'failed' || st.stageStatus === 'interrupted'
        ? null
        : `nothing to resume on ${n?.spec.name ?? ''}: no stage failed or was interrupted`;
    },
  },
  {
    command: 'rollback',
    keys: ['b'],
    label: 'b',
    hint: 'rollback',
    description: 'Roll back to the last known-good commit, then deploy and verify it',
    group: 'Stages',
    modes: ['normal'],
    changes: true,
    disabled: (s) => {
      const why = reachableNode(s);
      if (why) return why;
      const n = selectedNode(s);
      const st = n?.probe?.reachable ? n.probe.status : undefined;
      if (!st) return 'status not known yet';
      if (!st.knownGood) return `${n?.spec.name ?? ''} has no known-good commit yet`;
      return st.knownGood === st.deployed && st.stageStatus === 'ok'
        ? `${n?.spec.name ?? ''} already runs its known-good commit`
        : null;
    },
  },
  {
    command: 'deploy-all',
    keys: ['D'],
    label: 'D',
    hint: 'deploy all',
    description:
      'Deploy the homelab: every node, wave by wave, stage by stage, each confirmed (or once per wave); stops at the first failure',
    group: 'Stages',
    modes: ['normal'],
    changes: true,
    disabled: (s) =>
      s.walk
        ? 'a deploy walk is already running'
        : anyRunning(s)
          ? 'wait for the running stages to end'
          : null,
  },
  {
    command: 'add-node',
    keys: ['a'],
    label: 'a',
    hint: 'add node',
    description: 'Add a node: a guided form with the same fields and checks as `homelab node add`',
    group: 'Stages',
    modes: ['normal'],
  },
  {
    command: 'check-copy',
    keys: ['c'],
    label: 'c',
    hint: 'copy check URL',
    description:
      'Copy the URL of the Tailscale SSH check the selected node waits for to the clipboard (OSC 52)',
    group: 'Stages',
    modes: ['normal'],
    disabled: checkWaiting,
  },
  {
    command: 'check-done',
    keys: ['C'],
    label: 'C',
    hint: 'check done',
    description:
      'The Tailscale SSH check is done in the browser: retry the node (one check at a time per tailnet)',
    group: 'Stages',
    modes: ['normal'],
    disabled: checkWaiting,
  },
  {
    command: 'service-logs',
    keys: ['l'],
    label: 'l',
    hint: 'logs',
    description:
      "Open a service's logs on the selected node: the last lines, then new ones as they come (filter, timestamps, pause)",
    group: 'View',
    modes: ['normal'],
    disabled: (s) => {
      const n = selectedNode(s);
      if (!n) return 'no node selected';
      if (n.spec.services.length === 0) return `${n.spec.name} has no services`;
      if (n.probe && !n.probe.reachable) return `${n.spec.name} is unreachable`;
      return null;
    },
  },
  {
    command: 'updates-check',
    keys: ['U'],
    label: 'U',
    hint: 'updates?',
    description:
      "Ask the registry whether each node's image tags point to newer images (deploy.sh images, no pull; slow, so only on this key)",
    group: 'View',
    modes: ['normal'],
  },
  {
    command: 'update',
    keys: ['u'],
    label: 'u',
    hint: 'update',
    description:
      'Update images: a menu of one service of the selected node, the node, or its whole wave; then pull, recreate, verify (asks once per wave, showing old -> new digests and age; b rolls back)',
    group: 'Stages',
    modes: ['normal'],
    changes: true,
    disabled: (s) => {
      const why = reachableNode(s);
      if (why) return why;
      const n = selectedNode(s);
      const imgs = n?.images;
      if (!imgs) return 'press U first: the registry has not been asked';
      if (imgs.loading) return 'the registry is being asked';
      if (imgs.error) return imgs.error;
      return imgs.images.some((i) => i.status === 'updatable')
        ? null
        : `every image of ${n?.spec.name ?? ''} is what its tag points to`;
    },
  },
  {
    command: 'command-log',
    keys: ['@'],
    label: '@',
    hint: 'commands',
    description:
      'The command log: every command SATURN ran on the nodes, quoted as it went out, with exit code and duration',
    group: 'View',
    modes: ['normal'],
  },
  {
    command: 'history',
    keys: ['h'],
    label: 'h',
    hint: 'history',
    description:
      'The history: every run recorded on the nodes, newest first (when, stage, result, commit, duration, who); Enter opens its log',
    group: 'View',
    modes: ['normal'],
  },
  {
    command: 'refresh',
    keys: ['R', 'f5'],
    label: 'R/F5',
    hint: 'refresh',
    description: 'Refresh the status of every node now',
    group: 'View',
    modes: ['normal'],
  },
  {
    command: 'filter',
    keys: ['/'],
    label: '/',
    hint: 'filter',
    description: 'Filter nodes by name, role or tag',
    group: 'View',
    modes: ['normal'],
  },
  {
    command: 'log-up',
    keys: ['pgup', 'K'],
    label: 'PgUp/K',
    hint: 'log up',
    description: 'Scroll the log up',
    group: 'View',
    modes: ['normal'],
  },
  {
    command: 'log-down',
    keys: ['pgdown', 'J'],
    label: 'PgDn/J',
    hint: 'log down',
    description: 'Scroll the log down (to the live end)',
    group: 'View',
    modes: ['normal'],
  },
  {
    command: 'help',
    keys: ['?'],
    label: '?',
    hint: 'help',
    description: 'Show this help',
    group: 'View',
    modes: ['normal', 'recover', 'service-pick', 'service-logs', 'command-log'],
  },
  {
    command: 'quit',
    keys: ['q', 'ctrl+c'],
    label: 'q',
    hint: 'quit',
    description: 'Quit (asks first while a stage is running; Ctrl+C too)',
    group: 'View',
    modes: ['normal', 'recover', 'service-pick', 'service-logs', 'command-log'],
  },
  {
    command: 'close',
    keys: ['esc', 'q', '?'],
    label: 'Esc',
    hint: 'close',
    description: 'Close the help or a menu without running anything',
    group: 'Dialogs',
    modes: ['help', 'menu', 'walk-choice', 'update-menu'],
  },
  {
    command: 'help-scroll-up',
    keys: ['up', 'k'],
    label: '↑/k',
    hint: 'scroll',
    description: 'Scroll the help up',
    group: 'Dialogs',
    modes: ['help'],
  },
  {
    command: 'help-scroll-down',
    keys: ['down', 'j'],
    label: '↓/j',
    hint: 'scroll',
    description: 'Scroll the help down',
    group: 'Dialogs',
    modes: ['help'],
  },
  {
    command: 'menu-up',
    keys: ['up', 'k'],
    label: '↑/k',
    hint: 'choose',
    description: 'The stage above in the stage menu',
    group: 'Dialogs',
    modes: ['menu'],
  },
  {
    command: 'menu-down',
    keys: ['down', 'j'],
    label: '↓/j',
    hint: 'choose',
    description: 'The stage below in the stage menu',
    group: 'Dialogs',
    modes: ['menu'],
  },
  {
    command: 'menu-pick',
    keys: ['enter'],
    label: 'Enter',
    hint: 'run',
    description: 'Run the chosen stage (a stage that changes the node asks first)',
    group: 'Dialogs',
    modes: ['menu'],
  },
  {
    command: 'update-up',
    keys: ['up', 'k'],
    label: '↑/k',
    hint: 'choose',
    description: 'The choice above in the update menu',
    group: 'Dialogs',
    modes: ['update-menu'],
  },
  {
    command: 'update-down',
    keys: ['down', 'j'],
    label: '↓/j',
    hint: 'choose',
    description: 'The choice below in the update menu',
    group: 'Dialogs',
    modes: ['update-menu'],
  },
  {
    command: 'update-pick',
    keys: ['enter'],
    label: 'Enter',
    hint: 'update',
    description: 'Update what the menu chose (asks first, showing what changes)',
    group: 'Dialogs',
    modes: ['update-menu'],
  },
  {
    command: 'yes',
    keys: ['y'],
    label: 'y',
    hint: 'yes',
    description: 'Yes: run it / quit',
    group: 'Dialogs',
    modes: ['confirm', 'quit'],
  },
  {
    command: 'no',
    keys: ['n', 'enter', 'esc'],
    label: 'n/Enter/Esc',
    hint: 'no (default)',
    description: 'No (the default answer): nothing runs',
    group: 'Dialogs',
    modes: ['confirm', 'quit'],
  },
  {
    command: 'walk-each',
    keys: ['e', 'enter'],
    label: 'e/Enter',
    hint: 'each stage',
    description: 'Deploy the homelab asking before every stage',
    group: 'Dialogs',
    modes: ['walk-choice'],
  },
  {
    command: 'walk-wave',
    keys: ['w'],
    label: 'w',
    hint: 'once per wave',
    description: 'Deploy the homelab asking once per wave',
    group: 'Dialogs',
    modes: ['walk-choice'],
  },
  {
    command: 'form',
    keys: [],
    label: 'Enter/Esc',
    hint: 'next field / cancel',
    description: 'In the add-node form: Enter answers, ↑ goes back a field, Esc cancels',
    group: 'Dialogs',
    modes: ['add-node'],
  },
  {
    command: 'filter-apply',
    keys: ['enter'],
    label: 'Enter',
    hint: 'keep filter',
    description: 'Keep the filter and go back to the nodes',
    group: 'Dialogs',
    modes: ['filter'],
  },
  {
    command: 'filter-clear',
    keys: ['esc'],
    label: 'Esc',
    hint: 'clear',
    description: 'Clear the filter',
    group: 'Dialogs',
    modes: ['filter'],
  },
  ...RECOVER_KEYS,
  ...LOGS_KEYS,
  ...HISTORY_KEYS,
];

/** Turns Ink's (input, key) into the token the table uses. */
export function keyToken(input: string, key: Key): string {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pgup';
  if (key.pageDown) return 'pgdown';
  if (key.return) return 'enter';
  if (key.escape) return 'esc';
  if (key.backspace || key.delete) return 'backspace';
  if (key.tab) return 'tab';
  if (key.ctrl) return `ctrl+${input}`;
  return input;
}

/**
 * The tokens in one chunk of input. A terminal hands a paste or a fast burst of typing to Ink as one
 * string ("/med", "j\r"): each character is a key of its own, in order. Escape sequences arrive
 * alone (Ink splits them), so a chunk longer than one character here is plain text and controls.
 */
export function chunkTokens(input: string, key: Key): string[] {
  // Esc and the next key pressed quickly arrive as one "Alt+key" sequence: no key here means
  // Alt+key, so both act, Esc first.
  if (key.meta && !key.escape && !key.ctrl && [...input].length === 1 && input >= ' ')
    return ['esc', input];
  const chars = [...input];
  if (chars.length <= 1 || input.includes('\x1b')) return [keyToken(input, key)];
  return chars.map((c) => {
    if (c === '\r' || c === '\n') return 'enter';
    if (c === '\x7f' || c === '\b') return 'backspace';
    if (c === '\t') return 'tab';
    const code = c.charCodeAt(0);
    if (code < 0x20) return `ctrl+${String.fromCharCode(code + 0x60)}`;
    return c;
  });
}

/** The binding a key triggers in a mode (whether or not it can act now). */
export function bindingFor(mode: ModeKind, token: string): KeyBinding | undefined {
  return KEY_TABLE.find((b) => b.modes.includes(mode) && b.keys.includes(token));
}

/** Bindings of the current mode that can act now: what the footer lists. */
export function activeBindings(state: AppState): KeyBinding[] {
  const seen = new Set<Command>();
  return KEY_TABLE.filter((b) => {
    if (!b.modes.includes(state.mode.kind) || (b.disabled && b.disabled(state) !== null))
      return false;
    // up and down share one footer entry.
    const key =
      b.command === 'down'
        ? 'up'
        : b.command === 'rec-down'
          ? 'rec-up'
          : b.command === 'help-scroll-down'
            ? 'help-scroll-up'
            : b.command === 'menu-down'
              ? 'menu-up'
              : b.command;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The footer's text for a binding: up/down merge into one "↑↓/jk move". */
export function footerLabel(b: KeyBinding): string {
  return b.command === 'up' ||
    b.command === 'help-scroll-up' ||
    b.command === 'menu-up' ||
    b.command === 'rec-up'
    ? '↑↓/jk'
    : b.label;
}

export function isChangingStage(stage: string): boolean {
  return (CHANGING_STAGES as readonly string[]).includes(stage);
}
