import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBooleanString, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { HIDDEN_CHARACTERS, REQUEST_STATUSES, type RequestStatus } from '#libs/contracts';

/** A reason is read by reviewers: what they see must be all there is (issue 15 item 2). */
function HasNoHiddenCharacters(): PropertyDecorator {
  // HIDDEN_CHARACTERS is one character class: `[^…]*` is its complement, repeated.
  return Matches(new RegExp(`^[^${HIDDEN_CHARACTERS.source.slice(1)}*$`, 'u'), {
    message: '$property must not contain control, zero-width or bidirectional-override characters (a reviewer could not see them)',
  });
}

export class OperationDto {
  @ApiProperty({ example: 'sign' })
  @IsString()
  @Matches(/^[a-z][a-z.]{1,31}$/)
  kind!: string;

  @ApiProperty({ type: 'object', additionalProperties: true })
  @IsObject()
  params!: Record<string, unknown>;
}

export class SubmitRequestDto {
  @ApiProperty({ description: 'credential id or name' })
  @IsString()
  @Length(1, 64)
  credential!: string;

  @ApiProperty({ type: OperationDto })
  @ValidateNested()
  @Type(() => OperationDto)
  operation!: OperationDto;

  @ApiProperty({ example: 'release v1.2.3 (ticket OPS-42)', description: 'shown to every reviewer: no control, zero-width or bidirectional characters' })
  @IsString()
  @Length(3, 2000)
  @HasNoHiddenCharacters()
  reason!: string;

  @ApiPropertyOptional({ description: 'at most the policy TTL' })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(604800)
  ttlSeconds?: number;
}

/** POST /requests/preview: a submission's body without the reason; nothing is created. */
export class PreviewRequestDto extends OmitType(SubmitRequestDto, ['reason'] as const) {}

export class DecisionDto {
  @ApiProperty({ enum: ['approve', 'reject'] })
  @IsIn(['approve', 'reject'])
  decision!: 'approve' | 'reject';

  @ApiProperty({ description: 'JWS compact, ES256, typ qg-approval+jwt' })
  @IsString()
  @Length(20, 4096)
  statement!: string;

  @ApiPropertyOptional({ description: 'the share as JWE to the request key; omitted on reject' })
  @IsOptional()
  @IsString()
  @Length(20, 8192)
  share?: string;

  @ApiPropertyOptional({ description: 'why (shown to the requester), mostly for rejects' })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  @HasNoHiddenCharacters()
  reason?: string;
}

/** The most requests one page lists. */
export const MAX_REQUESTS_PAGE = 500;

export class ListRequestsQuery {
  @ApiPropertyOptional({ enum: REQUEST_STATUSES })
  @IsOptional()
  @IsIn(REQUEST_STATUSES)
  status?: RequestStatus;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBooleanString()
  approvable?: string;

  @ApiPropertyOptional({ default: 100, maximum: MAX_REQUESTS_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_REQUESTS_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'the nextCursor of the previous page, unchanged' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  cursor?: string;
}

export class WaitQuery {
  @ApiPropertyOptional({ default: 30, maximum: 300 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(300)
  timeoutSeconds?: number;
}
