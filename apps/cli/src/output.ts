import type { Command } from 'commander';

/** Options every command accepts (declared on the program). */
export interface GlobalOptions {
  url?: string;
  json?: boolean;
}

export function globalsOf(command: Command): GlobalOptions {
  const opts = command.optsWithGlobals<GlobalOptions>();
  return { url: opts.url, json: opts.json === true };
}

/** Results go to stdout; progress, prompts and notes to stderr. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function note(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}
