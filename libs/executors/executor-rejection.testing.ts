import { ExecutorError } from './executor-error.js';

/** Test helper: the ExecutorError a promise rejects with; anything else fails the test. */
export async function executorRejection(promise: Promise<unknown>): Promise<ExecutorError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ExecutorError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}
