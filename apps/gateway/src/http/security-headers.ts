import type { NextFunction, Request, Response } from 'express';
import type { ServerResponse } from 'node:http';
import { AppError } from './app-error.js';
import { problem, PROBLEM_CONTENT_TYPE } from './problem.js';
import { correlationId } from './problem.filter.js';

/** Every answer's policy: nothing may load, frame or be framed; the SPA and Swagger UI set their own. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Swagger UI (/api/docs): its own scripts and stylesheets, inline styles, the API itself; nothing from elsewhere. */
export const API_DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const API_DOCS_PATH = '/api/docs';

/**
 * Headers on every answer, set before any handler runs so that an error, a 404
 * or a stream carries them too: no caching (answers hold requests, results,
 * audit entries; a shared or disk cache must keep none of them), a CSP that
 * lets nothing run, no referrer, no framing, no sniffing. A handler that means
 * otherwise overrides (the JWKS is public and cacheable; hashed UI assets are
 * immutable; the SPA's index.html and Swagger UI have their own CSP).
 */
export function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  setSecurityHeaders(res, req.path);
  next();
}

/** `securityHeaders` for an answer sent before Express (`bulkPacing`): `path` without its query. */
export function setSecurityHeaders(res: Pick<ServerResponse, 'setHeader'>, path: string): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', path === API_DOCS_PATH || path.startsWith(API_DOCS_PATH + '/') ? API_DOCS_CSP : API_CSP);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface CrossSiteInput {
  method: string;
  /** The request's own `Host` (what the browser put in the address bar). */
  host: string | undefined;
  origin: string | undefined;
  secFetchSite: string | undefined;
  /** The request carries the session cookie and no `Authorization` header: the browser chose its credentials. */
  cookieAuthenticated: boolean;
}

/**
 * Why a state-changing request is refused as cross-site, or undefined when it may go on.
 * - `Sec-Fetch-Site`, when sent (every current browser sends it), must be `same-origin`
 *   or `none` (typed by the user): `same-site` too is refused, a sibling host is not this gateway;
 * - else an `Origin`, when sent, must name this host;
 * - a cookie-authenticated request must carry one of the two: a client that sends
 *   neither is not a current browser, and has no business using the browser's cookie.
 * A request with no cookie and no such headers (the CLI, automation) is not concerned.
 */
export function crossSiteRefusal(input: CrossSiteInput): string | undefined {
  if (SAFE_METHODS.has(input.method)) return undefined;
  if (input.secFetchSite !== undefined) {
    return input.secFetchSite === 'same-origin' || input.secFetchSite === 'none' ? undefined : `a ${input.secFetchSite} page may not change state here (Sec-Fetch-Site)`;
  }
  if (input.origin !== undefined) {
    let host: string | undefined;
    try {
      host = input.origin === 'null' ? undefined : new URL(input.origin).host;
    } catch {
      host = undefined;
    }
    return host !== undefined && host === input.host ? undefined : 'a page from another origin may not change state here (Origin)';
  }
  return input.cookieAuthenticated ? 'a cookie-authenticated change must come from the web UI (no Origin or Sec-Fetch-Site header)' : undefined;
}

/** Refuses cross-site state changes with 403 problem+json (`crossSiteRefusal`). */
export function crossSiteGuard(sessionCookie: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const cookies = req.cookies as Record<string, string | undefined> | undefined;
    const refusal = crossSiteRefusal({
      method: req.method,
      host: req.headers.host,
      origin: req.headers.origin,
      secFetchSite: header(req, 'sec-fetch-site'),
      cookieAuthenticated: cookies?.[sessionCookie] !== undefined && req.headers.authorization === undefined,
    });
    if (refusal === undefined) return next();
    const error = new AppError('FORBIDDEN', refusal);
    res
      .status(403)
      .type(PROBLEM_CONTENT_TYPE)
      .send(JSON.stringify(problem(403, error.message, { code: error.code, correlationId: correlationId(req) })));
  };
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
