import { createInterface } from 'node:readline/promises';
import { CliError, ExitCode, usageError } from './exit-codes.js';

/** Prompts need a person: stdin and stderr both on a terminal. */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

/** Reads a secret from the terminal without echoing it. */
export async function promptHidden(question: string, noTerminalHint: string): Promise<string> {
  if (!canPrompt()) throw usageError(`no terminal to ask on: ${noTerminalHint}`);
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise<string>((resolve, reject) => {
    let value: string[] = [];
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error !== undefined) reject(error);
      else resolve(value.join(''));
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new CliError('interrupted', ExitCode.interrupted));
        if (ch === '\u0004') return value.length === 0 ? finish(new CliError('aborted', ExitCode.usage)) : finish();
        if (ch === '\u007f' || ch === '\b') {
          value = value.slice(0, -1);
          continue;
        }
        if (ch === '\u0015') {
          value = [];
          continue;
        }
        if (ch < ' ') continue;
        value.push(ch);
      }
    };
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** Asks a question on the terminal; the answer, trimmed. */
export async function promptLine(question: string, noTerminalHint: string): Promise<string> {
  if (!canPrompt()) throw usageError(`no terminal to ask on: ${noTerminalHint}`);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** y/yes confirms; anything else declines. */
export async function confirm(question: string, noTerminalHint: string): Promise<boolean> {
  const answer = await promptLine(`${question} [y/N] `, noTerminalHint);
  return /^(y|yes)$/i.test(answer);
}

/** All of stdin (for --password-stdin, payloads, SQL). Refuses a terminal: that is a missing pipe. */
export async function readStdin(what: string): Promise<Buffer> {
  if (process.stdin.isTTY === true) throw usageError(`${what}: pipe it on stdin (stdin is a terminal)`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

export function stdinIsPiped(): boolean {
  return process.stdin.isTTY !== true;
}
