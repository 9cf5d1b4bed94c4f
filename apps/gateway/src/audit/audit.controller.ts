import { Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { AUDIT_ACTIONS, AUDIT_SEARCH_MAX } from '#libs/contracts';
import { Roles } from '../auth/decorators.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { AuditService, type AuditFilter, type CheckpointView } from './audit.service.js';

/** An action, or a family of them (`request.*`): the families are the prefixes of AUDIT_ACTIONS. */
const AUDIT_ACTION_FILTERS: readonly string[] = [...AUDIT_ACTIONS, ...new Set(AUDIT_ACTIONS.map((a) => `${a.split('.')[0] ?? a}.*`))];
/** What an audit actor looks like: `user:<uuid>`, `service_account:<uuid>`, `system`. */
const ACTOR_PATTERN = /^[a-z_]{1,40}(:[A-Za-z0-9-]{1,64})?$/;

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

  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'asc', description: 'asc: oldest first (seq order); desc: newest first' })
  @IsOptional()
  @IsIn(['asc', 'desc'])
  order?: 'asc' | 'desc';

  @ApiPropertyOptional({ description: 'only entries by this actor, exactly as entries name it: `user:<id>`, `service_account:<id>`, `system`', maxLength: 105 })
  @IsOptional()
  @IsString()
  @Matches(ACTOR_PATTERN, { message: 'actor must look like user:<id>, service_account:<id> or system' })
  actor?: string;

  @ApiPropertyOptional({ description: 'only entries with this action, or a family of actions such as `request.*`', enum: AUDIT_ACTION_FILTERS })
  @IsOptional()
  @IsIn(AUDIT_ACTION_FILTERS, { message: 'action must be an audit action (e.g. keys.enrolled) or a family (e.g. request.*)' })
  action?: string;

  @ApiPropertyOptional({ description: 'only entries about this subject, exactly (e.g. `request:<id>`, `user:<id>`)', maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(/^[\x21-\x7e]+$/, { message: 'subject is printable ASCII without spaces, as entries name it' })
  subject?: string;

  @ApiPropertyOptional({ description: 'only entries at or after this instant (RFC 3339)', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  @Length(10, 40)
  from?: string;

  @ApiPropertyOptional({ description: 'only entries before this instant (RFC 3339)', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  @Length(10, 40)
  to?: string;

  @ApiPropertyOptional({ description: 'only entries whose actor, action, subject or data contain this text (case-insensitive)', maxLength: AUDIT_SEARCH_MAX })
  @IsOptional()
  @IsString()
  @Length(1, AUDIT_SEARCH_MAX)
  q?: string;
}

/** An RFC 3339 instant as entries store `at` (toISOString), so that text comparison orders it; bad input is a 400. */
function instant(text: string | undefined, name: string): string | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms) || !/(Z|[+-]\d{2}:\d{2})$/i.test(text)) throw new AppError('VALIDATION_FAILED', `${name} must be an RFC 3339 date-time with a time zone, e.g. 2026-12-01T00:00:00Z`);
  const date = new Date(ms);
  if (date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999) throw new AppError('VALIDATION_FAILED', `${name} is out of range`);
  return date.toISOString();
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
    const desc = query.order === 'desc';
    const from = instant(query.from, 'from');
    const to = instant(query.to, 'to');
    if (from !== undefined && to !== undefined && from > to) throw new AppError('VALIDATION_FAILED', 'from must not be after to');
    const filter: AuditFilter = { desc, afterSeq: query.afterSeq ?? 0, actor: query.actor, action: query.action, subject: query.subject, from, to, q: query.q };
    if (query.cursor !== undefined) {
      if (desc) filter.beforeSeq = decodeCursor(query.cursor, 'audit-desc').beforeSeq;
      else filter.afterSeq = decodeCursor(query.cursor, 'audit').afterSeq;
    }
    const limit = query.limit ?? 100;
    const page = await this.audit.list(filter, limit + 1);
    const entries = page.slice(0, limit);
    const last = entries[entries.length - 1];
    const more = page.length > limit && last !== undefined;
    return { entries, nextCursor: !more ? null : encodeCursor(desc ? { list: 'audit-desc', beforeSeq: last.seq } : { list: 'audit', afterSeq: last.seq }) };
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
