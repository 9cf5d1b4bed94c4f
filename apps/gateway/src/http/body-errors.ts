import type { NextFunction, Request, Response } from 'express';
import { correlationId, sendProblem } from './problem.filter.js';
import { problem } from './problem.js';

/** body-parser's failures (malformed JSON, body over the limit, wrong charset) as problem+json. */
export function bodyErrorsAsProblems(error: unknown, req: Request, res: Response, next: NextFunction): void {
  const type = (error as { type?: unknown }).type;
  const status = (error as { status?: unknown }).status;
  if (typeof type !== 'string' || typeof status !== 'number') {
    next(error);
    return;
  }
  const detail =
    type === 'entity.parse.failed'
      ? 'the request body is not valid JSON'
      : type === 'entity.too.large'
        ? 'the request body is larger than 1 MiB'
        : `the request body could not be read (${type})`;
  sendProblem(res, problem(status, detail, { correlationId: correlationId(req) }));
}
