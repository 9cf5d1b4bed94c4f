import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Authenticated, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { RequestEvents } from './request-events.js';
import { RequestsService } from './requests.service.js';

/** Server-sent events: one `request` event per change of a request the caller may see. */
@ApiTags('requests')
@ApiBearerAuth()
@Controller('api/v1/events')
export class EventsController {
  constructor(
    private readonly events: RequestEvents,
    private readonly requests: RequestsService,
  ) {}

  @Get()
  @Authenticated()
  stream(@CurrentPrincipal() principal: Principal, @Req() req: Request, @Res() res: Response): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': connected\n\n');
    const unsubscribe = this.events.subscribe((change) => {
      this.requests
        .view(change.id)
        .then((view) => {
          if (this.requests.canSee(principal, view)) res.write(`event: request\nid: ${change.id}:${change.status}\ndata: ${JSON.stringify(change)}\n\n`);
        })
        .catch(() => undefined);
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15000);
    req.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  }
}
