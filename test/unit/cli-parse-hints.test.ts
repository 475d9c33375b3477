// Every `homelab ...` command the tool or its docs tell a person to type is parsed by the real
// argument parser (main's parseCommandLine: the same lookup and the same per-command parse that
// run() uses, with nothing run). Collected from: every string and template literal under src/ (the
// TUI's notices and footer, next steps, help text and examples, error fixes), the node scripts'
// hints (scripts/deploy, scripts/bootstrap), the inventory and homelab templates, and the code of
// README.md, docs/*.md, prompts/*.md and the homelab README template. Placeholders become sample
// values (`${node}`, `{{node}}`, `<name>` -> pluto, `<stage>` -> prepare, `[--flag]` -> --flag).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/command.js';
import { parseCommandLine } from '../../src/cli/main.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** The words that may follow `homelab` in a hint (anything else is prose: "homelab repo"). */
const COMMAND_WORDS =
  /^(tui|init|demo|validate|manifest|node|recover|status|history|run|deploy|scripts|updates|logs|help|version|--version|--help|--verbose|<command>)$/;

interface Hint {
  /** Where it was found: file:line. */
  readonly at: string;
  /** As written, after the placeholders were filled. */
  readonly text: string;
  readonly argv: readonly string[];
  /**
   * A command named in prose (`homelab run` refuses...), not one to type: only its name must be a
   * command. Inline Markdown code of command words alone.
   */
  readonly mention?: boolean;
  readonly bare: readonly string[];
}

/**
 * Hints that do not parse yet, each with the reason, in files other changes of this round are
 * writing now. Each must still fail (the test says when one can go).
 */
const KNOWN_GAPS: ReadonlyArray<{ readonly text: RegExp; readonly why: string }> = [];

function files(dir: string, ext: RegExp): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path, ext);
    return ext.test(name) ? [path] : [];
  });
}

/** A placeholder token as a sample value, or the token itself. */
function fill(token: string): string {
  if (/^<stage>$/i.test(token)) return 'prepare';
  if (/^<command>$/i.test(token)) return 'status';
  if (/^<[^>]+>$/.test(token)) return 'pluto';
  // NAME, DIR, URL: an upper-case placeholder stands for a value of that name.
  if (/^[A-Z][A-Z_]*$/.test(token)) return token.toLowerCase();
  return token;
}

interface Found {
  readonly argv: string[];
  /** The same hint with its optional [parts] left out (a synopsis's exclusive options). */
  readonly bare: string[];
  /** Command words alone between backticks: a command named, not one to type. */
  readonly mention: boolean;
}

function tokensOf(segment: string): string[] {
  return (
    segment
      .trim()
      .split(/\s+/)
      .filter((t) => t !== '')
      // Optional parts are taken; "..." and "…" (repeat) dropped; a|b takes a.
      .map((t) => t.replace(/[[\]]/g, ''))
      .filter((t) => t !== '' && !/^(\.+|…)$/.test(t))
      .map((t) => (t.includes('|') && !t.startsWith('<') ? (t.split('|')[0] ?? t) : t))
      .map(fill)
  );
}

