import { Body, Controller, Get, Inject, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { REQUEST_EVENT_TYPES, type NotificationPreferences, type RequestEventType } from '#libs/contracts';
import { AuditWriter } from '../audit/audit-writer.js';
import { Authenticated, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { isBooleanRecord, UpdatePreferencesDto } from './channels.dto.js';

interface PreferenceRow {
  email: string | null;
  emailEvents: string[] | null;
}

function toPreferences(row: PreferenceRow): NotificationPreferences {
  const on = row.emailEvents ?? REQUEST_EVENT_TYPES;
  return { email: row.email, events: Object.fromEntries(REQUEST_EVENT_TYPES.map((t) => [t, on.includes(t)])) as Record<RequestEventType, boolean> };
}

function isRequestEventType(type: string): type is RequestEventType {
  return REQUEST_EVENT_TYPES.some((t) => t === type);
}

/** A user's email address and which events reach them there (a service account has neither). */
@ApiTags('notifications')
@ApiBearerAuth()
@Controller('api/v1/me/notifications')
@Authenticated()
export class PreferencesController {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
  ) {}

  @Get()
  async get(@CurrentPrincipal() principal: Principal): Promise<NotificationPreferences> {
    return toPreferences(await this.row(this.ctx.dataSource, principal));
  }

  @Put()
  async put(@CurrentPrincipal() principal: Principal, @Body() body: UpdatePreferencesDto): Promise<NotificationPreferences> {
    // Who may first, then what they sent.
    if (principal.kind !== 'user') throw new AppError('FORBIDDEN', 'service accounts receive no email');
    if (body.email === undefined && body.events === undefined) throw new AppError('VALIDATION_FAILED', 'send email, events or both: what to change');
    const events = body.events ?? {};
    if (!isBooleanRecord(events)) throw new AppError('VALIDATION_FAILED', 'events must map event types to true or false');
    const unknown = Object.keys(events).filter((t) => !isRequestEventType(t));
    if (unknown.length > 0) throw new AppError('VALIDATION_FAILED', `unknown event type(s): ${unknown.join(', ')}; one of ${REQUEST_EVENT_TYPES.join(', ')}`);
    return this.audit.transaction(async (tx) => {
      const current = await this.row(tx, principal, true);
      const on = new Set(current.emailEvents ?? REQUEST_EVENT_TYPES);
      for (const [type, wanted] of Object.entries(events)) {
        if (wanted) on.add(type);
        else on.delete(type);
      }
      const email = body.email === undefined ? current.email : body.email;
      const emailEvents = REQUEST_EVENT_TYPES.filter((t) => on.has(t));
      // What is already so is neither written nor audited.
      if (email === current.email && emailEvents.join() === (current.emailEvents ?? REQUEST_EVENT_TYPES).join()) return toPreferences({ email, emailEvents });
      await tx.query('UPDATE users SET email = $2, email_events = $3 WHERE id = $1', [principal.id, email, emailEvents]);
      await this.audit.append(tx, { actor: `user:${principal.id}`, action: 'user.notifications_changed', subject: `user:${principal.id}`, data: { emailSet: email !== null, emailEvents } });
      return toPreferences({ email, emailEvents });
    });
  }

  private async row(db: { query: (sql: string, params: unknown[]) => Promise<PreferenceRow[]> }, principal: Principal, lock = false): Promise<PreferenceRow> {
    if (principal.kind !== 'user') throw new AppError('FORBIDDEN', 'service accounts receive no email');
    const rows = await db.query(`SELECT email, email_events AS "emailEvents" FROM users WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [principal.id]);
    const row = rows[0];
    if (row === undefined) throw new AppError('NOT_FOUND', 'no such user');
    return row;
  }
}
