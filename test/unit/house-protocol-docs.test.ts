// docs/protocol.md, the parser (src/core/protocol/parse.ts) and the node (scripts/deploy) kept
// together: every event and field the parser reads is documented, every documented event and field
// is emitted somewhere in scripts/deploy (`emit <event> key value ...`), and every emitted one is
// documented. Read from the sources themselves: the parser's AST, the doc's tables, the bash `emit`
// statements.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

type Fields = Map<string, Set<string>>;

function add(map: Fields, event: string, field: string): void {
  const set = map.get(event) ?? new Set<string>();
  set.add(field);
  map.set(event, set);
}

// --- the parser -------------------------------------------------------------------------------------

/** Fields read in `node` as `<param>.<field>` (o.stage, v.pid, c.name). */
function accessedFields(node: ts.Node, params: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (
      ts.isPropertyAccessExpression(n) &&
      ts.isIdentifier(n.expression) &&
      params.has(n.expression.text)
    )
      out.push(n.name.text);
    ts.forEachChild(n, visit);
  };
  visit(node);
  return out;
}

/** Event -> fields the parser reads; the status record's nested objects count as its fields. */
function parserFields(): Fields {
  const file = 'src/core/protocol/parse.ts';
  const source = ts.createSourceFile(file, read(file), ts.ScriptTarget.ES2022, true);
  const fields: Fields = new Map();
  const statusParts = new Set(['statusRecord', 'lockHolder', 'serviceStatus']);
  let sawBuilders = false;
  ts.forEachChild(source, (n) => {
    if (ts.isVariableStatement(n)) {
      for (const d of n.declarationList.declarations) {
        if (!ts.isIdentifier(d.name) || d.name.text !== 'builders') continue;
        if (!d.initializer || !ts.isObjectLiteralExpression(d.initializer)) continue;
        sawBuilders = true;
        for (const p of d.initializer.properties) {
          if (!ts.isPropertyAssignment(p)) continue;
          const event = ts.isStringLiteral(p.name) ? p.name.text : p.name.getText(source);
          fields.set(event, new Set(['ts', ...accessedFields(p.initializer, new Set(['o']))]));
        }
      }
    }
    if (ts.isFunctionDeclaration(n) && n.name && statusParts.has(n.name.text))
      for (const f of accessedFields(n, new Set(['o', 'v', 'c']))) add(fields, 'status', f);
  });
  expect(sawBuilders, `${file}: no \`builders\` table found; update this test`).toBe(true);
  return fields;
}

// --- the doc ----------------------------------------------------------------------------------------

/** The rows of the first Markdown table after `heading`, as cells. */
function tableAfter(doc: string, heading: string): string[][] {
  const at = doc.indexOf(`\n${heading}\n`);
  expect(at, `docs/protocol.md has no "${heading}"`).toBeGreaterThanOrEqual(0);
  const lines = doc.slice(at).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim()),
    );
  }
  return rows;
}

/** Backticked names in a cell, without the ones in parentheses (those are values). */
function namesIn(cell: string): string[] {
  let text = cell;
  for (let prev = ''; prev !== text;) {
    prev = text;
    text = text.replace(/\([^()]*\)/g, '');
  }
  return [...text.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] ?? '');
}

function docFields(doc: string): Fields {
  const fields: Fields = new Map();
  for (const [eventCell = '', fieldsCell = ''] of tableAfter(doc, '## Events')) {
    const event = /^`([a-z-]+)`$/.exec(eventCell)?.[1];
    expect(event, `an Events row without an event: ${eventCell}`).toBeDefined();
    fields.set(event ?? '', new Set(['ts'])); // "Every record has `ts`"
    if (event !== 'status') for (const f of namesIn(fieldsCell)) add(fields, event ?? '', f);
  }
  for (const [fieldCell = '', meaning = ''] of tableAfter(doc, '## The status record')) {
    for (const f of namesIn(fieldCell)) add(fields, 'status', f);
    // Nested objects name their fields in the meaning: { "pid", ... } and `name`, `project`, ...
    if (fieldCell === '`lock`')
      for (const m of meaning.matchAll(/"([a-z_]+)"/g)) add(fields, 'status', m[1] ?? '');
    if (fieldCell === '`services`') for (const f of namesIn(meaning)) add(fields, 'status', f);
  }
  return fields;
}

/** The values a doc row lists in parentheses after a field: `check` (`health`, `http`, `tcp`). */
function docValues(doc: string, event: string, field: string): string[] {
  const row = tableAfter(doc, '## Events').find(([e]) => e === `\`${event}\``);
  const m = new RegExp(`\`${field}\` \\(([^)]*)\\)`).exec(row?.[1] ?? '');
  return [...(m?.[1] ?? '').matchAll(/`([a-z-]+)`/g)].map((v) => v[1] ?? '');
}

// --- the node ---------------------------------------------------------------------------------------

function shellFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? shellFiles(join(dir, e.name))
      : e.name.endsWith('.sh')
        ? [join(dir, e.name)]
        : [],
  );
}

