import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
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

  @Get('metrics')
  @Public()
  @ApiExcludeEndpoint()
  async metrics(@Res() res: Response): Promise<void> {
    res.type(this.ctx.metrics.contentType).send(await this.ctx.metrics.metrics());
  }

  @Get('.well-known/jwks.json')
  @Public()
  @Header('Cache-Control', 'public, max-age=300')
  jwks() {
    return { keys: [this.ctx.signingKey.publicJwk] };
  }
}
