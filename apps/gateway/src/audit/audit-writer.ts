import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { chainEntry, type AuditEntry } from '#libs/audit';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';

export interface AuditEvent {
  actor: string;
  action: string;
  subject: string;
  data?: Record<string, unknown>;
}

/**
 * Appends to the hash-chained audit log inside the caller's transaction, so a
 * state change and its audit entry commit or fail together (spec §2.7). The
 * head row lock serialises appenders across replicas.
 */
@Injectable()
export class AuditWriter {
  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {}

  async append(manager: EntityManager, event: AuditEvent): Promise<AuditEntry> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new TypeError('audit entries are appended only inside the transaction of the change they record');
    }
    const heads: { seq: string; hash: string }[] = await manager.query('SELECT seq, hash FROM audit_head WHERE id FOR UPDATE');
    const head = heads[0];
    if (head === undefined) throw new Error('audit_head row is missing');
    const previous = Number(head.seq) === 0 ? null : { seq: Number(head.seq), hash: head.hash };
    const entry = chainEntry(previous, {
      at: this.ctx.now().toISOString(),
      actor: event.actor,
      action: event.action,
      subject: event.subject,
      data: event.data ?? {},
    });
    await manager.query(
      'INSERT INTO audit_log (seq, at, actor, action, subject, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.data, entry.prevHash, entry.hash],
    );
    await manager.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE id', [entry.seq, entry.hash]);
    return entry;
  }
}
