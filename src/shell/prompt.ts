// Questions on the terminal, one line each: the answers `homelab node add` reads when a field was
// not given as a flag. (Yes/no questions: confirm.ts.)
import { createInterface } from 'node:readline';

export interface Prompter {
  /** The answer (trimmed), the default for an empty answer, or undefined when input ended. */
  ask(question: string, def?: string): Promise<string | undefined>;
  close(): void;
}

/** Reads answers line by line from `input`, writing each question (and its default) to `output`. */
export function linePrompter(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Prompter {
  const rl = createInterface({ input, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  return {
    async ask(question, def) {
      output.write(`${question}${def !== undefined && def !== '' ? ` [${def}]` : ''}: `);
      const next = await lines.next();
      if (next.done) {
        output.write('\n');
        return undefined;
      }
      const answer = String(next.value).trim();
      return answer === '' ? (def ?? '') : answer;
    },
    close: () => rl.close(),
  };
}
