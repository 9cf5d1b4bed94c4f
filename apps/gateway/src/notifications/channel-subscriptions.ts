import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditWriter } from '../audit/audit-writer.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { RequestEvents } from '../requests/request-events.js';

/** Every replica LISTENs on it; a channel's creation, change or deletion NOTIFYs it with its commit. */
const CHANGED = 'qg_notification_channels';
/** The longest a replica goes on with what it read, should a notification be lost with its listener's connection. */
const MAX_AGE_MS = 1000;

/**
 * Which event types some notification channel subscribes to, so that a request's
 * transition enqueues its outbox job only when a channel wants what it announces
 * (most gateways have no channel for most events, and the job was 4 of the ~45
 * statements of a request). Read in the asking transaction, at most once a second;
 * forgotten at once on this replica when a channel changes, and on the others
 * through LISTEN/NOTIFY. A channel thus hears the transitions committed once its
 * own creation is known, within a second on every replica (docs/adr/0023).
 */
@Injectable()
export class ChannelSubscriptions implements OnModuleInit {
  private known: { types: ReadonlySet<string>; readAt: number } | undefined;

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
    private readonly events: RequestEvents,
  ) {}

  onModuleInit(): void {
    this.events.onSignal(CHANGED, () => this.forget());
  }

  /** Whether a channel subscribes to one of `types`, read in `tx` when what this replica knows is stale. */
  async wantsAnyOf(tx: EntityManager, types: readonly string[]): Promise<boolean> {
    if (types.length === 0) return false;
    const known = this.known !== undefined && Date.now() - this.known.readAt < MAX_AGE_MS ? this.known.types : await this.read(tx);
    return types.some((type) => known.has(type));
  }

  /** Called inside the transaction that creates, changes or deletes a channel. */
  changed(tx: EntityManager): void {
    this.audit.afterCommit(tx, () => this.forget());
    this.events.signalAtCommit(tx, CHANGED);
  }

  private async read(tx: EntityManager): Promise<ReadonlySet<string>> {
    const readAt = Date.now();
    const rows: { type: string }[] = await tx.query('SELECT DISTINCT unnest(events) AS type FROM notification_channels');
    const types = new Set(rows.map((r) => r.type));
    // A change forgotten while this read was under way must not be overwritten by it.
    if (this.known === undefined || this.known.readAt <= readAt) this.known = { types, readAt };
    return types;
  }

  private forget(): void {
    this.known = undefined;
    this.ctx.log.debug('notification channels changed: their subscriptions are read again');
  }
}
