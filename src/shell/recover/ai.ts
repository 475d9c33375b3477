// Runs the inventory's `ai.command` (argv) with the prompt on stdin and streams its answer.
import { execa } from 'execa';

export const AI_HELP =
  'No AI command is configured. To have the prompt answered here, add to inventory/topology.yaml:\n' +
  '  ai:\n' +
  '    command: [ollama, run, llama3.1]   # any command that reads a prompt on stdin\n' +
  'Meanwhile the prompt is saved and copied: paste it into the assistant of your choice.';

export interface AiResult {
  readonly exitCode: number | null;
  readonly message: string;
}

export async function runAi(
  command: readonly string[],
  prompt: string,
  onChunk: (text: string) => void,
  signal?: AbortSignal,
): Promise<AiResult> {
  const [file, ...args] = command;
  if (!file) return { exitCode: null, message: AI_HELP };
  const child = execa(file, args, {
    input: prompt,
    reject: false,
    detached: true,
    buffer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    ...(signal ? { cancelSignal: signal } : {}),
  });
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  let err = '';
  child.stdout?.on('data', (d: string) => onChunk(d));
  child.stderr?.on('data', (d: string) => (err = (err + d).slice(-2000)));
  const r = await child;
  if (r.exitCode === undefined)
    return { exitCode: null, message: `${command.join(' ')}: ${r.shortMessage}` };
  const code = r.exitCode;
  return {
    exitCode: code,
    message:
      code === 0
        ? ''
        : `${command.join(' ')} exited ${code ?? 'by a signal'}${err ? `: ${err.trim().split('\n').slice(-3).join(' ')}` : ''}`,
  };
}
