// The TUI's guided node-add form: its state machine, and the form driven by keys on a copy of the
// example homelab (the same checks and files as `homelab node add`).
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NODE_FIELDS } from '../../../src/core/onboarding/fields.js';
import { openControl } from '../../../src/shell/control/control.js';
import type { Control } from '../../../src/shell/control/types.js';
import { TuiController } from '../../../src/tui/controller.js';
import { LogStore } from '../../../src/tui/log-store.js';
import { initialState } from '../../../src/tui/state/reducer.js';
import { createAppStore, type AppStore } from '../../../src/tui/state/store.js';
import type { FormState, NodeAddFormResult } from '../../../src/tui/views/node-add-form.js';
import {
  formReducer,
  initialFormState,
  NodeAddForm,
} from '../../../src/tui/views/node-add-form.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
const EXISTING = ['saturn', 'mercury', 'solaria', 'venus'];
const ENTER = '\r';
const UP = '\u001B[A';
const ESC = '\u001B';
const BACKSPACE = '\u007F';

const pause = (ms = 40): Promise<void> => new Promise((r) => setTimeout(r, ms));

function answer(s: FormState, text: string): FormState {
  return formReducer(formReducer(s, { type: 'type', text }), { type: 'submit' });
}

describe('formReducer', () => {
  it('walks the fields in order, using the default for an empty answer', () => {
    let s = initialFormState(EXISTING);
    s = answer(s, 'vega');
    expect(NODE_FIELDS[s.index]?.key).toBe('address');
    s = answer(s, ''); // address defaults to the name
    expect(s.values.address).toBe('vega');
    for (const v of ['', 'nas', '', '', '', '2222', '', '', '/srv/homelab', 'web'])
      s = answer(s, v);
    expect(s.values).toEqual({
      name: 'vega',
      address: 'vega',
      role: 'worker',
      tags: 'nas',
      wave: '0',
      transport: '',
      user: '',
      sshPort: '2222',
      identityFile: '',
      knownHostsFile: '',
      root: '/srv/homelab',
      services: 'web',
    });
    expect(s.phase).toBe('checking');
  });

  it('keeps the user on a field with the reason when the answer is refused', () => {
    const s = answer(initialFormState(EXISTING), 'solaria');
    expect(s.index).toBe(0);
    expect(s.error).toContain('node "solaria" already exists');
    expect(formReducer(s, { type: 'type', text: 'x' }).error).toBe('');
  });

  it('goes back to the previous field with its answer, and from a refusal to the last field', () => {
    let s = answer(answer(initialFormState(EXISTING), 'vega'), 'vega.ts.net');
    s = formReducer(s, { type: 'back' });
    expect(s).toMatchObject({ index: 1, input: 'vega.ts.net' });
    const refused: FormState = { ...s, phase: 'refused', lines: ['Refused: x'] };
    expect(formReducer(refused, { type: 'back' })).toMatchObject({
      phase: 'ask',
      index: NODE_FIELDS.length - 1,
      lines: [],
    });
  });
});

