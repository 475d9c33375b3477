// A yes/no question on the terminal. The default answer is no: only "y" or "yes" proceeds.
import { createInterface } from 'node:readline/promises';

export async function confirm(
  question: string,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<boolean> {
  const rl = createInterface({ input, output, terminal: false });
  try {
    output.write(`${question} [y/N] `);
    const answer = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * Several yes/no questions on one input (a walk asks once per wave or per stage): one reader for
 * them all, so lines typed ahead are kept for the next question. Default no, as confirm().
 */
export function questioner(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): { ask(question: string): Promise<boolean>; close(): void } {
  const rl = createInterface({ input, output, terminal: false });
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let closed = false;
  rl.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else lines.push(line);
  });
  rl.on('close', () => {
    closed = true;
    for (const w of waiting.splice(0)) w('');
  });
  return {
    async ask(question) {
      output.write(`${question} [y/N] `);
      const answer =
        lines.shift() ??
        (closed ? '' : await new Promise<string>((resolve) => waiting.push(resolve)));
      return /^(y|yes)$/i.test(answer.trim());
    },
    close: () => rl.close(),
  };
}