/** Every hint in a piece of text (one line of a file, or one string of the source). */
function found(text: string): Found[] {
  const out: Found[] = [];
  const re = /(?:^|[\s`'"(])homelab(?=$|[\s`'")])/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    // "..." (and "…") says "repeat": not a full stop.
    const rest = text.slice(m.index + m[0].length).replace(/\.{3}|…/g, ' ');
    // Where the command ends: a quote or backtick, a parenthesis, a shell operator, two spaces (a
    // table's next column), a dash of prose, a comma or full stop before prose.
    const end = rest.search(
      /[`'"\n]|[()]|&&|\|\||;| \| | {2,}| — | -> |, | \/ | on SATURN|\.(\s|$)|:(\s|$)/,
    );
    const segment = end < 0 ? rest : rest.slice(0, end);
    const stop = end < 0 ? '' : rest.slice(end, end + 1);
    const tokens = tokensOf(segment);
    const first = tokens[0];
    if (first === undefined) {
      // `homelab` alone opens the TUI; "homelab:" is a message's prefix, not a hint.
      if (stop !== ':') out.push({ argv: [], bare: [], mention: false });
      continue;
    }
    if (!COMMAND_WORDS.test(first)) continue;
    // "homelab run: ..." and "homelab node add: refused" are the prefixes of messages.
    if (stop === ':' && !tokens.some((t) => t.startsWith('-'))) continue;
    const mention =
      m[0].startsWith('`') &&
      stop === '`' &&
      tokens.length <= 2 &&
      tokens.every((t) => /^[a-z-]+$/.test(t));
    out.push({ argv: tokens, bare: tokensOf(segment.replace(/\[[^\]]*\]/g, ' ')), mention });
  }
  return out;
}

function hintsIn(text: string): string[][] {
  return found(text).map((f) => f.argv);
}

/** The text of every string and template literal of a source file, with its line. */
function literals(file: string): Array<{ line: number; text: string }> {
  const source = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
    file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  );
  const out: Array<{ line: number; text: string }> = [];
  const at = (n: ts.Node): number => source.getLineAndCharacterOfPosition(n.getStart()).line + 1;
  // 'run `homelab node bootstrap ' + name + '`': a + chain reads as one text, its values as pluto.
  const joined = (n: ts.Expression): string =>
    ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.PlusToken
      ? joined(n.left) + joined(n.right)
      : ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)
        ? n.text
        : 'pluto';
  const visit = (n: ts.Node): void => {
    if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      const parts = [n.left, n.right];
      if (parts.some((p) => ts.isStringLiteral(p) || ts.isNoSubstitutionTemplateLiteral(p))) {
        out.push({ line: at(n), text: joined(n) });
        return;
      }
    }
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isJsxText(n))
      out.push({ line: at(n), text: n.text });
    else if (ts.isTemplateExpression(n))
      out.push({
        line: at(n),
        text: n.head.text + n.templateSpans.map((s) => `pluto${s.literal.text}`).join(''),
      });
    ts.forEachChild(n, visit);
  };
  visit(source);
  return out;
}

/** Lines ending in a backslash joined with the next (a `# ` comment's continuation too). */
function joinContinued(
  lines: readonly string[],
  comment: string,
): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  let open: { line: number; text: string } | undefined;
  lines.forEach((raw, i) => {
    let text = raw;
    if (open && comment !== '') text = text.replace(/^\s*#/, '');
    const cont = /\\\s*$/.test(text);
    if (cont) text = text.replace(/\\\s*$/, ' ');
    open = open ? { line: open.line, text: open.text + text } : { line: i + 1, text };
    if (!cont) {
      out.push(open);
      open = undefined;
    }
  });
  if (open) out.push(open);
  return out;
}

/** Lines of code in a Markdown file: fenced blocks whole, and inline `code` spans. */
function markdownCode(file: string): Array<{ line: number; text: string; inline?: boolean }> {
  const out: Array<{ line: number; text: string; inline?: boolean }> = [];
  let fenced = false;
  let block: string[] = [];
  let start = 0;
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (/^\s*```/.test(line)) {
        if (fenced)
          for (const l of joinContinued(block, ''))
            out.push({ line: start + l.line, text: l.text });
        fenced = !fenced;
        block = [];
        start = i + 1;
        return;
      }
      if (fenced) block.push(line);
      else
        for (const m of line.matchAll(/`([^`]+)`/g))
          out.push({ line: i + 1, text: m[1] ?? '', inline: true });
    });
  return out;
}

/** Every line (YAML comments are the onboarding guide); in shell scripts, not the comments. */
function plainLines(file: string): Array<{ line: number; text: string }> {
  return joinContinued(
    readFileSync(file, 'utf8').split('\n'),
    file.endsWith('.sh') ? '' : '#',
  ).filter(({ text }) => !(file.endsWith('.sh') && /^\s*#/.test(text)));
}

/** Shell and template placeholders: ${NODE}, $NODE, {{node}}. */
function unplaceholder(text: string): string {
  return text
    .replace(/\$\{[^}]*\}/g, 'pluto')
    .replace(/\{\{[^}]*\}\}/g, 'pluto')
    .replace(/\$[A-Z_]+/g, 'pluto');
}

function collect(): Hint[] {
  const sources: Array<
    [string, (f: string) => Array<{ line: number; text: string; inline?: boolean }>]
  > = [
    ...files(join(ROOT, 'src'), /\.tsx?$/).map((f) => [f, literals] as [string, typeof literals]),
    ...[
      ...files(join(ROOT, 'scripts/deploy'), /\.sh$/),
      ...files(join(ROOT, 'scripts/bootstrap'), /\.sh$/),
      ...files(join(ROOT, 'inventory/templates'), /\.ya?ml$/),
      join(ROOT, 'inventory/topology.yaml'),
      ...files(join(ROOT, 'templates/homelab'), /\.ya?ml$/),
    ].map((f) => [f, plainLines] as [string, typeof plainLines]),
    ...[
      join(ROOT, 'README.md'),
      ...files(join(ROOT, 'docs'), /\.md$/),
      ...files(join(ROOT, 'prompts'), /\.md$/),
      ...files(join(ROOT, 'templates/homelab'), /\.md$/),
    ].map((f) => [f, markdownCode] as [string, typeof markdownCode]),
  ];
  const hints: Hint[] = [];
  for (const [file, read] of sources)
    for (const { line, text, inline } of read(file)) {
      const filled = unplaceholder(text);
      for (const f of found(inline ? `\`${filled}\`` : filled))
        hints.push({
          at: `${relative(ROOT, file)}:${line}`,
          text: ['homelab', ...f.argv].join(' '),
          argv: f.argv,
          bare: f.bare,
          ...(f.mention ? { mention: true } : {}),
        });
    }
  return hints;
}

