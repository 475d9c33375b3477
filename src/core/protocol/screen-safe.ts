// Node lines made safe for a screen. Everything a node sends on a stage's live stream (its log
// lines, every string field of its records, ssh's own messages) passes here once, where it enters
// SATURN (the Control), before `homelab run` prints it or the TUI draws it: the one boundary
// function, toScreen (core/recover/redact.ts: control sequences stripped, then credential shapes
// redacted). Pure.
import { toScreen } from '../recover/redact.js';
import type { NodeEvent, NodeLine } from './events.js';

function cleanValue(value: unknown): unknown {
  if (typeof value === 'string') return toScreen(value);
  if (Array.isArray(value)) return value.map(cleanValue);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cleanValue(v)]));
  return value;
}

/** Every string of a record made screen-safe (numbers, booleans and the shape stay). */
export function screenSafeEvent(event: NodeEvent): NodeEvent {
  return cleanValue(event) as NodeEvent;
}

export function screenSafeLine(line: NodeLine): NodeLine {
  return line.kind === 'log'
    ? { kind: 'log', text: toScreen(line.text) }
    : { kind: 'event', event: screenSafeEvent(line.event) };
}
