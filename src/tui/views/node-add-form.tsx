// The guided form of `homelab node add` for the TUI: the same fields, defaults and checks as the CLI
// (src/core/onboarding/fields.ts), one question at a time; then it sends intents: the controller
// checks the plan with the inventory rules (nothing is written when it would be invalid), the form
// shows it and asks, the controller writes it and puts the node in the list, the form shows the
// next steps. The form writes nothing itself. Mount it as a modal with `isActive` while it is open;
// it reads its own keys and calls onClose when the user is done.
//
//   <NodeAddForm intents={controller} existingNodes={names} width={w} isActive onClose={(r) => ...} />
import { Box, Text, useInput, useStdin } from 'ink';
import { useEffect, useReducer, useRef } from 'react';
import type { FieldValues, NodeAddIntents } from '../../core/onboarding/fields.js';
import { NODE_FIELDS } from '../../core/onboarding/fields.js';

export type FormPhase = 'ask' | 'checking' | 'review' | 'writing' | 'done' | 'refused';

export interface FormState {
  readonly phase: FormPhase;
  /** The field being asked (index into NODE_FIELDS). */
  readonly index: number;
  readonly values: FieldValues;
  /** What the user typed for the current field. */
  readonly input: string;
  /** Why the last answer was refused ('' when it was not). */
  readonly error: string;
  /** review: the request and the files; refused: the reason and problems; done: the next steps. */
  readonly lines: readonly string[];
  readonly existingNodes: readonly string[];
  /** The node written (phase done), when it was. */
  readonly added?: string;
}

export type FormAction =
  | { readonly type: 'type'; readonly text: string }
  | { readonly type: 'erase' }
  | { readonly type: 'submit' }
  | { readonly type: 'back' }
  | { readonly type: 'planned'; readonly ok: boolean; readonly lines: readonly string[] }
  | { readonly type: 'write' }
  | { readonly type: 'written'; readonly added?: string; readonly lines: readonly string[] };

export function initialFormState(existingNodes: readonly string[]): FormState {
  return { phase: 'ask', index: 0, values: {}, input: '', error: '', lines: [], existingNodes };
}

/** The form's state machine. Pure. */
export function formReducer(s: FormState, a: FormAction): FormState {
  switch (a.type) {
    case 'type':
      return s.phase === 'ask' ? { ...s, input: s.input + a.text, error: '' } : s;
    case 'erase':
      return s.phase === 'ask' ? { ...s, input: s.input.slice(0, -1), error: '' } : s;
    case 'submit': {
      if (s.phase !== 'ask') return s;
      const field = NODE_FIELDS[s.index];
      if (!field) return s;
      const typed = s.input.trim();
      const value = typed === '' ? field.defaultFor(s.values) : typed;
      const why = field.flaw(value, s.existingNodes);
      if (why !== undefined) return { ...s, error: why };
      const values = { ...s.values, [field.key]: value };
      const next = s.index + 1;
      if (next >= NODE_FIELDS.length)
        return { ...s, values, input: '', error: '', phase: 'checking' };
      return {
        ...s,
        values,
        index: next,
        input: values[NODE_FIELDS[next]?.key ?? 'name'] ?? '',
        error: '',
      };
    }
    case 'back': {
      // From a question to the previous one; from the review or a refusal to the last question.
      if (s.phase === 'review' || s.phase === 'refused') {
        const last = NODE_FIELDS.length - 1;
        return {
          ...s,
          phase: 'ask',
          index: last,
          input: s.values[NODE_FIELDS[last]?.key ?? 'name'] ?? '',
          error: '',
          lines: [],
        };
      }
      if (s.phase !== 'ask' || s.index === 0) return s;
      const prev = s.index - 1;
      return {
        ...s,
        index: prev,
        input: s.values[NODE_FIELDS[prev]?.key ?? 'name'] ?? '',
        error: '',
      };
    }
    case 'planned':
      return s.phase === 'checking'
        ? { ...s, phase: a.ok ? 'review' : 'refused', lines: a.lines }
        : s;
    case 'write':
      return s.phase === 'review' ? { ...s, phase: 'writing' } : s;
    case 'written':
      return s.phase === 'writing'
        ? { ...s, phase: 'done', lines: a.lines, ...(a.added ? { added: a.added } : {}) }
        : s;
  }
}

export interface NodeAddFormResult {
  /** The name of the node that was written; absent when the user cancelled. */
  readonly added?: string;
}

export interface NodeAddFormProps {
  /** Where the form sends its check and write (the TUI controller). */
  readonly intents: NodeAddIntents;
  /** Nodes in the inventory now (a new name must differ). */
  readonly existingNodes: readonly string[];
  readonly width: number;
  /** Reads keys while true (the form is the open modal). */
  readonly isActive: boolean;
  readonly onClose: (result: NodeAddFormResult) => void;
  /** Port of the first starter service (default 8080). */
  readonly starterPort?: number;
}

