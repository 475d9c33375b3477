// Redaction of secrets from text that leaves a node or reaches a person or a model. Pure.
//
// The node replaces every value it knows (each .env key's value in every form Docker and Compose
// print it, and each literal of a host-local override's environment) before a text leaves it
// (scripts/deploy/lib/redact.sh). SATURN never sees those values; it applies the shape rules (anything
// that looks like a token, key or password, whatever its origin) to every text from a node on its
// way to a screen, a file or a model: `toScreen`. The shape rules are data, one list read by both:
// scripts/deploy/lib/redact-rules.json (bundled here by esbuild; no I/O at run time).
import RULES_FILE from '../../../scripts/deploy/lib/redact-rules.json' with { type: 'json' };

export const REDACTED = '[REDACTED]';

/** The node does not replace values shorter than this literally (`1`, `on` would shred the text). */
export const MIN_VALUE_LENGTH: number = RULES_FILE.minValueLength;

export interface RuleSpec {
  readonly name: string;
  readonly family: string;
  readonly pattern: string;
  readonly flags: string;
  /** `$1`..`$9` are capture groups, anything else literal. */
  readonly replace: string;
}

/** The shape rules as the shared file holds them, in the order they run. */
export const RULE_SPECS: readonly RuleSpec[] = RULES_FILE.rules;

export interface CompiledRule {
  readonly spec: RuleSpec;
  readonly re: RegExp;
}

/** Compiles rule specs (a test passes a subset to prove each family is needed). */
export function compileRules(specs: readonly RuleSpec[]): readonly CompiledRule[] {
  return specs.map((spec) => ({ spec, re: new RegExp(spec.pattern, `g${spec.flags}`) }));
}

const RULES = compileRules(RULE_SPECS);

function expand(template: string, groups: readonly (string | undefined)[]): string {
  return template.replace(/\$([1-9])/g, (_m, n: string) => groups[Number(n)] ?? '');
}

/** Replaces every credential-shaped text (the shared rule list). */
export function redact(text: string, rules: readonly CompiledRule[] = RULES): string {
  let out = text;
  for (const { spec, re } of rules) {
    out = out.replace(re, (...args: unknown[]) => {
      // args: match, g1..gN, offset, whole[, named groups]
      const end = args.findIndex((a, i) => i > 0 && typeof a === 'number');
      const groups = args.slice(0, end).map((a) => (typeof a === 'string' ? a : undefined));
      return expand(spec.replace, groups);
    });
  }
  return out;
}

// OSC (ESC ] ... BEL or ST: clipboard writes, titles, hyperlinks), DCS/SOS/PM/APC strings, CSI
// (ESC [ ... final: screen clears, cursor moves, colours), the 8-bit C1 forms, other two-byte escapes.
const ESCAPE_SEQUENCES =
  /(?:\x1b\]|\u009d)[^\x07\x1b\u009c]*(?:\x07|\x1b\\|\u009c)?|(?:\x1b[PX^_]|[\u0090\u0098\u009e\u009f])[^\x1b\u009c]*(?:\x1b\\|\u009c)?|(?:\x1b\[|\u009b)[0-?]*[ -/]*[@-~]?|\x1b[ -/]*[0-~]?/g;
// C0 controls except tab and newline, DEL, C1 controls.
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f]/g;

/** Removes every terminal control sequence and control character but tab and newline. */
export function stripControls(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, '').replace(CONTROLS, '');
}

/**
 * The one boundary for text from a node (or a file, or a container) on its way to a screen, a
 * saved file or a model: control sequences stripped first (so none can split a token), then every
 * credential shape redacted. The node has already replaced the values it knows.
 */
export function toScreen(text: string): string {
  return redact(stripControls(text));
}
