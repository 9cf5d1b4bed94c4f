import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { CreatedNotificationChannel, NotificationChannel, NotificationDelivery, NotificationEventType } from '#libs/contracts';
import { CurrentPrincipal, Roles } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../http/app-error.js';
import { CreateChannelDto, DeliveriesQuery, UpdateChannelDto } from './channels.dto.js';
import type { ChannelRow, DeliveryRow } from './channels.repository.js';
import { ChannelsService } from './channels.service.js';
import { NotificationDispatcher } from './notification-dispatcher.js';

/** Lists the fields it sends: never the sealed secret. */
export function toChannelResponse(channel: ChannelRow): NotificationChannel {
  return {
    id: channel.id,
    name: channel.name,
    kind: channel.kind,
    config: channel.config,
    events: channel.events,
    auditCursor: Number(channel.auditCursor),
    lastError: channel.lastError,
    createdAt: channel.createdAt.toISOString(),
    updatedAt: channel.updatedAt.toISOString(),
  };
}

function toDeliveryResponse(d: DeliveryRow): NotificationDelivery {
  return {
    id: d.id,
    eventId: d.eventId,
    type: d.eventType as NotificationEventType,
    recipient: d.recipient,
    status: d.status,
    attempts: d.attempts,
    lastError: d.lastError,
    createdAt: d.createdAt.toISOString(),
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
  };
}

@ApiTags('notifications')
@ApiBearerAuth()
@Controller('api/v1/notification-channels')
@Roles('admin')
export class ChannelsController {
  constructor(
    private readonly channels: ChannelsService,
    private readonly dispatcher: NotificationDispatcher,
  ) {}

  @Post()
  @HttpCode(201)
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateChannelDto): Promise<CreatedNotificationChannel> {
    const { channel, signingSecret } = await this.channels.create(principal, body);
    return { ...toChannelResponse(channel), ...(signingSecret !== undefined ? { signingSecret } : {}) };
  }

  @Get()
  async list(): Promise<{ channels: NotificationChannel[] }> {
    return { channels: (await this.channels.list()).map(toChannelResponse) };
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<NotificationChannel> {
    return toChannelResponse(await this.channels.get(id));
  }

  @Patch(':id')
  async update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: UpdateChannelDto): Promise<NotificationChannel> {
    if (body.name === undefined && body.config === undefined && body.events === undefined) throw new AppError('VALIDATION_FAILED', 'give at least one of name, config, events');
    return toChannelResponse(await this.channels.update(principal, id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    await this.channels.delete(principal, id);
  }

  @Post(':id/test')
  @HttpCode(202)
  async test(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<{ deliveryId: string; eventId: string }> {
    return this.dispatcher.sendTest(id, principal);
  }

  @Get(':id/deliveries')
  async deliveries(@Param('id') id: string, @Query() query: DeliveriesQuery): Promise<{ deliveries: NotificationDelivery[] }> {
    return { deliveries: (await this.channels.deliveries(id, query.limit ?? 100)).map(toDeliveryResponse) };
  }
}
