// The "Your own homelab" guide (docs/your-own-homelab.md, and the README section that repeats it),
// followed word for word in a fresh HOME with the installed tool on PATH: its second sh block runs
// as it is written and leaves a deployed, healthy node. The first block (npm ci && npm pack, npm
// install -g) is what installPackedTool does, into an empty prefix.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/build.js';
import { requireLab } from '../support/lab.js';
import { installPackedTool } from './install-support.js';

const run = promisify(execFile);
const ok = requireLab('docker');
const GUIDE = join(ROOT, 'docs', 'your-own-homelab.md');

/** The sh code blocks of a markdown text, in order. */
function shBlocks(text: string): string[] {
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

let dir: string;
let binDir: string;

function containers(): string[] {
  return execFileSync(
    'docker',
    ['ps', '-a', '-q', '--filter', 'label=com.docker.compose.project=saturn_hello'],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean);
}

beforeAll(async () => {
  if (!ok) return;
  dir = mkdtempSync(join(tmpdir(), 'homelab-readme-'));
  binDir = await installPackedTool(dir);
  mkdirSync(join(dir, 'home'));
}, 180_000);

afterAll(() => {
  if (!ok) return;
  const ids = containers();
  if (ids.length > 0) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!ok)('docs/your-own-homelab.md, word for word', () => {
  it('the README repeats the guide’s commands', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const guide = shBlocks(readFileSync(GUIDE, 'utf8'));
    // The README's Install and Your own homelab sections carry the guide's two blocks.
    expect(readme).toContain('## Your own homelab');
    const inReadme = shBlocks(readme.slice(readme.indexOf('## Install')));
    expect(inReadme.slice(0, 2)).toEqual(guide.slice(0, 2));
  });

  it('gives a deployed, healthy node in a fresh folder', async () => {
    const block = shBlocks(readFileSync(GUIDE, 'utf8'))[1] ?? '';
    expect(block).toContain('homelab init');
    const home = join(dir, 'home');
    const r = await run('bash', ['-euo', 'pipefail', '-c', block], {
      cwd: home,
      timeout: 240_000,
      env: {
        PATH: `${binDir}:${process.env.PATH ?? ''}`,
        HOME: home,
        HOMELAB_STATE_DIR: join(dir, 'state'),
        GIT_AUTHOR_NAME: 'New User',
        GIT_AUTHOR_EMAIL: 'user@example.net',
        GIT_COMMITTER_NAME: 'New User',
        GIT_COMMITTER_EMAIL: 'user@example.net',
      },
    }).catch((err: unknown) => {
      const e = err as { stdout?: string; stderr?: string; message?: string };
      throw new Error(
        `the guide's commands failed: ${e.message ?? ''}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
      );
    });
    expect(r.stdout).toMatch(/saturn\s.*verify ok/);
    expect(containers()).toHaveLength(1);
    const page = await fetch('http://127.0.0.1:8088/');
    expect(await page.text()).toContain('hello on saturn');
  }, 300_000);
});
