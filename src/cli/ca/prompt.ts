/**
 * A visible one-line prompt on the terminal, for answers that are not secret (the CA name, where
 * to write the root key). Secrets go through readPassword (src/cli/io.ts), which never echoes.
 */
import { createInterface } from 'node:readline';
import { SignetError } from '../../core/errors.js';

/**
 * Asks `question` on stderr and reads one line from the terminal (echoed, with line editing).
 * An empty answer returns `defaultValue` when there is one. Ctrl-C rejects with
 * ERR_INTERRUPTED; end of input (Ctrl-D) rejects with ERR_USAGE naming `flag`, the way to give
 * the answer without a prompt.
 */
export function promptLine(question: string, options: { flag: string; defaultValue?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    let settled = false;
    const finish = (answer: string | undefined, error?: SignetError): void => {
      if (settled) return;
      settled = true;
      rl.close();
      process.stdin.pause();
      if (error) reject(error);
      else resolve(answer ?? '');
    };
    rl.on('SIGINT', () => {
      process.stderr.write('\n');
      finish(undefined, new SignetError('ERR_INTERRUPTED', 'interrupted'));
    });
    rl.on('close', () => finish(undefined, new SignetError('ERR_USAGE', `no answer was entered (end of input at the prompt)`, { hint: `pass ${options.flag}` })));
    const shown = options.defaultValue === undefined ? question : `${question}[${options.defaultValue}] `;
    rl.question(shown, (answer) => {
      const a = answer.trim();
      finish(a === '' && options.defaultValue !== undefined ? options.defaultValue : a);
    });
  });
}
