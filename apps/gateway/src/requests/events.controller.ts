import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Authenticated, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { CAPPED_RETRY_AFTER_SECONDS, ConcurrencyCap, STREAMS_PER_PRINCIPAL, STREAMS_TOTAL } from '../http/load-caps.js';
import { currentPrincipal } from '../users/accounts.repository.js';
import { RequestEvents } from './request-events.js';
import { RequestReader } from './request-reader.js';

/** How often a stream sends a keep-alive and checks that its caller may still listen. */
export const EVENTS_HEARTBEAT_MS = 15000;

/**
 * Server-sent events: one `request` event per change of a request the caller may see.
 * At each heartbeat the caller is read again: a disabled user's or revoked account's
 * stream ends, and changed roles apply to what the stream shows.
 */
@ApiTags('requests')
@ApiBearerAuth()
@Controller('api/v1/events')
export class EventsController {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly events: RequestEvents,
    private readonly requests: RequestReader,
  ) {}

  /** Open streams, per principal and in all (load-caps.ts). */
  readonly cap = new ConcurrencyCap(STREAMS_PER_PRINCIPAL, STREAMS_TOTAL);

  @Get()
  @Authenticated()
  @ApiTooManyRequestsResponse({ description: 'too many event streams open, by this caller or in all; Retry-After gives the seconds to wait (problem+json)' })
  stream(@CurrentPrincipal() principal: Principal, @Req() req: Request, @Res() res: Response): void {
    const key = `${principal.kind}:${principal.id}`;
    const release = this.cap.tryAcquire(key);
    if (release === undefined) {
      const whose = this.cap.countOf(key) >= this.cap.perKey ? `you have ${this.cap.perKey} open already` : 'the gateway holds as many as it takes';
      throw new AppError('TOO_MANY_OPEN', `too many event streams: ${whose}; close one or try again later`, { retryAfterSeconds: CAPPED_RETRY_AFTER_SECONDS });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': connected\n\n');
    let caller = principal;
    const unsubscribe = this.events.subscribe((change) => {
      this.requests
        .view(change.id)
        .then((view) => {
          if (this.requests.canSee(caller, view)) res.write(`event: request\nid: ${change.id}:${change.status}\ndata: ${JSON.stringify(change)}\n\n`);
        })
        .catch(() => undefined);
    });
    const heartbeat = setInterval(() => {
      currentPrincipal(this.ctx.dataSource, caller)
        .then((now) => {
          if (now === null) {
            stop();
            res.end();
          } else {
            caller = now;
            res.write(': keep-alive\n\n');
          }
        })
        .catch(() => res.write(': keep-alive\n\n'));
    }, EVENTS_HEARTBEAT_MS);
    const stop = () => {
      clearInterval(heartbeat);
      unsubscribe();
      release();
    };
    // The response closes when the client goes away (or the stream ends): its place is freed at once.
    res.on('close', stop);
    req.on('close', stop);
  }
}
