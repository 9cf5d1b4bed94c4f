import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayUnique, IsArray, IsEmail, IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';
import { NOTIFICATION_CHANNEL_KINDS, NOTIFICATION_EVENT_TYPES, REQUEST_EVENT_TYPES, type NotificationChannelKind, type NotificationEventType } from '#libs/contracts';

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{1,63}$/;
const NAME_MESSAGE = '$property must be 2-64 characters of a-z, 0-9, dot, underscore or dash, starting with a letter or digit';

export class CreateChannelDto {
  @ApiProperty({ example: 'sre-slack' })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  name!: string;

  @ApiProperty({ enum: NOTIFICATION_CHANNEL_KINDS })
  @IsIn(NOTIFICATION_CHANNEL_KINDS)
  kind!: NotificationChannelKind;

  @ApiProperty({ description: 'webhook `{url}`, slack `{webhookUrl}`, email `{to?}` (without `to`: each concerned user at their own address)', example: { url: 'https://siem.example.com/hooks/qg' } })
  @IsObject()
  config!: Record<string, unknown>;

  @ApiPropertyOptional({ enum: NOTIFICATION_EVENT_TYPES, isArray: true, description: `default: every request event (${REQUEST_EVENT_TYPES.join(', ')}); audit.entry only for webhooks` })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(NOTIFICATION_EVENT_TYPES, { each: true })
  events?: NotificationEventType[];
}

/** Absent fields stay as they are; `config` replaces the whole config (a Slack URL is sealed again). */
export class UpdateChannelDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  config?: Record<string, unknown>;

  @ApiPropertyOptional({ enum: NOTIFICATION_EVENT_TYPES, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(NOTIFICATION_EVENT_TYPES, { each: true })
  events?: NotificationEventType[];
}

export class UpdatePreferencesDto {
  @ApiPropertyOptional({ nullable: true, example: 'alice@example.com', description: 'null removes the address' })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsEmail()
  email?: string | null;

  @ApiPropertyOptional({ description: 'event type → whether it reaches me by email; absent types stay as they are', example: { 'request.pending': true, 'request.reminder': false } })
  @IsOptional()
  @IsObject()
  events?: Record<string, unknown>;
}

export function isBooleanRecord(value: Record<string, unknown>): value is Record<string, boolean> {
  return Object.values(value).every((v) => typeof v === 'boolean');
}

export class DeliveriesQuery {
  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}