describe('NodeAddForm', () => {
  let repo: string;
  let control: Control;
  let store: AppStore;
  let controller: TuiController;
  beforeEach(async () => {
    repo = mkdtempSync(join(tmpdir(), 'homelab-form-'));
    for (const d of ['inventory', 'hosts'])
      cpSync(join(REPO_ROOT, d), join(repo, d), { recursive: true });
    // The form's intents go to the real controller over a real Control on that repo.
    control = await openControl({ repoDir: repo });
    store = createAppStore(
      initialState({ homelab: control.inventory.homelab, nodes: control.inventory.nodes }),
    );
    controller = new TuiController(control, store, new LogStore(), { refreshMs: 0 });
  });
  afterEach(async () => {
    await controller.stop();
    await control.close();
    rmSync(repo, { recursive: true, force: true });
  });

  function mount() {
    const closed: NodeAddFormResult[] = [];
    const ui = render(
      <NodeAddForm
        intents={controller}
        existingNodes={EXISTING}
        width={120}
        isActive
        onClose={(r) => closed.push(r)}
        starterPort={18090}
      />,
    );
    const screen = (): string => ui.lastFrame() ?? '';
    const press = async (...keys: string[]): Promise<void> => {
      for (const k of keys) {
        ui.stdin.write(k);
        await pause();
      }
    };
    const until = async (text: string): Promise<void> => {
      const end = Date.now() + 3000;
      while (!screen().includes(text)) {
        if (Date.now() > end) throw new Error(`timed out waiting for "${text}" in:\n${screen()}`);
        await pause(10);
      }
    };
    return { ui, screen, press, until, closed };
  }

  it('asks, refuses a bad name with the reason, checks, shows the files, writes them and shows the next steps', async () => {
    const f = mount();
    await pause();
    expect(f.screen()).toContain('Node name (a DNS label, e.g. vega): ');
    await f.press('Vega', ENTER);
    expect(f.screen()).toContain('"Vega" is not a valid node name: it contains uppercase letters');
    await f.press(BACKSPACE, BACKSPACE, BACKSPACE, BACKSPACE, 'vega', ENTER);
    expect(f.screen()).toContain('Tailscale name or address [vega]: ');
    await f.press(ENTER, 'storage', ENTER, 'nas', ENTER, '1', ENTER, 'ssh', ENTER);
    await f.press(ENTER, ENTER, ENTER, ENTER, ENTER, 'web', ENTER); // user, ssh, root: defaults
    await f.until('y write these files · n/Enter/Esc change the answers (default)');
    expect(f.screen()).toContain(
      'vega: address vega, role storage, tags nas, wave 1, transport ssh, services web',
    );
    expect(f.screen()).toContain('write hosts/vega/web/docker-compose.yml');
    expect(existsSync(join(repo, 'hosts/vega'))).toBe(false);

    await f.press('y');
    await f.until('Next steps:');
    expect(f.screen()).toContain('homelab node bootstrap vega');
    expect(readFileSync(join(repo, 'inventory/topology.yaml'), 'utf8')).toContain(
      '\n  vega:\n    address: vega\n    role: storage\n',
    );
    expect(readFileSync(join(repo, 'hosts/vega/web/docker-compose.yml'), 'utf8')).toContain(
      '127.0.0.1:18090',
    );
    // The controller read the inventory again: vega is in the list without a restart.
    expect(store.getState().nodes.map((n) => n.spec.name)).toContain('vega');
    await f.press(ENTER);
    expect(f.closed).toEqual([{ added: 'vega' }]);
    f.ui.unmount();
  });

  it('shows the inventory problems when the result would be invalid, writes nothing, and lets the user fix the answer', async () => {
    const f = mount();
    await pause();
    // Wave 3 leaves a gap (the example uses waves 0 and 1): refused by the inventory rules.
    await f.press('vega', ENTER, ENTER, ENTER, ENTER, '3', ENTER, ENTER);
    await f.press(ENTER, ENTER, ENTER, ENTER, ENTER, ENTER); // user, ssh, root, services
    await f.until('Refused: adding "vega" would leave the inventory invalid');
    expect(f.screen()).toMatch(
      /inventory\/topology\.yaml:\d+:\d+: nodes\.vega\.wave: no node is in wave 2/,
    );
    expect(f.screen()).toContain('Nothing was written.');
    expect(existsSync(join(repo, 'hosts/vega'))).toBe(false);
    // From the refusal to the last field (services), then up past root, known_hosts, identity,
    // ssh port, user and transport to the wave.
    await f.press(ENTER, UP, UP, UP, UP, UP, UP, UP, BACKSPACE, '2', ENTER);
    await f.press(ENTER, ENTER, ENTER, ENTER, ENTER, ENTER, ENTER);
    await f.until('y write these files · n/Enter/Esc change the answers (default)');
    expect(f.screen()).toContain('wave 2');
    await f.press(ESC);
    expect(f.screen()).toContain('Services, comma-separated: ');
    f.ui.unmount();
  });

  it('Esc on a question closes the form without writing', async () => {
    const f = mount();
    await pause();
    await f.press('ve', ESC);
    expect(f.closed).toEqual([{}]);
    expect(existsSync(join(repo, 'hosts/ve'))).toBe(false);
    f.ui.unmount();
  });
});
