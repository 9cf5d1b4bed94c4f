import { ExecutorError, type ExecutorErrorCode } from './executor-error.js';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** For the `default` branch of a switch that should have covered every case. */
export function assertUnreachable(value: never, what: string): never {
  throw new TypeError(`unexpected ${what}: ${String(value)}`);
}

/**
 * Requires a plain object whose members are all in `allowed`. `undefined` is
 * read as `{}` only when `optional` (an operation kind without config).
 */
export function requireMembers(
  value: unknown,
  allowed: readonly string[],
  code: ExecutorErrorCode,
  what: string,
  optional = false,
): Record<string, unknown> {
  if (value === undefined && optional) return {};
  if (!isRecord(value)) throw new ExecutorError(code, `${what} must be an object`);
  for (const name of Object.keys(value)) {
    if (!allowed.includes(name)) throw new ExecutorError(code, `${what} has an unknown member "${truncate(name)}"`);
  }
  return value;
}

/** Shortens caller-supplied text quoted in an error message. */
export function truncate(text: string, max = 64): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Turns an aborted signal into the executor's own error, before any work or side effect. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new ExecutorError('ABORTED', 'the operation was aborted');
}
