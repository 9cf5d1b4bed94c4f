import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import type { EntityManager, QueryRunner } from 'typeorm';
import { entryHashTemplate } from '#libs/audit';
import type { AuditAction } from '#libs/contracts';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';

export interface AuditEvent {
  actor: string;
  action: AuditAction;
  subject: string;
  data?: Record<string, unknown>;
}

/**
 * A statement a transaction opens with: on PostgreSQL it goes in one message with the
 * `START TRANSACTION` (simple protocol, its values inlined as escaped literals), so the
 * transaction's first answer costs one round trip, not two. `$n` placeholders, none
 * inside its own literals; text values only; no other `$`.
 */
export interface OpeningStatement {
  text: string;
  values: string[];
}

/** What a transaction leaves for its commit. */
interface AtCommit {
  entries: AuditEvent[];
  notifications: { channel: string; payload: string }[];
  afterCommit: (() => void)[];
}

/**
 * Every state change runs in `transaction()`, and its audit entries commit with it
 * or not at all (spec §2.7). Entries recorded with `append` are chained at the end
 * of the transaction, by the database in the statement that locks the chain head
 * (`append_audit_entries`), so that the lock serialising every replica's state
 * changes is held for that statement and the commit, with no round trip to this
 * process in between (docs/adr/0005). Change notifications go with the commit too.
 */
@Injectable()
export class AuditWriter {
  private readonly pending = new WeakMap<QueryRunner, AtCommit>();
  private readonly commitObservers: ((entries: readonly AuditEvent[]) => void)[] = [];

  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {}

  /**
   * A database transaction whose recorded audit entries are appended as it commits.
   * `opening`: statements it starts with, whose rows `work` gets, one array each.
   */
  async transaction<T>(work: (tx: EntityManager, opened: unknown[][]) => Promise<T>, opening: readonly OpeningStatement[] = []): Promise<T> {
    const runner = this.ctx.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const opened = await this.begin(runner, opening);
      const atCommit: AtCommit = { entries: [], notifications: [], afterCommit: [] };
      this.pending.set(runner, atCommit);
      const result = await work(runner.manager, opened);
      await this.appendAndCommit(runner, atCommit);
      for (const callback of [...this.commitObservers.map((observe) => () => observe(atCommit.entries)), ...atCommit.afterCommit]) {
        try {
          callback();
        } catch (error) {
          // Committed already: the caller must hear that, not this.
          this.ctx.log.error({ err: error }, 'an after-commit callback failed');
        }
      }
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      this.pending.delete(runner);
      await runner.release();
    }
  }

  /** Runs after every committed `transaction()`, with the audit entries it appended. */
  observeCommits(observer: (entries: readonly AuditEvent[]) => void): void {
    this.commitObservers.push(observer);
  }

  /** Starts the transaction with its opening statements: one message on PostgreSQL, one statement at a time on the embedded database. */
  private async begin(runner: QueryRunner, opening: readonly OpeningStatement[]): Promise<unknown[][]> {
    if (this.ctx.databaseKind !== 'postgres' || opening.length === 0) {
      await runner.startTransaction();
      const opened: unknown[][] = [];
      for (const statement of opening) opened.push((await runner.query(statement.text, statement.values)) as unknown[]);
      return opened;
    }
    const client = (await runner.connect()) as pg.PoolClient;
    // What startTransaction() would have recorded: the commit and rollback below rely on it.
    Object.assign(runner, { isTransactionActive: true, transactionDepth: 1 });
    const message = ['START TRANSACTION', ...opening.map(inlined)].join('; ');
    const results = (await client.query(message)) as unknown as pg.QueryResult[];
    return results.slice(1).map((r) => r.rows);
  }

  /** Records an entry for the enclosing `transaction()`; outside one it is a programming error. */
  async append(tx: EntityManager, event: AuditEvent): Promise<void> {
    this.atCommit(tx).entries.push(event);
  }

  /** `NOTIFY channel, payload` with the commit: PostgreSQL delivers it only if the transaction commits. */
  notifyAtCommit(tx: EntityManager, channel: string, payload: string): void {
    this.atCommit(tx).notifications.push({ channel, payload });
  }

  /** Runs once the transaction has committed; never if it rolls back. */
  afterCommit(tx: EntityManager, callback: () => void): void {
    this.atCommit(tx).afterCommit.push(callback);
  }

  private atCommit(tx: EntityManager): AtCommit {
    const atCommit = tx.queryRunner === undefined ? undefined : this.pending.get(tx.queryRunner);
    if (atCommit === undefined || !tx.queryRunner?.isTransactionActive) {
      throw new TypeError('audit entries and notifications are recorded only inside AuditWriter.transaction()');
    }
    return atCommit;
  }

  /**
   * The chain head is locked from the append to the commit, and every state change of
   * every replica waits for it. On PostgreSQL the append, the notifications and the
   * commit go in one simple-protocol message, the values inlined as escaped literals,
   * so that no round trip to this (possibly busy) process falls inside the lock. The
   * embedded database has one connection: nothing waits there, and the statements
   * take bound parameters.
   */
  private async appendAndCommit(runner: QueryRunner, { entries, notifications }: AtCommit): Promise<void> {
    const columns = entryColumns(this.ctx.now().toISOString(), entries);
    if (this.ctx.databaseKind !== 'postgres') {
      if (entries.length > 0) await runner.query(`SELECT append_audit_entries(${COLUMN_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`, columns);
      for (const { channel, payload } of notifications) await runner.query('SELECT pg_notify($1, $2)', [channel, payload]);
      return runner.commitTransaction();
    }
    if (entries.length === 0 && notifications.length === 0) return runner.commitTransaction();
    const literals = columns.map((values, i) => `ARRAY[${values.map((v) => pg.escapeLiteral(v)).join(', ')}]::${COLUMN_TYPES[i]}[]`);
    const statements = [
      ...(entries.length > 0 ? [`SELECT append_audit_entries(${literals.join(', ')})`] : []),
      ...notifications.map(({ channel, payload }) => `SELECT pg_notify(${pg.escapeLiteral(channel)}, ${pg.escapeLiteral(payload)})`),
      'COMMIT',
    ];
    await runner.query(statements.join('; '));
    // Committed by the message above: the runner must not send its own COMMIT or ROLLBACK.
    (runner as { isTransactionActive: boolean }).isTransactionActive = false;
  }
}

const COLUMN_TYPES = ['text', 'text', 'text', 'text', 'jsonb', 'text', 'text'];

/** The statement with each `$n` replaced by its value as an escaped literal. */
function inlined({ text, values }: OpeningStatement): string {
  if (/\$(?!\d)/.test(text)) throw new TypeError('an opening statement carries no $ but its placeholders');
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const value = values[Number(n) - 1];
    if (value === undefined) throw new TypeError(`opening statement: no value for $${n}`);
    return pg.escapeLiteral(value);
  });
}

/** `append_audit_entries`' arguments: one array per column, each entry's JSON split around its chain fields. */
function entryColumns(at: string, entries: AuditEvent[]): string[][] {
  const columns: string[][] = COLUMN_TYPES.map(() => []);
  for (const event of entries) {
    const entry = { at, actor: event.actor, action: event.action, subject: event.subject, data: event.data ?? {} };
    const { head, tail, data } = entryHashTemplate(entry);
    [entry.at, entry.actor, entry.action, entry.subject, data, head, tail].forEach((v, i) => columns[i]?.push(v));
  }
  return columns;
}
