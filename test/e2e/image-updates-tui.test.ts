// The TUI's update action on the real stack, in a real terminal (tmux): a `local` node running v1
// of an image from the lab's registry (Debian's docker-registry) under :latest, v2 pushed as
// :latest; U shows "1 update" on the node, u opens the update menu, Enter picks the node, the
// question shows the running digest -> the registry's, y runs deploy --update and verify, and
// docker then runs the v2 digest (read from the engine, not from the tool).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../src/shell/free-port.js';
import { runCli } from '../support/cli.js';
import { requireLab } from '../support/lab.js';
import { createLabHomelab, type LabHomelab } from '../support/lab-homelab.js';
import { registryWebCompose, TestRepo } from '../support/registry.js';
import { BIN, ROOT, ensureBuilt } from './build.js';
import { openTerminal, type Terminal } from './tmux.js';

const ok = requireLab('tmux', 'docker', 'registry');

const docker = (args: readonly string[]): string =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

describe.skipIf(!ok)('the TUI updates a node to the image its tag points to now', () => {
  const node = `iu${Math.random().toString(36).slice(2, 7)}`;
  let hl: LabHomelab;
  let repo: TestRepo;
  let term: Terminal;
  const digests: Record<string, string> = {};
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, HOMELAB_VERIFY_TIMEOUT: '40' };
  const container = (): string =>
    docker(['ps', '-q', '--filter', `label=com.docker.compose.project=${node}_web`]);
  /** What the engine runs for web: the image's repo digests and the /version file. */
  const running = (): { digests: string; version: string } => {
    const id = container();
    const image = docker(['inspect', '--format', '{{.Image}}', id]);
    return {
      digests: docker(['image', 'inspect', '--format', '{{join .RepoDigests " "}}', image]),
      version: docker(['exec', id, 'cat', '/version']),
    };
  };

  beforeAll(async () => {
    ensureBuilt();
    hl = await createLabHomelab({ transport: 'local', nodes: [{ name: node, services: ['web'] }] });
    repo = new TestRepo('tui');
    const port = await freePort();
    digests.v1 = repo.push('v1');
    writeFileSync(
      join(hl.repoDir, 'hosts', node, 'web', 'docker-compose.yml'),
      registryWebCompose(repo.ref('latest'), port),
    );
    hl.commit('web from the registry');
    hl.bootstrap(node);
    for (const stage of ['prepare', 'deploy', 'verify']) {
      const r = await runCli(['run', stage, '--node', node, '--yes'], { cwd: hl.repoDir, env });
      if (r.code !== 0) throw new Error(`${stage}: ${r.stdout}${r.stderr}`);
    }
    expect(running().version).toBe('v1');
    digests.v2 = repo.push('v2');
    term = openTerminal({
      // wide enough for the question's whole line (tag, old -> new digest, age)
      cols: 220,
      rows: 45,
      env: { CI: 'false', TERM: 'xterm-256color', HOMELAB_VERIFY_TIMEOUT: '40' },
      cwd: ROOT,
    });
  }, 240_000);

  afterAll(async () => {
    term?.kill();
    await hl?.cleanup();
    repo?.cleanup();
  }, 120_000);

  test('U shows the update, u + Enter + y: v2 runs and verifies', async () => {
    const short = (d: string | undefined): string => (d ?? '').slice(0, 19);
    term.type(`node ${BIN} --repo ${hl.repoDir}`);
    await term.press('Enter');
    await term.waitFor(new RegExp(`${node}\\s+\\S+\\s+verify ok\\s+healthy`), 60_000);
    await term.press('U');
    await term.waitFor(new RegExp(`${node}.*1 update`), 60_000);
    expect(term.screen().join('\n')).toContain(
      `web: update ${short(digests.v1)} -> ${short(digests.v2)}`,
    );
    await term.press('u');
    await term.waitFor(`node ${node}: its 1 out-of-date service`, 30_000);
    await term.press('Enter');
    await term.waitFor(`Update images on ${node}?`, 60_000);
    const question = term.screen().join('\n');
    expect(question).toContain(`${short(digests.v1)} -> ${short(digests.v2)}`);
    expect(running().version).toBe('v1');
    await term.press('y');
    await term.waitFor(`update ok on ${node}`, 180_000);
    // From the engine: the container runs the v2 digest.
    const now = running();
    expect(now.version).toBe('v2');
    expect(now.digests).toContain(`${repo.name}@${digests.v2}`);
    const st = await runCli(['status', '--json', '--node', node], { cwd: hl.repoDir, env });
    const parsed = JSON.parse(st.stdout) as {
      nodes: { stage: string; stageStatus: string }[];
    };
    expect(parsed.nodes[0]).toMatchObject({ stage: 'verify', stageStatus: 'ok' });
    await term.press('q');
  }, 300_000);
});
