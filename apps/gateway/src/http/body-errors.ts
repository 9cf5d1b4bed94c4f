import type { NextFunction, Request, Response } from 'express';
import { codeForStatus } from './app-error.js';
import { correlationId, sendProblem } from './problem.filter.js';
import { problem } from './problem.js';

/** body-parser's and the router's failures (malformed JSON, body over the limit, wrong charset, undecodable path) as problem+json. */
export function bodyErrorsAsProblems(error: unknown, req: Request, res: Response, next: NextFunction): void {
  const type = (error as { type?: unknown }).type;
  const status = (error as { status?: unknown }).status;
  if (typeof status !== 'number' || status < 400 || status >= 500) {
    next(error);
    return;
  }
  const detail =
    type === 'entity.parse.failed'
      ? 'the request body is not valid JSON'
      : type === 'entity.too.large'
        ? 'the request body is larger than 1 MiB'
        : type === 'encoding.invalid'
          ? 'the request body is not valid UTF-8'
          : typeof type === 'string'
            ? `the request body could not be read (${type})`
            : 'the request could not be read';
  // body-parser's errors carry a `type`; the router's (an undecodable path parameter) do not.
  const code = typeof type === 'string' && status === 400 ? 'BODY_MALFORMED' : codeForStatus(status);
  sendProblem(res, problem(status, detail, { code, correlationId: correlationId(req) }));
}
