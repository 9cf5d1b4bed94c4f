import { type CallHandler, type ExecutionContext, type NestInterceptor, type PipeTransform, type ArgumentMetadata, Injectable } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/internal';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Observable } from 'rxjs';
import { AppError } from './app-error.js';
import { correlationId, sendProblem } from './problem.filter.js';
import { problem } from './problem.js';

/** The largest JSON body the gateway reads. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** The deepest nesting of arrays and objects a body may have (the API's own shapes use fewer than 8 levels). */
export const MAX_JSON_DEPTH = 32;
/** The longest path parameter: ids are 36 characters, names 64. */
export const MAX_PATH_PARAM_LENGTH = 256;

/**
 * Checks that every JSON text the gateway reads holds only what PostgreSQL and the audit
 * chain store unchanged. Enforces, for bodies, path parameters and query values alike:
 * - no U+0000 (text and jsonb columns cannot hold it: the insert would fail after the fact);
 * - no lone UTF-16 surrogate (`\ud800` in JSON text), which the database would store as
 *   U+FFFD, so that what was hashed and audited differs from what was stored;
 * - no number JSON.parse turned into ±Infinity (`1e400`), which JSON.stringify writes as null;
 * - at most MAX_JSON_DEPTH levels of nesting, checked without recursion, so a 10,000-level
 *   body cannot exhaust the stack of the validators that walk it afterwards;
 * - no member named `__proto__`, `constructor` or `prototype`: class-transformer drops them
 *   silently, so they would pass `forbidNonWhitelisted` and never be read.
 * Returns what is wrong, or undefined.
 */
export function findUnstorableJson(value: unknown, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 0, path: '' }];
  while (stack.length > 0) {
    const { value: current, depth, path } = stack.pop()!;
    if (typeof current === 'string') {
      const wrong = findUnstorableText(current);
      if (wrong !== undefined) return `${path || 'the value'} ${wrong}`;
    } else if (typeof current === 'number') {
      if (!Number.isFinite(current)) return `${path || 'the value'} is a number out of range`;
    } else if (current !== null && typeof current === 'object') {
      if (depth >= maxDepth) return `the JSON is nested deeper than ${maxDepth} levels`;
      for (const [key, child] of Object.entries(current)) {
        const childPath = Array.isArray(current) ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
        const wrongKey = RESERVED_MEMBER_NAMES.has(key) ? `is named ${key}, which is not accepted` : findUnstorableText(key);
        if (wrongKey !== undefined) return `a member of ${path || 'the body'} ${wrongKey}`;
        stack.push({ value: child, depth: depth + 1, path: childPath });
      }
    }
  }
  return undefined;
}

const RESERVED_MEMBER_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function findUnstorableText(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character (U+0000)';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate';
  return undefined;
}

class BodyEncodingError extends Error {
  readonly status = 400;
  readonly type = 'encoding.invalid';
}

/** express.json, refusing bytes that are not UTF-8 instead of reading them as U+FFFD. */
export function jsonBodyParser(): express.RequestHandler {
  return express.json({
    limit: MAX_BODY_BYTES,
    strict: true,
    verify: (_req: IncomingMessage, _res, buffer: Buffer, encoding: string) => {
      if (encoding.toLowerCase().replace('-', '') === 'utf8' && !isUtf8(buffer)) throw new BodyEncodingError('the request body is not valid UTF-8');
      // RFC 8259 §8.1: JSON text is sent without a byte-order mark; the parser would drop it silently.
      if (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) throw new BodyEncodingError('the request body starts with a byte-order mark: send JSON without one');
    },
  });
}

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A body the gateway would not parse (anything but application/json) is refused, not ignored. */
export function refuseNonJsonBodies(req: Request, res: Response, next: NextFunction): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
  if (METHODS_WITH_BODY.has(req.method) && hasBody && req.is('application/json') !== 'application/json') {
    sendProblem(res, problem(415, 'send the request body as application/json', { code: 'UNSUPPORTED_MEDIA_TYPE', correlationId: correlationId(req) }));
    return;
  }
  next();
}

/** After the parser: a body that parsed but could not be stored as sent is a 400. */
export function refuseUnstorableBodies(req: Request, res: Response, next: NextFunction): void {
  const wrong = req.body === undefined ? undefined : findUnstorableJson(req.body);
  if (wrong !== undefined) {
    sendProblem(res, problem(400, wrong, { code: 'BODY_MALFORMED', correlationId: correlationId(req) }));
    return;
  }
  next();
}

/** Path parameters and query values: the same rules as bodies, and a bound on a parameter's length. */
@Injectable()
export class RequestTextPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'param' && metadata.type !== 'query') return value;
    if (metadata.type === 'param' && typeof value === 'string' && value.length > MAX_PATH_PARAM_LENGTH) {
      throw new AppError('VALIDATION_FAILED', `the path parameter ${metadata.data ?? ''} is longer than ${MAX_PATH_PARAM_LENGTH} characters`);
    }
    const wrong = findUnstorableJson(value, 4);
    if (wrong !== undefined) throw new AppError('VALIDATION_FAILED', `${metadata.type === 'param' ? `the path parameter ${metadata.data ?? ''}` : 'the query'}: ${wrong}`);
    return value;
  }
}

/**
 * A route that reads no body refuses one (other than `{}`), as a DTO refuses an unknown
 * member: a client that sends fields to such a route is told they were not read.
 */
@Injectable()
export class RefuseUnreadBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const body: unknown = context.switchToHttp().getRequest<Request>().body;
      const empty = body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);
      if (!empty && !readsBody(context)) throw new AppError('BODY_NOT_EXPECTED', 'this endpoint reads no request body; send none');
    }
    return next.handle();
  }
}

function readsBody(context: ExecutionContext): boolean {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), context.getHandler().name) ?? {}) as Record<string, unknown>;
  return Object.keys(args).some((key) => key.split(':')[0] === String(RouteParamtypes.BODY));
}
