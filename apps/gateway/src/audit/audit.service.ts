import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { QueryRunner } from 'typeorm';
import {
  type AuditEntry,
  type AuditErrorCode,
  type ChainPoint,
  checkpointLink,
  type SignedCheckpoint,
  signCheckpoint,
  verifyAuditLog,
  verifyBeforeCheckpoint,
} from '#libs/audit';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';

/** An audit_log row as read: PostgreSQL's bigint `seq` arrives as a string. */
type AuditRow = Omit<AuditEntry, 'seq'> & { seq: string };

/** A checkpoint as listed: its payload's fields, and the JWS, which alone counts. */
export interface CheckpointView {
  seq: number;
  hash: string;
  prev: string | null;
  at: string;
  jws: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  headHash: string;
  /** Checkpoints verified (all of them when ok). */
  checkpoints: number;
  firstBadSeq?: number;
  code?: AuditErrorCode;
  reason?: string;
}

export type CheckpointOutcome =
  | { kind: 'signed'; checkpoint: CheckpointView }
  /** The newest checkpoint already covers the head. */
  | { kind: 'current'; checkpoint: CheckpointView }
  | { kind: 'empty' }
  /** The chain did not verify: nothing was signed. */
  | { kind: 'refused'; code: AuditErrorCode; firstBadSeq: number; reason: string };

/** What `GET /audit` narrows the log to; every field is already validated and bounded by the controller. */
export interface AuditFilter {
  desc: boolean;
  /** entries with a higher seq only */
  afterSeq: number;
  /** entries with a lower seq only (the newest-first cursor) */
  beforeSeq?: number;
  actor?: string;
  /** an action, or a family `prefix.*` */
  action?: string;
  subject?: string;
  /** toISOString form: compared as text, as `at` is stored */
  from?: string;
  to?: string;
  q?: string;
}

/** `text` as a LIKE pattern that matches it literally anywhere. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

const PAGE = 1000;
/** One checkpoint writer at a time, across replicas (spec §3); beside MIGRATION_LOCK and STARTUP_LOCK. */
const CHECKPOINT_LOCK = 727276;
const ENTRY_COLUMNS = `seq, at, actor, action, subject, data, prev_hash AS "prevHash", hash`;

function toEntry(row: AuditRow): AuditEntry {
  return { ...row, seq: Number(row.seq) };
}

function toView(cp: SignedCheckpoint): CheckpointView {
  return { seq: cp.seq, hash: cp.hash, prev: cp.prev, at: cp.at, jws: cp.jws };
}

/**
 * Reads, verifies and signs the audit log. A checkpoint vouches only for a chain this gateway
 * verified (spec §2 item 13), and the gateway remembers the newest checkpoint it signed or
 * verified (`vouched`): the database may forget one, the running process does not.
 */
@Injectable()
export class AuditService {
  private vouched: SignedCheckpoint | undefined;
  private readonly refusals: Counter;

  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {
    this.refusals = new Counter({
      name: 'qg_audit_checkpoint_refusals_total',
      help: 'Checkpoints not signed because the audit chain did not verify',
      registers: [ctx.metrics],
    });
  }

  private get jwks() {
    return { keys: [this.ctx.signingKey.publicJwk] };
  }

  async list(filter: AuditFilter, limit: number): Promise<AuditEntry[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    const bind = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    where.push(`seq > ${bind(filter.afterSeq)}`);
    if (filter.beforeSeq !== undefined) where.push(`seq < ${bind(filter.beforeSeq)}`);
    if (filter.actor !== undefined) where.push(`actor = ${bind(filter.actor)}`);
    if (filter.action !== undefined) {
      where.push(filter.action.endsWith('.*') ? `starts_with(action, ${bind(filter.action.slice(0, -1))})` : `action = ${bind(filter.action)}`);
    }
    if (filter.subject !== undefined) where.push(`subject = ${bind(filter.subject)}`);
    if (filter.from !== undefined) where.push(`at >= ${bind(filter.from)}`);
    if (filter.to !== undefined) where.push(`at < ${bind(filter.to)}`);
    if (filter.q !== undefined) {
      const p = bind(containsPattern(filter.q));
      where.push(`(actor ILIKE ${p} OR action ILIKE ${p} OR subject ILIKE ${p} OR data::text ILIKE ${p})`);
    }
    const sql = `SELECT ${ENTRY_COLUMNS} FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq ${filter.desc ? 'DESC' : 'ASC'} LIMIT ${bind(limit)}`;
    const rows: AuditRow[] = await this.ctx.dataSource.query(sql, params);
    return rows.map(toEntry);
  }

  /**
   * The chain from genesis, the stored head, every checkpoint and its link to the one before,
   * and the checkpoint this gateway vouched for last, all read in one snapshot.
   */
  async verify(): Promise<AuditVerification> {
    const vouched = this.vouched;
    const state = await this.inSnapshot(async (runner) => {
      const checkpoints = (await readCheckpoints(runner, 'ORDER BY seq')).map((r) => r.jws);
      const head = await readHead(runner);
      const entries: AuditEntry[] = [];
      for (let page = await readEntries(runner, 0, PAGE); page.length > 0; page = await readEntries(runner, page[page.length - 1]?.seq ?? 0, PAGE)) {
        entries.push(...page);
        if (page.length < PAGE) break;
      }
      return { checkpoints, head, entries };
    });
    const result = await verifyAuditLog({ ...state, trusted: vouched?.jws }, this.jwks);
    if (!result.ok) {
      const { code, firstBadSeq, reason } = result;
      this.ctx.log.error({ code, firstBadSeq, reason }, 'the audit log does not verify');
      return { ok: false, entries: result.entries, headHash: result.headHash, checkpoints: result.checkpoints, firstBadSeq, code, reason };
    }
    if (result.newest !== null) this.remember(result.newest);
    return { ok: true, entries: result.entries, headHash: result.headHash, checkpoints: result.checkpoints };
  }

