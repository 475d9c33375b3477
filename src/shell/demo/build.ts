// Builds the demo homelab on this machine: SATURN's repo made from demo/ (plus this package's
// scripts/, so nodes run the real deploy.sh), a bare Git remote, and four `local` nodes with their
// own roots and checkouts. One node ships without the secret its service needs.
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { manifestPath, renderManifest } from '../../core/inventory/manifest.js';
import { parseTopology } from '../../core/inventory/parse.js';
import { formatProblem } from '../../core/problem.js';
import { composeProject, type Inventory } from '../../core/inventory/model.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { freePort } from '../free-port.js';

export const BROKEN_SERVICE = 'notes';
export const BROKEN_SECRET = 'NOTES_TOKEN';

export interface DemoNode {
  readonly name: string;
  readonly root: string;
  readonly services: ReadonlyArray<{ readonly name: string; readonly port: number }>;
}

export interface Demo {
  /** The folder holding everything (remove it to remove the demo). */
  readonly dir: string;
  /** SATURN's checkout of the demo homelab. */
  readonly repoDir: string;
  readonly remote: string;
  readonly inventory: Inventory;
  readonly nodes: readonly DemoNode[];
  /**
   * The node shipped broken, and the exact commands that fix it: `fix` as one line, `fixLines` as
   * short commands to run one after the other (each copyable on its own row of an 80-column
   * terminal). Both create the .env readable by its owner only (umask 077: mode 0600).
   */
  readonly broken: {
    readonly node: string;
    readonly envFile: string;
    readonly fix: string;
    readonly fixLines: readonly string[];
  };
}

export interface BuildOptions {
  /** Where to build (created when missing); default a new folder under the system's temp dir. */
  readonly dir?: string;
  /** Run id used in node names (lowercase letters and digits); default random. */
  readonly id?: string;
  readonly templateDir?: string;
  readonly scriptsDir?: string;
}

const PORT_KEYS = ['PORT_PROXY', 'PORT_LIBRARY', 'PORT_NOTES', 'PORT_STATUS'] as const;