export function NodeAddForm({
  intents,
  existingNodes,
  width,
  isActive,
  onClose,
  starterPort,
}: NodeAddFormProps) {
  const [state, dispatch] = useReducer(formReducer, existingNodes, initialFormState);
  const { isRawModeSupported } = useStdin();
  // The key handler reads the latest state: a key can arrive before Ink re-registers the handler
  // of the newest render (the check's answer arrives asynchronously).
  const current = useRef(state);
  current.current = state;

  useEffect(() => {
    if (state.phase !== 'checking') return;
    let live = true;
    intents.checkNode(state.values, starterPort).then(
      (c) => {
        if (live) dispatch({ type: 'planned', ok: c.ok, lines: c.lines });
      },
      (err: unknown) => {
        if (live)
          dispatch({
            type: 'planned',
            ok: false,
            lines: [
              `Refused: ${err instanceof Error ? err.message : String(err)}`,
              'Nothing was written.',
            ],
          });
      },
    );
    return () => {
      live = false;
    };
  }, [state.phase, state.values, intents, starterPort]);

  useEffect(() => {
    if (state.phase !== 'writing') return;
    intents.addNode(state.values, starterPort).then(
      (w) => dispatch({ type: 'written', lines: w.lines, ...(w.added ? { added: w.added } : {}) }),
      (err: unknown) =>
        dispatch({
          type: 'written',
          lines: [`Writing failed: ${err instanceof Error ? err.message : String(err)}`],
        }),
    );
  }, [state.phase, state.values, intents, starterPort]);

  useInput(
    (input, key) => {
      const now = current.current;
      if (now.phase === 'done') {
        onClose(now.added ? { added: now.added } : {});
        return;
      }
      if (key.escape) {
        if (now.phase === 'review' || now.phase === 'refused') dispatch({ type: 'back' });
        else if (now.phase === 'ask') onClose({});
        return;
      }
      if (now.phase === 'review') {
        // Writing changes files: only y does it; Enter takes the default, No.
        if (input === 'y') dispatch({ type: 'write' });
        else if (input === 'n' || key.return) dispatch({ type: 'back' });
        return;
      }
      if (now.phase === 'refused') {
        if (key.return) dispatch({ type: 'back' });
        return;
      }
      if (now.phase !== 'ask') return;
      if (key.return) dispatch({ type: 'submit' });
      else if (key.upArrow) dispatch({ type: 'back' });
      else if (key.backspace || key.delete) dispatch({ type: 'erase' });
      else if (input && !key.ctrl && !key.meta && !key.tab)
        dispatch({ type: 'type', text: input.replace(/[\r\n\t]/g, '') });
    },
    { isActive: isActive && isRawModeSupported },
  );

  const field = NODE_FIELDS[state.index];
  const answered = NODE_FIELDS.slice(0, state.phase === 'ask' ? state.index : NODE_FIELDS.length);
  const def = field ? field.defaultFor(state.values) : '';
  return (
    <Box flexDirection="column" width={width} borderStyle="round" borderColor="cyan" paddingX={1}>
      <Text bold color="cyan">
        Add a node to the homelab
      </Text>
      {answered.map((f) => (
        <Text key={f.key} wrap="truncate">
          <Text color="gray">{`${f.key.padEnd(10)}`}</Text>
          <Text>{state.values[f.key] === '' ? '(none)' : state.values[f.key]}</Text>
        </Text>
      ))}
      {state.phase === 'ask' && field ? (
        <>
          <Text wrap="truncate">
            <Text bold>{field.question}</Text>
            {def !== '' ? <Text color="gray">{` [${def}]`}</Text> : null}
            <Text>{`: ${state.input}`}</Text>
            <Text color="cyan">▏</Text>
          </Text>
          {state.error ? <Text color="red">{state.error}</Text> : null}
          <Text color="gray">Enter next · ↑ previous field · Esc cancel</Text>
        </>
      ) : null}
      {state.phase === 'checking' ? (
        <Text color="yellow">Checking the result with the inventory rules…</Text>
      ) : null}
      {state.phase === 'writing' ? <Text color="yellow">Writing…</Text> : null}
      {state.phase === 'review' || state.phase === 'refused' || state.phase === 'done' ? (
        <>
          <Text> </Text>
          {state.lines.map((l, i) => (
            <Text
              key={`${i}:${l}`}
              color={state.phase === 'refused' && i === 0 ? 'red' : undefined}
              wrap="truncate"
            >
              {l === '' ? ' ' : l}
            </Text>
          ))}
        </>
      ) : null}
      {state.phase === 'review' ? (
        <Text color="gray">y write these files · n/Enter/Esc change the answers (default)</Text>
      ) : null}
      {state.phase === 'refused' ? <Text color="gray">Enter/Esc change the answers</Text> : null}
      {state.phase === 'done' ? <Text color="gray">any key: close</Text> : null}
    </Box>
  );
}
