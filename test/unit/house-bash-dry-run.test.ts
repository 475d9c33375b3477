// Dry run is one decision: the stages (scripts/deploy/lib/stages.sh) run every step that changes the
// node through `act` and a check a real run stops on through `stop_or_plan` (lib/act.sh), the only
// two places that test DRY_RUN. This test counts the tests, so branch-per-line dry-run code cannot
// grow back, and keeps the stage functions short lists of steps. The dry-run records themselves are
// checked on a real node by pipeline, recovery and dry-run-without-docker (test/integration/deploy).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const LIB = resolve(import.meta.dirname, '../../scripts/deploy/lib');

/** The file's code: comment lines and trailing ` # ...` comments left out. */
function code(file: string): string {
  return readFileSync(resolve(LIB, file), 'utf8')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .map((l) => l.replace(/\s#\s.*$/, ''))
    .join('\n');
}

const dryRunTests = (text: string): number => (text.match(/\bDRY_RUN\b/g) ?? []).length;

/** Each top-level function of a bash file with its number of body lines. */
function functions(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let name: string | undefined;
  let start = 0;
  text.split('\n').forEach((line, i) => {
    const m = /^([a-z_][a-z0-9_]*)\(\) \{/.exec(line);
    if (m) {
      name = m[1];
      start = i;
    } else if (line === '}' && name) {
      out.set(name, i - start - 1);
      name = undefined;
    }
  });
  return out;
}

describe('dry run as one decision', () => {
  it('the counter sees a DRY_RUN test (a sanity check of the reader)', () => {
    expect(dryRunTests('  ((DRY_RUN)) || temp_files_clean\n  if ((!DRY_RUN)); then')).toBe(2);
    expect(dryRunTests(code('act.sh'))).toBeGreaterThan(0);
  });

  it('stages.sh leaves the decision to act.sh (at most one test of DRY_RUN of its own)', () => {
    // The one allowed: run_resume's pinned rollback (resume refuses --dry-run in parse_args).
    expect(dryRunTests(code('stages.sh'))).toBeLessThanOrEqual(1);
  });

  it('act.sh decides in two places: act and stop_or_plan', () => {
    expect(dryRunTests(code('act.sh'))).toBe(2);
  });

  it('the stage functions are short lists of steps, the steps short', () => {
    const fns = functions(readFileSync(resolve(LIB, 'stages.sh'), 'utf8'));
    for (const stage of ['stage_prepare', 'stage_deploy', 'stage_rollback_checkout', 'run_up']) {
      expect(fns.get(stage), stage).toBeLessThanOrEqual(25);
    }
    // run_resume reads current_stage and picks the pinned rollback's stages: a little longer.
    expect(fns.get('run_resume')).toBeLessThanOrEqual(50);
    const long = [...fns].filter(([name, n]) => n > 40 && name !== 'run_resume');
    expect(long).toEqual([]);
  });
});