  /**
   * Every checkpoint after `afterSeq`, by seq. The fields are the row's copy of the payload, as
   * writable as the row: a client verifies each JWS against the JWKS and reads its payload.
   */
  async checkpoints(afterSeq = 0): Promise<CheckpointView[]> {
    const rows: { seq: string; hash: string; prev: string | null; at: string; jws: string }[] = await this.ctx.dataSource.query(
      `SELECT seq, hash, prev, at, jws FROM audit_checkpoints WHERE seq > $1 ORDER BY seq`,
      [afterSeq],
    );
    return rows.map((r) => ({ seq: Number(r.seq), hash: r.hash, prev: r.prev, at: r.at, jws: r.jws }));
  }

  /**
   * Signs the current head, after verifying the chain from the previous checkpoint to it
   * (`verifyBeforeCheckpoint`), one writer at a time. On a chain that does not verify, signs
   * nothing, logs an error and answers `refused`; `GET /audit/verify` then fails too.
   */
  async checkpoint(): Promise<CheckpointOutcome> {
    const outcome = await this.withCheckpointLock(async (runner): Promise<CheckpointOutcome> => {
      const vouched = this.vouched;
      const rows =
        vouched !== undefined
          ? await readCheckpoints(runner, 'WHERE seq >= $1 ORDER BY seq', [vouched.seq])
          : (await readCheckpoints(runner, 'ORDER BY seq DESC LIMIT 2')).reverse();
      const checkpoints = rows.map((r) => r.jws);
      const head = await readHead(runner);
      const rowsOfEntries: AuditRow[] = await runner.query(`SELECT ${ENTRY_COLUMNS} FROM audit_log WHERE seq >= $1 ORDER BY seq`, [rows[0]?.seq ?? 1]);
      const entries = rowsOfEntries.map(toEntry);
      const decision = await verifyBeforeCheckpoint({ checkpoints, entries, head, vouched: vouched?.jws }, this.jwks);
      if (!decision.ok) return { kind: 'refused', code: decision.code, firstBadSeq: decision.firstBadSeq, reason: decision.reason };
      if (decision.next === null) return decision.previous === null ? { kind: 'empty' } : { kind: 'current', checkpoint: toView(decision.previous) };
      const payload = { ...decision.next, prev: decision.previous === null ? null : checkpointLink(decision.previous.jws), at: this.ctx.now().toISOString() };
      const jws = await signCheckpoint(payload, this.ctx.signingKey.privateKey, this.ctx.signingKey.kid);
      await runner.query(`INSERT INTO audit_checkpoints (seq, hash, prev, at, jws) VALUES ($1, $2, $3, $4, $5)`, [payload.seq, payload.hash, payload.prev, payload.at, jws]);
      return { kind: 'signed', checkpoint: { ...payload, jws } };
    });
    switch (outcome.kind) {
      case 'signed':
      case 'current':
        this.remember(outcome.checkpoint);
        break;
      case 'refused':
        this.refusals.inc();
        this.ctx.log.error({ code: outcome.code, firstBadSeq: outcome.firstBadSeq, reason: outcome.reason }, 'the audit chain does not verify: no checkpoint signed');
        break;
      case 'empty':
        break;
    }
    return outcome;
  }

  /** Forward only: a verify that read an older snapshot must not make the gateway forget a newer checkpoint. */
  private remember(cp: SignedCheckpoint): void {
    if (this.vouched === undefined || cp.seq > this.vouched.seq) this.vouched = cp;
  }

  /**
   * The checkpoint lock is a session advisory lock taken before the transaction, so that the
   * transaction's snapshot is taken after it and sees the checkpoint the last writer inserted.
   */
  private async withCheckpointLock<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const runner = this.ctx.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [CHECKPOINT_LOCK]);
      try {
        await runner.startTransaction('REPEATABLE READ');
        const result = await work(runner);
        await runner.commitTransaction();
        return result;
      } catch (error) {
        if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
        throw error;
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [CHECKPOINT_LOCK]);
      }
    } finally {
      await runner.release();
    }
  }

  /** Reads in one REPEATABLE READ snapshot: the head, the entries and the checkpoints agree. */
  private async inSnapshot<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const runner = this.ctx.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('REPEATABLE READ');
      try {
        return await work(runner);
      } finally {
        await runner.rollbackTransaction();
      }
    } finally {
      await runner.release();
    }
  }
}

async function readCheckpoints(runner: QueryRunner, tail: string, params: unknown[] = []): Promise<{ seq: number; jws: string }[]> {
  const rows: { seq: string; jws: string }[] = await runner.query(`SELECT seq, jws FROM audit_checkpoints ${tail}`, params);
  return rows.map((r) => ({ seq: Number(r.seq), jws: r.jws }));
}

async function readHead(runner: QueryRunner): Promise<ChainPoint> {
  const rows: { seq: string; hash: string }[] = await runner.query('SELECT seq, hash FROM audit_head WHERE id');
  const row = rows[0];
  // A missing head row fails the head check (malformed), it does not throw.
  return row === undefined ? { seq: -1, hash: '' } : { seq: Number(row.seq), hash: row.hash };
}

async function readEntries(runner: QueryRunner, afterSeq: number, limit: number): Promise<AuditEntry[]> {
  const rows: AuditRow[] = await runner.query(`SELECT ${ENTRY_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit]);
  return rows.map(toEntry);
}