async function parseError(argv: readonly string[]): Promise<string | undefined> {
  try {
    await parseCommandLine(argv);
    return undefined;
  } catch (err) {
    return err instanceof UsageError ? `usage: ${err.message}` : String(err);
  }
}

describe('every command a hint, the help or the docs suggest', () => {
  const hints = collect();

  it('is found in each kind of place', () => {
    const from = (prefix: string): number => hints.filter((h) => h.at.startsWith(prefix)).length;
    expect(hints.length).toBeGreaterThan(100);
    expect(from('README.md')).toBeGreaterThan(10);
    expect(from('src/cli/help.ts')).toBeGreaterThan(10);
    expect(from('src/shell/onboarding/next-steps.ts')).toBeGreaterThan(3);
    expect(from('src/tui/')).toBeGreaterThan(0);
    expect(from('scripts/deploy/')).toBeGreaterThan(3);
    expect(from('docs/')).toBeGreaterThan(5);
    expect(from('prompts/')).toBeGreaterThan(0);
    // The recover prompt's old hint (issue 12) is no longer anywhere.
    expect(hints.filter((h) => /^homelab run [a-z][\w-]* (prepare|deploy)\b/.test(h.text))).toEqual(
      [],
    );
  });

  it('parses with the real argument parser', async () => {
    const bad: string[] = [];
    const gaps = new Set<(typeof KNOWN_GAPS)[number]>();
    for (const h of hints) {
      const why = await parseError(h.mention ? [h.argv[0] ?? '', '--help'] : h.argv);
      if (why === undefined || (await parseError(h.bare)) === undefined) continue;
      const gap = KNOWN_GAPS.find((g) => g.text.test(h.text));
      if (gap) gaps.add(gap);
      else bad.push(`${h.at}: ${h.text}\n    ${why}`);
    }
    expect(bad).toEqual([]);
    // A gap that no longer fails is fixed: take it off the list.
    expect(KNOWN_GAPS.filter((g) => !gaps.has(g)).map((g) => g.why)).toEqual([]);
  });

  it('would catch a wrong hint: the parser refuses what the CLI refuses', async () => {
    for (const wrong of [
      'run nua-alpha prepare',
      'run prepare',
      'run prepare --node',
      'status --nodes pluto',
      'node rm pluto',
      'node bootstrap',
      'node remove-service pluto',
      'scripts upgrade',
      'init a b',
      'init --node pluto',
      'validate --fix',
      'frobnicate',
    ]) {
      expect(await parseError(wrong.split(' ')), wrong).toBeDefined();
    }
    for (const right of [
      'homelab',
      'homelab --version',
      'homelab status --help',
      'homelab run prepare --node pluto --yes',
      'homelab node remove-service pluto web',
      'homelab --verbose status --node pluto',
    ]) {
      const argv = hintsIn(right)[0] ?? ['?'];
      expect(await parseError(argv), right).toBeUndefined();
    }
  });

  it('reads hints the way a person would', () => {
    expect(hintsIn('prepare first (homelab run prepare --node pluto)')).toEqual([
      ['run', 'prepare', '--node', 'pluto'],
    ]);
    expect(hintsIn('homelab run: deploy changes pluto')).toEqual([]);
    expect(hintsIn('the homelab repo carries scripts/')).toEqual([]);
    expect(hintsIn('homelab status [--json] [--node N]...    probes')).toEqual([
      ['status', '--json', '--node', 'n'],
    ]);
    expect(hintsIn('homelab run <stage> --node N [--yes]')).toEqual([
      ['run', 'prepare', '--node', 'n', '--yes'],
    ]);
    expect(hintsIn('`homelab scripts status|update`')).toEqual([['scripts', 'status']]);
    expect(hintsIn('a && homelab run deploy --node x && homelab run verify --node x')).toEqual([
      ['run', 'deploy', '--node', 'x'],
      ['run', 'verify', '--node', 'x'],
    ]);
  });
});
