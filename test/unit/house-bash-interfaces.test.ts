// The node libraries talk through globals: each scripts/deploy/lib/*.sh says in its header what it
// provides (the functions it defines), what it sets (the upper-case globals it assigns) and what it
// reads from elsewhere (upper-case globals and environment it uses but does not set). This test
// reads the same three lists from the code and fails when a header and its file disagree.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const LIB = resolve(import.meta.dirname, '../../scripts/deploy/lib');

const BUILTIN = new Set(
  'BASH_SOURCE BASHPID PIPESTATUS FUNCNAME LINENO BASH_REMATCH EPOCHREALTIME EPOCHSECONDS IFS PATH HOME USER RANDOM SECONDS PWD EUID UID OPTARG OPTIND BASH_SUBSHELL BASH_COMMAND PPID HOSTNAME TMPDIR BASH_VERSION BASH_LINENO LANG LC_ALL TERM SHELL'.split(
    ' ',
  ),
);

interface Iface {
  readonly provides: string[];
  readonly sets: string[];
  readonly reads: string[];
}

const all = (re: RegExp, text: string, group = 1): string[] =>
  [...text.matchAll(re)].map((m) => m[group] ?? '');

/** The interface as the code has it (comment lines left out). */
function fromCode(text: string): Iface {
  const body = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n');
  const provides = new Set(all(/^\s*(?:function\s+)?([a-z_][a-z0-9_]*)\s*\(\)\s*\{/gm, body));
  const local = new Set<string>();
  for (const decl of all(/\blocal\s+(?:-[a-zA-Z]+\s+)*([^;|&\n]*)/g, body))
    for (const w of all(/\b([A-Z][A-Z0-9_]+)\b(?==|\s|$)/g, decl)) local.add(w);
  const sets = new Set([
    ...all(/(?:^|[\s;(&|])([A-Z][A-Z0-9_]+)(?:\[[^\]]*\])?\+?=/gm, body),
    ...all(/\b(?:declare|readonly|typeset)\s+(?:-[a-zA-Z]+\s+)*([A-Z][A-Z0-9_]+)/g, body),
  ]);
  for (const l of local) sets.delete(l);
  const reads = new Set(all(/\$\{?[#!]?([A-Z][A-Z0-9_]+)/g, body));
  for (const x of [...sets, ...local, ...BUILTIN]) reads.delete(x);
  for (const b of BUILTIN) sets.delete(b);
  const sorted = (s: Set<string>): string[] => [...s].sort();
  return { provides: sorted(provides), sets: sorted(sets), reads: sorted(reads) };
}

/** The interface the header states, or undefined when it has none. */
function fromHeader(text: string): Iface | undefined {
  const lines = text.split('\n');
  if (!lines.some((l) => l.startsWith('# Interface ('))) return undefined;
  const start = lines.findIndex((l) => /^#\s+provides:/.test(l)) - 1;
  const lists: Record<string, string[]> = { provides: [], sets: [], reads: [] };
  let current: string | undefined;
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('#   ') && !line.startsWith('#    ')) break;
    const m = /^#\s+(provides|sets|reads):(.*)$/.exec(line);
    if (m) current = m[1];
    const words = (m ? (m[2] ?? '') : line.slice(1)).split(/\s+/).filter((w) => w && w !== '-');
    if (current) lists[current]?.push(...words);
  }
  return {
    provides: lists.provides ?? [],
    sets: lists.sets ?? [],
    reads: lists.reads ?? [],
  };
}

/** The header block for an interface (what to paste when the test says it differs). */
function render(i: Iface): string {
  const out = [
    '# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,',
    '# the globals it sets, the globals and environment it reads from elsewhere):',
  ];
  for (const [label, words] of [
    ['provides', i.provides],
    ['sets', i.sets],
    ['reads', i.reads],
  ] as const) {
    let cur = `#   ${label}:`;
    if (words.length === 0) cur += ' -';
    for (const w of words) {
      if (cur.length + 1 + w.length > 100) {
        out.push(cur);
        cur = '#    ';
      }
      cur += ` ${w}`;
    }
    out.push(cur);
  }
  return out.join('\n');
}

const files = readdirSync(LIB)
  .filter((f) => f.endsWith('.sh'))
  .sort();

describe('the interface of each node library', () => {
  it('is read from the code (a sanity check of the reader)', () => {
    const state = fromCode(readFileSync(join(LIB, 'state.sh'), 'utf8'));
    expect(state.provides).toContain('state_get_to');
    expect(state.sets).toContain('STATE_CHECK_ERROR');
    const manifest = fromCode(readFileSync(join(LIB, 'manifest.sh'), 'utf8'));
    expect(manifest.sets).toEqual(expect.arrayContaining(['MANIFEST_SERVICES', 'MANIFEST_ERROR']));
    const verify = fromCode(readFileSync(join(LIB, 'verify.sh'), 'utf8'));
    expect(verify.reads).toContain('MANIFEST_SERVICES');
    expect(verify.sets).toContain('VERIFY_DETAIL');
    expect(verify.reads).not.toContain('VERIFY_DETAIL');
  });

  it.each(files)('%s states what it provides, sets and reads', (file) => {
    const text = readFileSync(join(LIB, file), 'utf8');
    const code = fromCode(text);
    const header = fromHeader(text);
    if (process.env.HOMELAB_PRINT_INTERFACES) console.log(`== ${file}\n${render(code)}`);
    expect(header ? render(header) : `(no "# Interface (" header in ${file})`).toBe(render(code));
  });
});
