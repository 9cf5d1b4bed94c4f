import { Controller, Get, Header, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { timingSafeEqual, createHash } from 'node:crypto';
import { AppError } from '../http/app-error.js';
import { Public } from '../auth/decorators.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';

@ApiTags('operations')
@Controller()
export class OpsController {
  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {}

  @Get('healthz')
  @Public()
  health() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Public()
  async ready(@Res({ passthrough: true }) res: Response) {
    try {
      await this.ctx.dataSource.query('SELECT 1');
      return { status: 'ready', database: this.ctx.databaseKind };
    } catch {
      res.status(503);
      return { status: 'unavailable', database: this.ctx.databaseKind };
    }
  }

  /** Prometheus metrics, for the scraper only (`metricsRefusal`). */
  @Get('metrics')
  @Public()
  @ApiExcludeEndpoint()
  async metrics(@Req() req: Request, @Res() res: Response): Promise<void> {
    const refusal = metricsRefusal(this.ctx.config.metricsToken, req);
    if (refusal !== undefined) {
      if (refusal.code === 'AUTH_REQUIRED') res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      throw refusal;
    }
    res.type(this.ctx.metrics.contentType).send(await this.ctx.metrics.metrics());
  }

  @Get('.well-known/jwks.json')
  @Public()
  @Header('Cache-Control', 'public, max-age=300')
  jwks() {
    return { keys: [this.ctx.signingKey.publicJwk] };
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * Who may read /metrics (they name credentials, request counts and timings an
 * outsider should not map): with `QG_METRICS_TOKEN`, only a caller that sends it as
 * a bearer token; without, only a caller connected over loopback whose request
 * names no proxy, so that a reverse proxy on the same host does not expose it.
 */
export function metricsRefusal(token: string | undefined, req: Request): AppError | undefined {
  if (token !== undefined) {
    const given = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    return given !== undefined && sameSecret(given, token) ? undefined : new AppError('AUTH_REQUIRED', 'metrics need the metrics token (QG_METRICS_TOKEN) as a bearer token');
  }
  const forwarded = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
  if (!forwarded && LOOPBACK.test(req.socket.remoteAddress ?? '')) return undefined;
  return new AppError('FORBIDDEN', 'metrics are served only over loopback unless QG_METRICS_TOKEN is set');
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
