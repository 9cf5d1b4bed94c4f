import { Inject, Injectable, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { AuditWriter } from '../audit/audit-writer.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { RequestLifecycle, type TransitionSubject } from '../requests/request-lifecycle.js';

export const SWEEP_INTERVAL_MS = 2000;
const CHECKPOINT_EVERY_SWEEPS = 30;

/**
 * Periodic work, safe on every replica (row locks with SKIP LOCKED): expiry of
 * overdue requests, failing executions whose replica died, audit checkpoints.
 */
@Injectable()
export class MaintenanceService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private sweeps = 0;

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly lifecycle: RequestLifecycle,
    private readonly audit: AuditService,
    private readonly auditWriter: AuditWriter,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.running !== undefined) return;
      this.running = this.sweep()
        .catch((error: unknown) => this.ctx.log.error({ err: error }, 'maintenance sweep failed'))
        .finally(() => (this.running = undefined));
    }, SWEEP_INTERVAL_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async sweep(): Promise<void> {
    await this.expireOverdue();
    await this.failInterrupted();
    if (++this.sweeps % CHECKPOINT_EVERY_SWEEPS === 0) await this.audit.checkpoint();
  }

  /** Moves overdue pending requests to `expired`, destroying their keys. */
  async expireOverdue(limit = 100): Promise<number> {
    return this.auditWriter.transaction(async (tx) => {
      const rows = await lockRequests(tx, `status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, [this.ctx.now(), limit]);
      for (const request of rows) await this.lifecycle.transition(tx, request, 'expired', { actor: 'system' });
      return rows.length;
    });
  }

  /** At most once: an interrupted execution is never retried, it ends `failed` with reason `interrupted`. */
  async failInterrupted(): Promise<number> {
    return this.auditWriter.transaction(async (tx) => {
      const rows = await lockRequests(tx, `status = 'executing' AND execution_lease_until < $1 LIMIT 100`, [this.ctx.now()]);
      for (const request of rows) {
        await this.lifecycle.transition(tx, request, 'failed', { actor: 'system', result: { error: 'interrupted', reason: 'interrupted' }, data: { error: 'interrupted' } });
      }
      return rows.length;
    });
  }
}

/** The requests matching `where`, locked, skipping those another replica holds. */
function lockRequests(tx: EntityManager, where: string, params: unknown[]): Promise<TransitionSubject[]> {
  return tx.query(`SELECT id, credential_id AS "credentialId", requester_id AS "requesterId", status FROM requests WHERE ${where} FOR UPDATE SKIP LOCKED`, params);
}
