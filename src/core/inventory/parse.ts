// inventory/topology.yaml → the resolved Inventory, or every problem at once with its position.
import type { core } from 'zod';
import type { Problem } from '../problem.js';
import { compareProblems } from '../problem.js';
import type { Inventory } from './model.js';
import { resolveInventory } from './resolve.js';
import { knownKeysAt, topologySchema } from './schema.js';
import { hideSecrets, scanText } from './secret-scan.js';
import { didYouMean } from './suggest.js';
import { checkTopology, duplicateKeyMessage } from './topology-checks.js';
import type { FieldPath, Position } from './yaml-source.js';
import {
  formatField,
  MAX_YAML_BYTES,
  NO_POSITION,
  parseField,
  tooLargeProblem,
  YamlSource,
} from './yaml-source.js';
import { scalarText } from './scalar-text.js';

export const TOPOLOGY_FILE = 'inventory/topology.yaml';
/** The most schema problems reported for one file. */
const MAX_ISSUES = 200;

export interface ParseResult {
  /** Undefined whenever there is any problem. */
  readonly inventory: Inventory | undefined;
  /** Sorted by position. */
  readonly problems: Problem[];
  /** Where a field (`nodes.solaria.services[1]`) is written in the file; for checks made later. */
  readonly locate: (field: string) => Position;
}

function valueAt(raw: unknown, path: FieldPath): unknown {
  let v = raw;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (an empty value)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the text ${JSON.stringify(v)}`;
  if (typeof v === 'boolean') return `${v}`;
  return `the number ${scalarText(v)}`;
}

const EXPECTED: Record<string, string> = {
  object: 'a map (key: value lines)',
  record: 'a map (key: value lines)',
  array: 'a list (- item lines)',
  string: 'a text value',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function issueMessage(iss: core.$ZodIssue, raw: unknown): string {
  const value = valueAt(raw, iss.path as FieldPath);
  switch (iss.code) {
    case 'invalid_type': {
      const last = iss.path[iss.path.length - 1];
      if ((value === undefined || value === null) && iss.path.length === 0)
        return 'the file is empty: start from the example in the README';
      if (value === undefined && typeof last === 'string') return `missing required key "${last}"`;
      return `expected ${EXPECTED[iss.expected] ?? iss.expected}, got ${describe(value)}`;
    }
    case 'invalid_value': {
      const options = iss.values.map(String);
      const shown = typeof value === 'string' ? JSON.stringify(value) : describe(value);
      const hint = typeof value === 'string' ? didYouMean(value, options) : '';
      return `${shown} is not one of ${options.join(', ')}${hint}`;
    }
    case 'too_small':
      if (iss.origin === 'number')
        return `${String(value)} is too small: must be at least ${String(iss.minimum)}`;
      return iss.message;
    case 'too_big':
      if (iss.origin === 'number')
        return `${String(value)} is too big: must be at most ${String(iss.maximum)}`;
      if (iss.origin === 'array' && Array.isArray(value))
        return `${value.length} items are too many here: at most ${String(iss.maximum)}`;
      return iss.message;
    default:
      return iss.message;
  }
}

function issueProblems(src: YamlSource, iss: core.$ZodIssue, raw: unknown): Problem[] {
  const path = iss.path as FieldPath;
  if (iss.code === 'unrecognized_keys') {
    const valid = knownKeysAt(path);
    return iss.keys.map((key) => {
      const keyPath = [...path, key];
      const hint = didYouMean(key, valid) || ` (valid keys here: ${valid.join(', ')})`;
      return src.problem(
        src.keyPosition(keyPath),
        formatField(keyPath),
        `unknown key "${key}"${hint}`,
      );
    });
  }
  const missing = valueAt(raw, path) === undefined && path.length > 0;
  const pos = missing ? src.keyPosition(path.slice(0, -1)) : src.position(path);
  return [src.problem(pos, src.fieldFor(path), issueMessage(iss, raw))];
}

/** Sorted by position, duplicates dropped, and no secret value quoted in any message. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems
    .map(hideSecrets)
    .sort(compareProblems)
    .filter((p) => {
      const k = `${p.file}\0${p.line}\0${p.col}\0${p.field}\0${p.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}

/** Top-level `x-...` keys hold YAML anchors to share (`x-node: &node`), as in compose files. */
function withoutExtensions(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  return Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('x-')));
}

export function parseTopology(text: string, file = TOPOLOGY_FILE): ParseResult {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_YAML_BYTES)
    return {
      inventory: undefined,
      problems: [tooLargeProblem(file, bytes)],
      locate: () => NO_POSITION,
    };
  const src = new YamlSource(file, text);
  const locate = (field: string): Position => src.position(parseField(field));
  const secrets = scanText(
    file,
    text,
    { configDir: '<root>/config/<service>', envFile: '<root>/config/<service>/.env' },
    'topology',
  );
  const syntax = src.syntaxProblems();
  if (syntax.length > 0)
    return { inventory: undefined, problems: sortProblems([...secrets, ...syntax]), locate };

  const duplicates = src.takeDuplicateKeys(duplicateKeyMessage);
  const raw = src.value();
  const problems = [...secrets, ...duplicates, ...checkTopology(src, raw)];
  const parsed = topologySchema.safeParse(withoutExtensions(raw));
  if (!parsed.success)
    // A file with thousands of wrong keys gets the first MAX_ISSUES: each costs a position lookup.
    problems.push(
      ...parsed.error.issues
        .slice(0, MAX_ISSUES)
        .map((iss) =>
          iss.code === 'unrecognized_keys' ? { ...iss, keys: iss.keys.slice(0, MAX_ISSUES) } : iss,
        )
        .flatMap((iss) => issueProblems(src, iss, raw))
        .slice(0, MAX_ISSUES),
    );
  if (problems.length > 0 || !parsed.success)
    return { inventory: undefined, problems: sortProblems(problems), locate };
  return { inventory: resolveInventory(parsed.data), problems: [], locate };
}
