import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Authenticated, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
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

  @Get()
  @Authenticated()
  stream(@CurrentPrincipal() principal: Principal, @Req() req: Request, @Res() res: Response): void {
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
    };
    req.on('close', stop);
  }
}
