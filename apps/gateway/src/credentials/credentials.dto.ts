import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBase64, IsIn, IsInt, IsObject, IsOptional, IsString, IsUUID, Length, Matches, Max, Min, ValidateNested } from 'class-validator';

import { CREDENTIAL_KINDS, GENERATED_SIGNING_ALGS, type CredentialKind, type GeneratedSigningAlg } from '#libs/contracts';

export type { CredentialKind };

export class GenerateKeyDto {
  @ApiProperty({ enum: GENERATED_SIGNING_ALGS })
  @IsIn(GENERATED_SIGNING_ALGS)
  alg!: GeneratedSigningAlg;
}

/** One sharing group (spec §3a); the cross-group rules are `checkSharingStructure`'s. */
export class SharingGroupDto {
  @ApiProperty({ example: 'sre' })
  @IsString()
  @Length(1, 64)
  name!: string;

  @ApiProperty({ minimum: 1, maximum: 32 })
  @IsInt()
  @Min(1)
  @Max(32)
  threshold!: number;

  @ApiProperty({ type: [String], description: 'user ids; share i of the group goes to custodians[i-1]' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(32)
  @IsUUID('all', { each: true })
  custodians!: string[];
}

export class SharingDto {
  @ApiProperty({ type: [SharingGroupDto], description: 'any tⱼ of every group: the data key is split across groups, then within each' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(16)
  @ValidateNested({ each: true })
  @Type(() => SharingGroupDto)
  groups!: SharingGroupDto[];
}

export class CreateCredentialDto {
  @ApiProperty({ example: 'prod-release-key' })
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9._-]{1,63}$/, { message: 'name must be 2-64 characters of a-z, 0-9, dot, underscore or dash' })
  name!: string;

  @ApiProperty({ enum: CREDENTIAL_KINDS })
  @IsIn(CREDENTIAL_KINDS)
  kind!: CredentialKind;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  config?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'the secret as text; or use secretBase64' })
  @IsOptional()
  @IsString()
  @Length(1, 262144)
  secret?: string;

  @ApiPropertyOptional({ description: 'the secret as base64 bytes' })
  @IsOptional()
  @IsBase64()
  @Length(1, 349528)
  secretBase64?: string;

  @ApiPropertyOptional({ type: GenerateKeyDto, description: 'signing-key only, instead of a secret: the gateway generates the key pair and nobody ever holds the private key' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => GenerateKeyDto)
  generate?: GenerateKeyDto;

  @ApiPropertyOptional({ minimum: 1, maximum: 3650, default: 90, description: 'a custodian who has not checked in for this many days no longer counts as live (spec §4a)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  checkInDays?: number;

  @ApiPropertyOptional({ type: [String], description: 'user ids of the custodians; share i goes to custodians[i-1]; or use sharing' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(255)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  custodians?: string[];

  @ApiPropertyOptional({ minimum: 1, description: 'with custodians' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(255)
  threshold?: number;

  @ApiPropertyOptional({ type: SharingDto, description: 'grouped sharing (spec §3a), instead of custodians + threshold' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SharingDto)
  sharing?: SharingDto;
}
