import { Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { Roles } from '../auth/decorators.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { AuditService, type CheckpointView } from './audit.service.js';

/** The most entries one page lists. */
export const MAX_AUDIT_PAGE = 1000;

export class AuditQuery {
  @ApiPropertyOptional({ default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  afterSeq?: number;

  @ApiPropertyOptional({ default: 100, maximum: MAX_AUDIT_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_AUDIT_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'the nextCursor of the previous page, unchanged; instead of afterSeq' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  cursor?: string;
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
    if (query.cursor !== undefined && query.afterSeq !== undefined) throw new AppError('VALIDATION_FAILED', 'send either afterSeq or cursor, not both');
    const afterSeq = query.cursor !== undefined ? decodeCursor(query.cursor, 'audit').afterSeq : (query.afterSeq ?? 0);
    const limit = query.limit ?? 100;
    const page = await this.audit.list(afterSeq, limit + 1);
    const entries = page.slice(0, limit);
    const last = entries[entries.length - 1];
    return { entries, nextCursor: page.length > limit && last !== undefined ? encodeCursor({ list: 'audit', afterSeq: last.seq }) : null };
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
