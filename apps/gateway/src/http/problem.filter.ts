import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, codeForStatus, statusForCode } from './app-error.js';
import { problem, PROBLEM_CONTENT_TYPE, type Problem } from './problem.js';

/**
 * Writes every error as RFC 9457 problem+json with the request's correlation id.
 * A 5xx says only that something failed and where to look (the id); details go to the log.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly log: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const body = toProblem(exception, correlationId(req));
    // A refusal that names its wait (429, 503) says so in Retry-After too.
    if (exception instanceof AppError && typeof exception.extra.retryAfterSeconds === 'number' && !res.headersSent && res.getHeader('Retry-After') === undefined) {
      res.setHeader('Retry-After', String(exception.extra.retryAfterSeconds));
    }
    // A refusal under load (503 BUSY) is no failure of ours: no error log line per refused call.
    if (body.status >= 500 && !(exception instanceof AppError)) {
      this.log.error({ err: exception, correlationId: body.correlationId }, 'request failed');
    }
    sendProblem(res, body);
  }
}

export function correlationId(req: Request): string {
  return String((req as Request & { id?: unknown }).id ?? '');
}

export function sendProblem(res: Response, body: Problem): void {
  if (res.headersSent) return;
  res.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

export function toProblem(exception: unknown, correlationId: string): Problem {
  if (exception instanceof AppError) {
    return problem(statusForCode(exception.code), exception.message, { code: exception.code, correlationId, ...exception.extra });
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const detail = describeHttpException(response, exception.message);
    if (status >= 500) return problem(status, 'internal error', { correlationId });
    // The framework's own refusals (no such route, an undecodable path parameter) carry a code too.
    return problem(status, detail, { code: codeForStatus(status), correlationId });
  }
  return problem(500, 'internal error; quote the correlation id to your operator', { correlationId });
}

function describeHttpException(response: string | object, fallback: string): string {
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  if (typeof message === 'string') return message;
  return fallback;
}
