import type { ConstraintValue } from '#libs/contracts';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsInt, IsObject, IsOptional, IsString, IsUUID, Matches, Max, Min, ValidateNested } from 'class-validator';

/** Bounds on a policy's lists: far above any real policy, low enough that no list is a load. */
export const MAX_POLICY_OPERATIONS = 32;
export const MAX_POLICY_GROUP_RULES = 32;
export const MAX_POLICY_REQUESTERS = 256;

export class OperationRuleDto {
  @ApiProperty({ example: 'sign' })
  @IsString()
  @Matches(/^[a-z][a-z.]{1,31}$/)
  kind!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { namespace: 'prod-*' } })
  @IsOptional()
  @IsObject()
  constraints?: Record<string, ConstraintValue>;
}

export class GroupRuleDto {
  @ApiProperty()
  @IsString()
  group!: string;

  @ApiProperty()
  @IsInt()
  @Min(1)
  min!: number;
}

export class ApprovalRuleDto {
  @ApiProperty()
  @IsInt()
  @Min(1)
  @Max(255)
  min!: number;

  @ApiPropertyOptional({ type: [GroupRuleDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_POLICY_GROUP_RULES)
  @ValidateNested({ each: true })
  @Type(() => GroupRuleDto)
  groups?: GroupRuleDto[];

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  allowRequesterApproval?: boolean;
}

export class RequesterRuleDto {
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_POLICY_REQUESTERS)
  @IsString({ each: true })
  roles?: string[];

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_POLICY_REQUESTERS)
  @IsUUID('all', { each: true })
  users?: string[];

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_POLICY_REQUESTERS)
  @IsUUID('all', { each: true })
  serviceAccounts?: string[];
}

export class CreatePolicyDto {
  @ApiProperty({ example: 'release-signing' })
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9._-]{1,63}$/, { message: 'name must be 2-64 characters of a-z, 0-9, dot, underscore or dash' })
  name!: string;

  @ApiProperty()
  @IsUUID()
  credentialId!: string;

  @ApiProperty({ type: [OperationRuleDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_POLICY_OPERATIONS)
  @ValidateNested({ each: true })
  @Type(() => OperationRuleDto)
  operations!: OperationRuleDto[];

  @ApiProperty({ type: ApprovalRuleDto })
  @ValidateNested()
  @Type(() => ApprovalRuleDto)
  approvals!: ApprovalRuleDto;

  @ApiPropertyOptional({ type: RequesterRuleDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RequesterRuleDto)
  requesters?: RequesterRuleDto;

  @ApiPropertyOptional({ default: 3600 })
  @IsOptional()
  @IsInt()
  requestTtlSeconds?: number;

  @ApiPropertyOptional({ description: "the operation's time limit in seconds (default: the gateway's QG_OPERATION_TIMEOUT_SECONDS)", minimum: 1, maximum: 3600 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3600)
  operationTimeoutSeconds?: number;
}

export class PolicyMinDto {
  @ApiProperty({ description: 'at least the credential threshold (Σtⱼ), at most its number of custodians' })
  @IsInt()
  @Min(1)
  @Max(512)
  min!: number;
}

/** PATCH /policies/:id: only `approvals.min` changes (spec §4a: tightened, never below Σtⱼ). */
export class UpdatePolicyDto {
  @ApiProperty({ type: PolicyMinDto })
  @IsObject()
  @ValidateNested()
  @Type(() => PolicyMinDto)
  approvals!: PolicyMinDto;
}
