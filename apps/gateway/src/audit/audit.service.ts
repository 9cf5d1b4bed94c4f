import { Inject, Injectable } from '@nestjs/common';
import { AuditError, checkCheckpointsAgainstChain, signCheckpoint, verifyChain, verifyCheckpoint, type AuditEntry, type Checkpoint } from '#libs/audit';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';

/** An audit_log row as read: PostgreSQL's bigint `seq` arrives as a string. */
type AuditRow = Omit<AuditEntry, 'seq'> & { seq: string };

/** A checkpoint as stored: what it covers and the gateway's signature over it. */
type StoredCheckpoint = Checkpoint & { jws: string };

const PAGE = 1000;

function toEntry(row: AuditRow): AuditEntry {
  return { ...row, seq: Number(row.seq) };
}

@Injectable()
export class AuditService {
  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {}

  async list(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    const rows: AuditRow[] = await this.ctx.dataSource.query(
      `SELECT seq, at, actor, action, subject, data, prev_hash AS "prevHash", hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [afterSeq, limit],
    );
    return rows.map(toEntry);
  }

  /** Re-hashes the whole chain from genesis and checks every signed checkpoint against it. */
  async verify(): Promise<{ ok: boolean; entries: number; headHash: string; firstBadSeq?: number; reason?: string }> {
    const entries: AuditEntry[] = [];
    for (let page = await this.list(0, PAGE); page.length > 0; page = await this.list(page[page.length - 1]?.seq ?? 0, PAGE)) {
      entries.push(...page);
      if (page.length < PAGE) break;
    }
    const chain = verifyChain(entries);
    if (!chain.ok) return chain;
    // Checkpoint rows are as writable as the chain: only their signatures count.
    const jwks = { keys: [this.ctx.signingKey.publicJwk] };
    const verified = [];
    for (const row of await this.checkpoints()) {
      try {
        verified.push(await verifyCheckpoint(row.jws, jwks));
      } catch (error) {
        if (!(error instanceof AuditError)) throw error;
        return { ...chain, ok: false, firstBadSeq: row.seq, reason: `the checkpoint at seq ${row.seq} has no valid gateway signature` };
      }
    }
    const anchored = checkCheckpointsAgainstChain(verified, entries);
    if (!anchored.ok) return { ...chain, ok: false, firstBadSeq: anchored.firstBadSeq, reason: 'a signed checkpoint does not match the chain' };
    return chain;
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    const rows: { seq: string; headHash: string; at: string; jws: string }[] = await this.ctx.dataSource.query(
      `SELECT seq, head_hash AS "headHash", at, jws FROM audit_checkpoints ORDER BY seq`,
    );
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  /** Signs the current head, unless the newest checkpoint already covers it. */
  async checkpoint(): Promise<StoredCheckpoint | undefined> {
    const heads: { seq: string; hash: string }[] = await this.ctx.dataSource.query('SELECT seq, hash FROM audit_head WHERE id');
    const head = heads[0];
    if (head === undefined || Number(head.seq) === 0) return undefined;
    const at = this.ctx.now().toISOString();
    const seq = Number(head.seq);
    const jws = await signCheckpoint({ seq, headHash: head.hash, at }, this.ctx.signingKey.privateKey, this.ctx.signingKey.kid);
    await this.ctx.dataSource.query(
      `INSERT INTO audit_checkpoints (seq, head_hash, at, jws) VALUES ($1, $2, $3, $4) ON CONFLICT (seq) DO NOTHING`,
      [seq, head.hash, at, jws],
    );
    return (await this.checkpoints()).find((c) => c.seq === seq);
  }
}