async function git(cwd: string, args: readonly string[]): Promise<string> {
  const r = await execa(
    'git',
    [
      '-c',
      'user.name=homelab demo',
      '-c',
      'user.email=demo@homelab.invalid',
      '-c',
      'init.defaultBranch=main',
      ...args,
    ],
    {
      cwd,
      reject: false,
    },
  );
  if (r.exitCode !== 0)
    throw new Error(`git ${args.join(' ')} failed in ${cwd}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function fill(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/@([A-Z_]+)@/g, (m, key: string) => values[key] ?? m);
}

/** Renames hosts/<name-@ID@>/ folders to their filled names. */
async function fillFolderNames(
  hostsDir: string,
  values: Readonly<Record<string, string>>,
): Promise<void> {
  for (const e of await readdir(hostsDir, { withFileTypes: true })) {
    const filled = fill(e.name, values);
    if (e.isDirectory() && filled !== e.name)
      await rename(join(hostsDir, e.name), join(hostsDir, filled));
  }
}

export async function buildDemo(opts: BuildOptions = {}): Promise<Demo> {
  const dir = opts.dir ? resolve(opts.dir) : await mkdtemp(join(tmpdir(), 'homelab-demo-'));
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0)
    throw new Error(`${dir} is not empty: give an empty or new folder to --dir`);
  const id = opts.id ?? randomBytes(3).toString('hex');
  if (!/^[a-z0-9]{1,8}$/.test(id))
    throw new Error(`demo id "${id}" must be 1-8 lowercase letters or digits`);
  const template = opts.templateDir ?? join(PACKAGE_ROOT, 'demo');
  const scripts = opts.scriptsDir ?? join(PACKAGE_ROOT, 'scripts');
  const repoDir = join(dir, 'saturn');
  const remote = join(dir, 'remote.git');

  const ports = await Promise.all(PORT_KEYS.map(() => freePort()));
  const values: Record<string, string> = { ID: id, ROOT: dir, REMOTE: remote };
  PORT_KEYS.forEach((k, i) => (values[k] = String(ports[i])));

  // SATURN's repo: the template with its values filled in, and the real scripts.
  await cp(template, repoDir, { recursive: true });
  await fillFolderNames(join(repoDir, 'hosts'), values);
  for (const file of await listFiles(repoDir)) {
    const text = await readFile(file, 'utf8');
    const filled = fill(text, values);
    if (filled !== text) await writeFile(file, filled);
  }
  await cp(scripts, join(repoDir, 'scripts'), {
    recursive: true,
    filter: (src) => !src.includes(`${join('scripts', 'dev')}`),
  });
  await writeFile(join(repoDir, '.gitignore'), '.env\n');

  const parsed = parseTopology(await readFile(join(repoDir, 'inventory', 'topology.yaml'), 'utf8'));
  if (!parsed.inventory)
    throw new Error(
      `the demo template is invalid:\n${parsed.problems.map(formatProblem).join('\n')}`,
    );
  const inventory = parsed.inventory;
  for (const node of inventory.nodes)
    await writeFile(join(repoDir, manifestPath(node.name)), renderManifest(inventory, node));

  await git(dir, ['init', '--bare', '-q', remote]);
  await git(repoDir, ['init', '-q']);
  await git(repoDir, ['add', '-A']);
  await git(repoDir, ['commit', '-q', '-m', 'demo homelab: four nodes with busybox web services']);
  await git(repoDir, ['remote', 'add', 'origin', remote]);
  await git(repoDir, ['push', '-q', 'origin', 'HEAD:main']);
  await git(repoDir, ['branch', '-q', '--set-upstream-to=origin/main']);

  // Each node: its root, the repo checked out (bootstrapped), config folders with the secrets,
  // except the one left out on purpose.
  const nodes: DemoNode[] = [];
  let broken: Demo['broken'] | undefined;
  for (const node of inventory.nodes) {
    for (const sub of ['state', 'logs', 'config'])
      await mkdir(join(node.root, sub), { recursive: true });
    await git(dir, ['clone', '-q', remote, node.repo]);
    for (const s of node.services) {
      const cfg = join(node.root, 'config', s.name);
      await mkdir(cfg, { recursive: true });
      const envFile = join(cfg, '.env');
      const lines = s.secrets
        .filter((k) => !(s.name === BROKEN_SERVICE && k === BROKEN_SECRET))
        .map((k) => `${k}=demo-${randomBytes(6).toString('hex')}\n`);
      if (lines.length > 0) await writeFile(envFile, lines.join(''), { mode: 0o600 });
      if (s.name === BROKEN_SERVICE) {
        broken = {
          node: node.name,
          envFile,
          fix: `(umask 077; echo ${BROKEN_SECRET}=demo-secret >> ${envFile})`,
          fixLines: [`cd ${cfg}`, `umask 077; echo ${BROKEN_SECRET}=demo-secret >> .env`],
        };
      }
    }
    nodes.push({
      name: node.name,
      root: node.root,
      services: node.services.map((s) => ({
        name: s.name,
        port: Number(values[`PORT_${s.name.toUpperCase()}`] ?? 0),
      })),
    });
  }
  if (!broken)
    throw new Error(`the demo template has no "${BROKEN_SERVICE}" service to ship broken`);
  return { dir, repoDir, remote, inventory, nodes, broken };
}

/** Whether a Docker engine with Compose v2 answers here (else the demo runs stages as --dry-run). */
export async function dockerAvailable(): Promise<boolean> {
  const info = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], {
    reject: false,
    timeout: 10_000,
  });
  if (info.exitCode !== 0) return false;
  const compose = await execa('docker', ['compose', 'version'], { reject: false, timeout: 10_000 });
  return compose.exitCode === 0;
}

/** Takes the demo's compose projects down (best effort) so nothing keeps running after it. */
/** What `homelab demo` does when it ends (and `--down`): its containers stopped, its folder gone. */
export async function removeDemo(demo: Pick<Demo, 'inventory' | 'dir'>): Promise<void> {
  await teardownDemo(demo);
  await rm(demo.dir, { recursive: true, force: true });
}

export async function teardownDemo(demo: Pick<Demo, 'inventory'>): Promise<void> {
  await Promise.all(
    demo.inventory.nodes.flatMap((node) =>
      node.services.map((s) =>
        execa(
          'docker',
          [
            'compose',
            '-p',
            composeProject(node.name, s.name),
            'down',
            '--remove-orphans',
            '--timeout',
            '2',
          ],
          { reject: false, timeout: 60_000 },
        ),
      ),
    ),
  );
}
