// Turns a stream of text chunks into complete lines: split on \n, keep a partial line until it
// is complete, flush the rest at the end. Multi-byte characters split across chunks stay whole.
import { StringDecoder } from 'node:string_decoder';

export interface LineSplitter {
  push(chunk: Buffer | string): void;
  /** Emits the last line when it had no newline. Safe to call twice. */
  end(): void;
}

/** onPartial, when given, receives the last line if it had no newline (default: onLine). */
export function createLineSplitter(
  onLine: (line: string) => void,
  onPartial: (line: string) => void = onLine,
): LineSplitter {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let ended = false;
  const emit = (text: string): void => {
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) onLine(line);
  };
  return {
    push(chunk) {
      if (!ended) emit(typeof chunk === 'string' ? chunk : decoder.write(chunk));
    },
    end() {
      if (ended) return;
      emit(decoder.end());
      ended = true;
      if (partial !== '') onPartial(partial);
      partial = '';
    },
  };
}
