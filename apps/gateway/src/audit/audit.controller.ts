import { Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { Roles } from '../auth/decorators.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AuditService } from './audit.service.js';

export class AuditQuery {
  @ApiPropertyOptional({ default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  afterSeq?: number;

  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
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

  @Get('checkpoints')
  @Roles('auditor')
  async checkpoints() {
    return { checkpoints: await this.audit.checkpoints(), jwks: { keys: [this.ctx.signingKey.publicJwk] } };
  }

  @Post('checkpoints')
  @HttpCode(201)
  @Roles('auditor')
  async createCheckpoint() {
    return (await this.audit.checkpoint()) ?? null;
  }
}
