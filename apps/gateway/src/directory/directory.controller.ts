import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import type { DirectoryPage, PrincipalKind } from '#libs/contracts';
import { Roles } from '../auth/decorators.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { decodeDirectoryCursor, encodeDirectoryCursor, searchDirectory } from './directory.repository.js';

export const MAX_DIRECTORY_PAGE = 200;
const KINDS: PrincipalKind[] = ['user', 'service_account'];

export class DirectoryQuery {
  @ApiPropertyOptional({ description: 'part of a name or username, any case (empty: everyone)', maxLength: 64 })
  @IsOptional()
  @IsString()
  @Length(0, 64)
  q?: string;

  @ApiPropertyOptional({ enum: KINDS })
  @IsOptional()
  @IsIn(KINDS)
  kind?: PrincipalKind;

  @ApiPropertyOptional({ default: 50, maximum: MAX_DIRECTORY_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_DIRECTORY_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'the nextCursor of the previous page, unchanged' })
  @IsOptional()
  @IsString()
  @Length(1, 400)
  cursor?: string;
}

/**
 * Read-only directory of people and service accounts by name (issue 19 item 4), for
 * those who choose them in a policy or credential and those who read the audit log.
 * It tells names, roles and whether an account is active; nothing else (no keys, no
 * groups, no owner, no dates).
 */
@ApiTags('accounts')
@ApiBearerAuth()
@Controller('api/v1/directory')
export class DirectoryController {
  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {}

  @Get()
  @Roles('admin', 'security_lead', 'auditor')
  @ApiOkResponse({ description: '{entries: [{kind, id, name, username?, roles, active}], nextCursor}, ordered by name' })
  async search(@Query() query: DirectoryQuery): Promise<DirectoryPage> {
    const after = query.cursor !== undefined ? decodeDirectoryCursor(query.cursor) : undefined;
    const { entries, last, more } = await searchDirectory(this.ctx.dataSource, { q: query.q ?? '', kind: query.kind, after, limit: query.limit ?? 50 });
    return { entries, nextCursor: more && last !== undefined ? encodeDirectoryCursor(last) : null };
  }
}
