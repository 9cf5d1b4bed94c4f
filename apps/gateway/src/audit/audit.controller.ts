import { Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { Roles } from '../auth/decorators.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { AuditService, type CheckpointView } from './audit.service.js';

export class AuditQuery {
  @ApiPropertyOptional({ default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  afterSeq?: number;

  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class CheckpointsQuery {
  @ApiPropertyOptional({ default: 0, description: 'only checkpoints with a higher seq' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  afterSeq?: number;
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/v1/audit')
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
  ) {}

  @Get()
  @Roles('auditor')
  async list(@Query() query: AuditQuery) {
    return { entries: await this.audit.list(query.afterSeq ?? 0, query.limit ?? 100) };
  }

  @Get('verify')
  @Roles('auditor')
  verify() {
    return this.audit.verify();
  }

  /** Each object carries `jws`, the only part that counts (spec §3: `{checkpoints: [jws]}`); the JWKS saves a client a request. */
  @Get('checkpoints')
  @Roles('auditor')
  async checkpoints(@Query() query: CheckpointsQuery): Promise<{ checkpoints: CheckpointView[]; jwks: { keys: unknown[] } }> {
    return { checkpoints: await this.audit.checkpoints(query.afterSeq ?? 0), jwks: { keys: [this.ctx.signingKey.publicJwk] } };
  }

  @Post('checkpoints')
  @HttpCode(201)
  @Roles('auditor')
  async createCheckpoint(): Promise<CheckpointView | null> {
    const outcome = await this.audit.checkpoint();
    switch (outcome.kind) {
      case 'signed':
      case 'current':
        return outcome.checkpoint;
      case 'empty':
        return null;
      case 'refused':
        throw new AppError('CONFLICT', `the audit chain does not verify, so no checkpoint was signed: ${outcome.reason}`, {
          firstBadSeq: outcome.firstBadSeq,
          auditCode: outcome.code,
        });
    }
  }
}
