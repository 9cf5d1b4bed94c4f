import type { ExecutionInput, Executor } from './executor.js';
import { ExecutorError } from './executor-error.js';

/**
 * Runs an executor with a time limit. After `timeoutMs` the signal given to
 * the executor is aborted and the promise rejects with TIMEOUT, even if the
 * executor ignores the signal. An optional `input.signal` (gateway shutdown)
 * aborts the run too.
 *
 * @example
 * const result = await runWithTimeout(executorFor('sign'), { secret, config, params }, 30_000);
 */
export async function runWithTimeout(
  executor: Executor,
  input: Omit<ExecutionInput, 'signal'> & { signal?: AbortSignal },
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive integer');
  const controller = new AbortController();
  const signal = input.signal === undefined ? controller.signal : AbortSignal.any([input.signal, controller.signal]);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ExecutorError('TIMEOUT', `operation ${executor.kind} did not finish within ${timeoutMs} ms`);
      // Reject before aborting: an executor failing synchronously on abort must not win the race.
      reject(error);
      controller.abort(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([executor.execute({ ...input, signal }), timeout]);
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
