import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager, QueryRunner } from 'typeorm';
import { chainEntry } from '#libs/audit';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';

export interface AuditEvent {
  actor: string;
  action: string;
  subject: string;
  data?: Record<string, unknown>;
}

/**
 * Every state change runs in `transaction()`, and its audit entries commit with it
 * or not at all (spec §2.7). Entries recorded with `append` are chained at the end
 * of the transaction: the chain head is locked only for those last statements, so
 * the lock that serialises appenders across replicas is held as briefly as it can be.
 */
@Injectable()
export class AuditWriter {
  private readonly pending = new WeakMap<QueryRunner, AuditEvent[]>();

  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {}

  /** A database transaction whose recorded audit entries are appended before it commits. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.ctx.dataSource.transaction(async (tx) => {
      const runner = tx.queryRunner;
      if (runner === undefined) throw new Error('transaction without a query runner');
      this.pending.set(runner, []);
      try {
        const result = await work(tx);
        await this.flush(tx, this.pending.get(runner) ?? []);
        return result;
      } finally {
        this.pending.delete(runner);
      }
    });
  }

  /** Records an entry for the enclosing `transaction()`; outside one it is a programming error. */
  async append(tx: EntityManager, event: AuditEvent): Promise<void> {
    const queue = tx.queryRunner === undefined ? undefined : this.pending.get(tx.queryRunner);
    if (queue === undefined || !tx.queryRunner?.isTransactionActive) {
      throw new TypeError('audit entries are appended only inside AuditWriter.transaction()');
    }
    queue.push(event);
  }

  private async flush(tx: EntityManager, events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const heads: { seq: string; hash: string }[] = await tx.query('SELECT seq, hash FROM audit_head WHERE id FOR UPDATE');
    const head = heads[0];
    if (head === undefined) throw new Error('audit_head row is missing');
    let previous = Number(head.seq) === 0 ? null : { seq: Number(head.seq), hash: head.hash };
    const at = this.ctx.now().toISOString();
    const columns: unknown[][] = [[], [], [], [], [], [], [], []];
    for (const event of events) {
      const entry = chainEntry(previous, { at, actor: event.actor, action: event.action, subject: event.subject, data: event.data ?? {} });
      [entry.seq, entry.at, entry.actor, entry.action, entry.subject, JSON.stringify(entry.data), entry.prevHash, entry.hash].forEach((v, i) => columns[i]?.push(v));
      previous = { seq: entry.seq, hash: entry.hash };
    }
    await tx.query(
      `WITH appended AS (
         INSERT INTO audit_log (seq, at, actor, action, subject, data, prev_hash, hash)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[], $8::text[]))
       UPDATE audit_head SET seq = $9, hash = $10 WHERE id`,
      [...columns, previous?.seq, previous?.hash],
    );
  }
}
