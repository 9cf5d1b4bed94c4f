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

  @ApiProperty({ type: [String], description: 'user ids of the custodians; share i goes to custodians[i-1]' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(255)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  custodians!: string[];

  @ApiProperty({ minimum: 1 })
  @IsInt()
  @Min(1)
  @Max(255)
  threshold!: number;
}