/** Shell words of a line, roughly: quoted strings (with $(...) and ${...} inside) and bare words. */
function words(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i] ?? '')) {
      i++;
      continue;
    }
    if (text[i] === '#') break;
    let word = '';
    let depth = 0;
    let quote = '';
    for (; i < text.length; i++) {
      const c = text[i] ?? '';
      if (!quote && depth === 0 && /\s/.test(c)) break;
      if (c === '\\') {
        word += c + (text[i + 1] ?? '');
        i++;
        continue;
      }
      if (quote) {
        if (c === quote && depth === 0) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      if (quote !== "'") {
        if (c === '(' || c === '{') depth++;
        if ((c === ')' || c === '}') && depth > 0) depth--;
      }
      word += c;
    }
    out.push(word);
  }
  return out;
}

/** Keys of a `key value key value` list; an array expansion "${a[@]}" adds that array's keys. */
function keysOf(args: readonly string[], arrays: ReadonlyMap<string, string[]>): string[] {
  const keys: string[] = [];
  let expectKey = true;
  for (const w of args) {
    const spread = /^"\$\{([A-Za-z_]+)\[@\]\}"$/.exec(w);
    if (spread) {
      keys.push(...(arrays.get(spread[1] ?? '') ?? []));
      continue;
    }
    if (expectKey) keys.push(w.replace(/:[nj]$/, ''));
    expectKey = !expectKey;
  }
  return keys;
}

interface Emitted {
  readonly fields: Fields;
  /** Literal values of emit check's `check` field. */
  readonly checkKinds: Set<string>;
}

function emitted(): Emitted {
  const fields: Fields = new Map();
  const checkKinds = new Set<string>();
  for (const file of shellFiles('scripts/deploy')) {
    const lines = read(file)
      .replace(/\\\n/g, ' ')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => !l.startsWith('#'));
    // Arrays built as key/value pairs: name=(k "v" ...) and name+=(k "v").
    const arrays = new Map<string, string[]>();
    for (const l of lines) {
      const m = /(?:^|\s)([A-Za-z_]+)\+?=\((.*)\)\s*(?:;.*)?$/.exec(l);
      if (m) {
        const name = m[1] ?? '';
        arrays.set(name, [...(arrays.get(name) ?? []), ...keysOf(words(m[2] ?? ''), new Map())]);
      }
    }
    for (const l of lines) {
      const m = /(?:^|[\s;&|(])emit ([a-z][a-z-]*) (.*)$/.exec(l);
      if (m && !l.startsWith('emit()')) {
        const event = m[1] ?? '';
        const args = words(m[2] ?? '');
        add(fields, event, 'ts'); // emit adds ts to every record
        for (const k of keysOf(args, arrays)) add(fields, event, k);
        if (event === 'check') {
          const at = args.indexOf('check');
          const kind = args[at + 1] ?? '';
          if (/^[a-z]+$/.test(kind)) checkKinds.add(kind);
        }
      }
      // The status record's nested objects (services, containers, the lock holder).
      const j = /^json_obj_to ([A-Za-z_]+) (.*)$/.exec(l);
      if (j && file.match(/(status|lock)\.sh$/))
        for (const k of keysOf(words(j[2] ?? ''), arrays)) add(fields, 'status', k);
    }
  }
  // verify's http/tcp checks come from the manifest's check records: the kinds manifest.sh accepts.
  const manifest = read('scripts/deploy/lib/manifest.sh');
  const accepted = /^\s*([a-z |]+)\) MANIFEST_CHECKS\+=/m.exec(manifest)?.[1] ?? '';
  for (const k of accepted.split('|')) if (k.trim()) checkKinds.add(k.trim());
  return { fields, checkKinds };
}

// --- the checks ---------------------------------------------------------------------------------------

describe('docs/protocol.md against the parser and the node', () => {
  const doc = read('docs/protocol.md');
  const documented = docFields(doc);
  const parsed = parserFields();
  const node = emitted();

  const missing = (from: Fields, to: Fields): string[] =>
    [...from].flatMap(([event, fs]) =>
      to.has(event)
        ? [...fs].filter((f) => !to.get(event)?.has(f)).map((f) => `${event}.${f}`)
        : [event],
    );

  it('reads all three (a sanity check of the readers)', () => {
    expect([...parsed.keys()].sort()).toEqual(
      [
        'check',
        'confirm',
        'finding',
        'history',
        'image',
        'resources',
        'run',
        'run-end',
        'stage-end',
        'stage-start',
        'status',
        'step',
      ].sort(),
    );
    expect(parsed.get('step')).toEqual(
      new Set(['ts', 'stage', 'step', 'status', 'service', 'detail', 'duration_ms']),
    );
    expect(documented.get('status')?.has('known_good')).toBe(true);
    expect(documented.get('status')?.has('since')).toBe(true);
    expect(node.fields.get('finding')).toEqual(
      new Set(['ts', 'id', 'severity', 'summary', 'evidence', 'hint', 'service']),
    );
    expect(node.fields.get('step')?.has('duration_ms')).toBe(true);
  });

  it('documents every event and field the parser knows', () => {
    expect(missing(parsed, documented)).toEqual([]);
  });

  it('documents only events and fields that scripts/deploy emits', () => {
    expect(missing(documented, node.fields)).toEqual([]);
  });

  it('documents every event and field that scripts/deploy emits', () => {
    expect(missing(node.fields, documented)).toEqual([]);
  });

  it('lists exactly the check kinds verify emits', () => {
    expect(docValues(doc, 'check', 'check').sort()).toEqual([...node.checkKinds].sort());
  });
});
