// The house's layers, checked on the resolved import graph of src/ (eslint.config.js checks the
// same rules on each import as written): the core is pure and imports nothing above it, the shell
// never reaches the TUI or the CLI, the TUI's state is pure, views never touch the shell or files.
// Known exceptions come from eslint.config.js's LAYER_EXCEPTIONS, and each must still be needed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

interface LayerException {
  readonly file: string;
  readonly allows: string;
}
const eslintConfig = (await import(pathToFileURL(join(ROOT, 'eslint.config.js')).href)) as {
  LAYER_EXCEPTIONS: readonly LayerException[];
  IO_MODULES: string;
};
const IO = new RegExp(eslintConfig.IO_MODULES);

interface Rule {
  /** Files below this folder (relative to the repo) follow the rule. */
  readonly layer: string;
  /** Folders of src/ it may not import from (prefixes, relative to the repo). */
  readonly forbidden?: readonly string[];
  /** When given, the only folders of src/ it may import from. */
  readonly only?: readonly string[];
  /** Bare modules it may not import. */
  readonly modules?: RegExp;
  readonly why: string;
}

const RULES: readonly Rule[] = [
  {
    layer: 'src/core/',
    only: ['src/core/'],
    modules: IO,
    why: 'the core is pure: no I/O, nothing from shell, tui or cli',
  },
  {
    layer: 'src/shell/',
    forbidden: ['src/tui/', 'src/cli/'],
    why: 'the shell never imports the TUI or the CLI',
  },
  {
    layer: 'src/tui/state/',
    only: ['src/core/', 'src/tui/state/'],
    modules: new RegExp(`${IO.source}|^(react|ink)(/|$)`),
    why: "the TUI's state is pure: reducers over core types",
  },
  {
    layer: 'src/cli/',
    modules: IO,
    why: 'the CLI parses, asks the shell and prints: no files, processes or prompts of its own',
  },
  {
    layer: 'src/tui/views/',
    forbidden: ['src/shell/', 'src/cli/'],
    modules: IO,
    why: 'views send intents; they never import the shell or touch files',
  },
];

interface Edge {
  readonly from: string;
  /** A repo-relative path for an import inside the repo, the bare specifier otherwise. */
  readonly to: string;
  readonly bare: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function resolveRelative(fromFile: string, spec: string): string {
  const base = resolve(dirname(fromFile), spec);
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.js$/, '.tsx'),
    `${base}.ts`,
    `${base}.tsx`,
    join(base, 'index.ts'),
  ];
  const found = candidates.find((c) => {
    try {
      return statSync(c).isFile();
    } catch {
      return false;
    }
  });
  return relative(ROOT, found ?? base);
}

/** Every import, export-from and dynamic import() of every file below src/. */
function importGraph(srcDir = join(ROOT, 'src')): Edge[] {
  return sourceFiles(srcDir).flatMap((file) => {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    return info.importedFiles.map(({ fileName: spec }) => {
      const bare = !spec.startsWith('.');
      return { from: relative(ROOT, file), to: bare ? spec : resolveRelative(file, spec), bare };
    });
  });
}

function violations(
  edges: readonly Edge[],
  exceptions: readonly LayerException[] = eslintConfig.LAYER_EXCEPTIONS,
): string[] {
  const out: string[] = [];
  for (const edge of edges) {
    const rule = RULES.find((r) => edge.from.startsWith(r.layer));
    if (!rule) continue;
    let bad: boolean;
    if (edge.bare) {
      bad = rule.modules?.test(edge.to) ?? false;
    } else if (!edge.to.startsWith('src/')) {
      // Outside src/: data files (the redaction rules the node shares) are not I/O; code is.
      bad = rule.only !== undefined && !edge.to.endsWith('.json');
    } else {
      bad =
        (rule.forbidden?.some((f) => edge.to.startsWith(f)) ?? false) ||
        (rule.only !== undefined && !rule.only.some((f) => edge.to.startsWith(f)));
    }
    const excused = exceptions.some(
      (e) => e.file === edge.from && !edge.bare && edge.to.startsWith(`src/${e.allows}`),
    );
    if (bad && !excused) out.push(`${edge.from} imports ${edge.to}: ${rule.why}`);
  }
  return out;
}

describe('the layers of src/', () => {
  const edges = importGraph();

  it('reads the real import graph (static, type-only, export-from and dynamic imports)', () => {
    expect(edges.length).toBeGreaterThan(200);
    // A type-only import, a dynamic import and an import of a .tsx file are all seen.
    expect(edges).toContainEqual({
      from: 'src/core/remote/unreachable.ts',
      to: 'src/core/node/types.ts',
      bare: false,
    });
    expect(edges.some((e) => e.to.endsWith('.tsx'))).toBe(true);
    expect(edges.some((e) => e.bare && e.to === 'execa')).toBe(true);
  });

  it('has no import that crosses a layer the wrong way', () => {
    expect(violations(edges)).toEqual([]);
  });

  it('lists only exceptions that are still needed', () => {
    const stale = eslintConfig.LAYER_EXCEPTIONS.filter(
      (e) => violations(edges, []).filter((v) => v.startsWith(`${e.file} `)).length === 0,
    );
    expect(stale).toEqual([]);
  });

  it('fails on each kind of violation', () => {
    const planted: Edge[] = [
      { from: 'src/core/x.ts', to: 'src/shell/transport/types.ts', bare: false },
      { from: 'src/core/x.ts', to: 'src/tui/keys.ts', bare: false },
      { from: 'src/core/x.ts', to: 'node:fs', bare: true },
      { from: 'src/core/x.ts', to: 'execa', bare: true },
      { from: 'src/shell/x.ts', to: 'src/cli/main.ts', bare: false },
      { from: 'src/tui/state/x.ts', to: 'src/tui/controller.ts', bare: false },
      { from: 'src/tui/state/x.ts', to: 'react', bare: true },
      { from: 'src/tui/views/x.tsx', to: 'src/shell/git.ts', bare: false },
      { from: 'src/tui/views/x.tsx', to: 'node:fs/promises', bare: true },
      { from: 'src/cli/commands/x.ts', to: 'execa', bare: true },
      { from: 'src/cli/commands/x.ts', to: 'node:fs/promises', bare: true },
      { from: 'src/cli/commands/x.ts', to: 'node:readline', bare: true },
      // The add-node form sends intents to the controller; it never reaches the shell.
      {
        from: 'src/tui/views/node-add-form.tsx',
        to: 'src/shell/onboarding/add-node.ts',
        bare: false,
      },
    ];
    expect(violations(planted)).toHaveLength(planted.length);
    const allowed: Edge[] = [
      { from: 'src/core/x.ts', to: 'src/core/node/types.ts', bare: false },
      { from: 'src/core/x.ts', to: 'node:util', bare: true },
      { from: 'src/tui/state/x.ts', to: 'src/core/node/types.ts', bare: false },
      { from: 'src/tui/views/x.tsx', to: 'src/tui/state/reducer.ts', bare: false },
      { from: 'src/tui/controller.ts', to: 'src/shell/control/types.ts', bare: false },
    ];
    expect(violations(allowed)).toEqual([]);
  });
});
