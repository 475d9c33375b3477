// A parsed YAML file with positions: turns a field path (['nodes', 'solaria', 'services', 1]) into the
// line and column of the node a user has to look at, and reports syntax errors and duplicate keys.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import type { Problem } from '../problem.js';

export type PathSegment = string | number;
export type FieldPath = readonly PathSegment[];

export interface Position {
  readonly line: number;
  readonly col: number;
}

export const NO_POSITION: Position = { line: 0, col: 0 };

/**
 * YAML files larger than this are refused before they are parsed (the largest real topology or
 * compose file is a few tens of kilobytes).
 */
export const MAX_YAML_BYTES = 1024 * 1024;

/**
 * The yaml library's bound on alias expansion (aliases resolved × the aliases inside each): real
 * files share one anchor among hundreds of nodes (150 × `<<: *node` is 150); a "billion laughs"
 * file needs millions and fails at once.
 */
export const MAX_ALIAS_COUNT = 10_000;

/** The problem for a YAML file over MAX_YAML_BYTES. */
export function tooLargeProblem(file: string, bytes: number): Problem {
  return {
    file,
    line: 0,
    col: 0,
    field: '',
    message:
      `${bytes} bytes is too large to be checked (at most ${MAX_YAML_BYTES} bytes): a homelab's YAML files are ` +
      'far smaller, so split it or remove what does not belong there',
  };
}

