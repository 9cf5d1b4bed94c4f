import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { ROLES, type Role } from '../auth/principal.js';

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{1,63}$/;
const NAME_MESSAGE = '$property must be 2-64 characters of a-z, 0-9, dot, underscore or dash, starting with a letter or digit';

/** The most groups one user is in. */
export const MAX_GROUPS_PER_USER = 64;

/** A list of distinct roles. */
const IsRoleList = () => applyDecorators(IsArray(), ArrayMaxSize(ROLES.length), ArrayUnique(), IsIn(ROLES, { each: true }));

/** A list of distinct group names. */
const IsGroupList = () =>
  applyDecorators(IsArray(), ArrayMaxSize(MAX_GROUPS_PER_USER), ArrayUnique(), IsString({ each: true }), Matches(NAME_PATTERN, { each: true, message: NAME_MESSAGE }));

export class CreateUserDto {
  @ApiProperty({ example: 'alice' })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  username!: string;

  @ApiProperty({ minLength: 12 })
  @IsString()
  @Length(12, 256)
  password!: string;

  @ApiProperty({ example: 'Alice Example' })
  @IsString()
  @Length(1, 200)
  displayName!: string;

  @ApiProperty({ enum: ROLES, isArray: true })
  @IsRoleList()
  roles!: Role[];

  @ApiPropertyOptional({ type: [String], example: ['sre'] })
  @IsOptional()
  @IsGroupList()
  groups?: string[];
}

/** At least one field (checked by the controller); absent fields stay as they are. */
export class UpdateUserDto {
  @ApiPropertyOptional({ enum: ROLES, isArray: true })
  @IsOptional()
  @IsRoleList()
  roles?: Role[];

  @ApiPropertyOptional({ type: [String], example: ['sre'] })
  @IsOptional()
  @IsGroupList()
  groups?: string[];

  @ApiPropertyOptional({ description: 'true: the user can no longer sign in, and their tokens are refused from their next call' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

export class CreateServiceAccountDto {
  @ApiProperty({ example: 'ci-release' })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  name!: string;

  @ApiProperty({ enum: ROLES, isArray: true })
  @IsRoleList()
  roles!: Role[];

  @ApiPropertyOptional({ format: 'uuid', description: 'the user answerable for the account, who counts as its requester for the no-self-approval rule; default: the admin creating it' })
  @IsOptional()
  @IsUUID('all', { message: 'ownerId must be the id of a user' })
  ownerId?: string;
}

export class LoginDto {
  @ApiProperty()
  @IsString()
  @Length(1, 64)
  username!: string;

  @ApiProperty()
  @IsString()
  @Length(1, 256)
  password!: string;
}

export class ResetPasswordDto {
  @ApiProperty({ minLength: 12, description: 'a password the user must change at their next login' })
  @IsString()
  @Length(12, 256)
  password!: string;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @Length(1, 256)
  currentPassword!: string;

  @ApiProperty({ minLength: 12 })
  @IsString()
  @Length(12, 256)
  newPassword!: string;
}
