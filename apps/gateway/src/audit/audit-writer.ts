import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import type { EntityManager, QueryRunner } from 'typeorm';
import { entryHashTemplate } from '#libs/audit';
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
 * of the transaction, by the database in the statement that locks the chain head
 * (`append_audit_entries`), so that the lock serialising every replica's state
 * changes is held for that statement and the commit, with no round trip to this
 * process in between (docs/adr/0005).
 */
@Injectable()
export class AuditWriter {
  private readonly pending = new WeakMap<QueryRunner, AuditEvent[]>();

  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {}

  /** A database transaction whose recorded audit entries are appended as it commits. */
  async transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    const runner = this.ctx.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      this.pending.set(runner, []);
      const result = await work(runner.manager);
      await this.appendAndCommit(runner, this.pending.get(runner) ?? []);
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      this.pending.delete(runner);
      await runner.release();
    }
  }

  /** Records an entry for the enclosing `transaction()`; outside one it is a programming error. */
  async append(tx: EntityManager, event: AuditEvent): Promise<void> {
    const queue = tx.queryRunner === undefined ? undefined : this.pending.get(tx.queryRunner);
    if (queue === undefined || !tx.queryRunner?.isTransactionActive) {
      throw new TypeError('audit entries are appended only inside AuditWriter.transaction()');
    }
    queue.push(event);
  }

  /**
   * The chain head is locked from the append to the commit, and every state change of
   * every replica waits for it. On PostgreSQL both go in one simple-protocol message,
   * the entries inlined as escaped literals, so that no round trip to this (possibly
   * busy) process falls inside the lock. The embedded database has one connection:
   * nothing waits there, and the append takes bound parameters.
   */
  private async appendAndCommit(runner: QueryRunner, events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return runner.commitTransaction();
    const at = this.ctx.now().toISOString();
    const columns: string[][] = [[], [], [], [], [], [], []];
    for (const event of events) {
      const entry = { at, actor: event.actor, action: event.action, subject: event.subject, data: event.data ?? {} };
      const { head, tail, data } = entryHashTemplate(entry);
      [entry.at, entry.actor, entry.action, entry.subject, data, head, tail].forEach((v, i) => columns[i]?.push(v));
    }
    const types = ['text', 'text', 'text', 'text', 'jsonb', 'text', 'text'];
    if (this.ctx.databaseKind !== 'postgres') {
      await runner.query(`SELECT append_audit_entries(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`, columns);
      return runner.commitTransaction();
    }
    const literals = columns.map((values, i) => `ARRAY[${values.map((v) => pg.escapeLiteral(v)).join(', ')}]::${types[i]}[]`);
    await runner.query(`SELECT append_audit_entries(${literals.join(', ')}); COMMIT`);
    // Committed by the message above: the runner must not send its own COMMIT or ROLLBACK.
    (runner as { isTransactionActive: boolean }).isTransactionActive = false;
  }
}