/** `nodes.solaria.services[1]` */
export function formatField(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** The inverse of formatField for names without dots or brackets. */
export function parseField(field: string): PathSegment[] {
  const out: PathSegment[] = [];
  for (const part of field.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return out;
    if (m[1]) out.push(m[1]);
    for (const idx of (m[2] ?? '').matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

interface Found {
  /** The deepest node reached along the path. */
  readonly node: YamlNode | null;
  /** The pair holding that node, when it is a map value. */
  readonly pair: Pair | undefined;
  /** How many segments of the path were followed. */
  readonly depth: number;
}

function keyText(pair: Pair): string | undefined {
  const k = pair.key;
  if (isScalar(k)) return String(k.value);
  return typeof k === 'string' || typeof k === 'number' ? String(k) : undefined;
}

/** Deeper `[`/`{` or `- - -` nesting is refused before parsing: the yaml library needs seconds for 10^5 levels. */
export const MAX_FLOW_DEPTH = 64;

/** Offset where flow nesting (`[`, `{` outside quotes and comments) first goes past the limit. */
function tooDeepAt(text: string): number | undefined {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== '') {
      if (c === quote) quote = '';
      else if (c === '\n' && depth === 0) quote = '';
      continue;
    }
    if (c === '"' || c === "'") {
      const prev = text[i - 1] ?? ' ';
      if (depth > 0 || /[\s:[{,-]/.test(prev)) quote = c;
    } else if (c === '#' && /\s/.test(text[i - 1] ?? '\n')) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '-' && (i === 0 || text[i - 1] === '\n')) {
      // `- - - - x`: compact block sequences nest one level per dash.
      const m = /^(?:-[ \t]+)+/.exec(text.slice(i, i + 4 * (MAX_FLOW_DEPTH + 1)));
      if (m && m[0].replace(/[ \t]/g, '').length > MAX_FLOW_DEPTH) return i;
    } else if (c === '[' || c === '{') {
      if (++depth > MAX_FLOW_DEPTH) return i;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}

export class YamlSource {
  readonly doc: Document.Parsed;
  private readonly lines: LineCounter;
  /** Set when the text was refused before parsing (nesting too deep). */
  private readonly refused: Problem | undefined;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.lines = new LineCounter();
    const deep = tooDeepAt(text);
    if (deep !== undefined) {
      this.doc = parseDocument('', { lineCounter: new LineCounter() });
      const before = text.slice(0, deep);
      const line = before.split('\n').length;
      const col = deep - before.lastIndexOf('\n');
      this.refused = {
        file,
        line,
        col,
        field: '',
        message: `YAML nested more than ${MAX_FLOW_DEPTH} levels deep: no homelab file needs that; flatten it`,
      };
      return;
    }
    this.refused = undefined;
    this.doc = parseDocument(text, {
      lineCounter: this.lines,
      prettyErrors: false,
      uniqueKeys: false,
      merge: true, // `<<: *node`, as Compose and most YAML tools read it
    });
  }

  pos(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }

  problem(at: Position, field: string, message: string): Problem {
    return { file: this.file, line: at.line, col: at.col, field, message };
  }

  /** Syntax errors (duplicate keys are reported by duplicateKeys, with their field path). */
  syntaxProblems(): Problem[] {
    if (this.refused) return [this.refused];
    const errors = this.doc.errors.map((e) =>
      this.problem(this.pos(e.pos[0]), '', `YAML syntax error: ${firstLine(e.message)}`),
    );
    if (errors.length > 0) return errors;
    try {
      this.value(); // aliases that expand too far (a "billion laughs" file) fail here
    } catch (err) {
      return [
        this.problem(
          { line: 1, col: 1 },
          '',
          `YAML error: ${firstLine(err instanceof Error ? err.message : String(err))}`,
        ),
      ];
    }
    return [];
  }

  /** The JavaScript value of the document (call takeDuplicateKeys first: later duplicates are dropped). */
  value(): unknown {
    return this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  }

  private follow(path: FieldPath): Found {
    let node: YamlNode | null = this.doc.contents ?? null;
    let pair: Pair | undefined;
    let depth = 0;
    for (const seg of path) {
      if (isMap(node) && typeof seg === 'string') {
        const hit = node.items.find((p) => keyText(p) === seg);
        if (!hit) break;
        pair = hit;
        node = (hit.value as YamlNode | null) ?? null;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        pair = undefined;
        node = item as YamlNode;
      } else break;
      depth++;
    }
    return { node, pair, depth };
  }

  private nodeStart(node: YamlNode | null): Position | undefined {
    return node?.range ? this.pos(node.range[0]) : undefined;
  }

  /** Position of the key of the last pair on the path (for unknown and duplicate keys). */
  keyPosition(path: FieldPath): Position {
    const f = this.follow(path);
    if (f.depth === path.length && f.pair && isScalar(f.pair.key) && f.pair.key.range)
      return this.pos(f.pair.key.range[0]);
    return this.position(path);
  }

  /**
   * Where to point for a problem at `path`: the value when it exists (its key when the value is
   * empty), else the key of the deepest existing parent (a required field is missing there).
   */
  position(path: FieldPath): Position {
    const f = this.follow(path);
    const empty =
      f.node === null ||
      (isScalar(f.node) && f.node.value === null && f.node.range?.[0] === f.node.range?.[1]);
    if (!empty) return this.nodeStart(f.node) ?? { line: 1, col: 1 };
    if (f.pair && isScalar(f.pair.key) && f.pair.key.range) return this.pos(f.pair.key.range[0]);
    return { line: 1, col: 1 };
  }

  /**
   * The field to name for a problem at `path`: cut where the document holds a scalar that a
   * schema expanded (a service written as a plain string), so the field names what the user wrote.
   */
  fieldFor(path: FieldPath): string {
    const f = this.follow(path);
    if (f.depth < path.length && isScalar(f.node) && f.node.value !== null)
      return formatField(path.slice(0, f.depth));
    return formatField(path);
  }

  /** Pairs of a map at `path` (empty when it is not a map). */
  pairsAt(path: FieldPath): Array<{ key: string; keyPos: Position; value: YamlNode | null }> {
    const f = this.follow(path);
    if (f.depth !== path.length || !isMap(f.node)) return [];
    return f.node.items.flatMap((p) => {
      const key = keyText(p);
      if (key === undefined) return [];
      const kp = isScalar(p.key) && p.key.range ? this.pos(p.key.range[0]) : { line: 1, col: 1 };
      return [{ key, keyPos: kp, value: (p.value as YamlNode | null) ?? null }];
    });
  }

  /**
   * Every key that appears twice in the same map, reported at the second (and later) occurrence.
   * The later pairs are then dropped from the document, so the first definition is the one
   * checked further (its problems are reported too) and value() and positions agree.
   */
  takeDuplicateKeys(
    describe: (path: FieldPath, key: string, firstLine: number) => string,
  ): Problem[] {
    const out: Problem[] = [];
    const walk = (node: unknown, path: PathSegment[]): void => {
      if (isMap(node)) {
        const seen = new Map<string, number>();
        const later: Pair[] = [];
        for (const p of node.items) {
          const key = keyText(p);
          if (key === undefined) continue;
          const kp =
            isScalar(p.key) && p.key.range ? this.pos(p.key.range[0]) : { line: 1, col: 1 };
          const first = seen.get(key);
          if (first !== undefined) {
            out.push(this.problem(kp, formatField([...path, key]), describe(path, key, first)));
            later.push(p);
            continue;
          }
          seen.set(key, kp.line);
          walk(p.value, [...path, key]);
        }
        if (later.length > 0) node.items = node.items.filter((p) => !later.includes(p));
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => walk(item, [...path, i]));
      } else if (isPair(node)) {
        walk(node.value, path);
      }
    };
    walk(this.doc.contents, []);
    return out;
  }
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}
