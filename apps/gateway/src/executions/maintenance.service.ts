import { Inject, Injectable, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { AuditWriter } from '../audit/audit-writer.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { setStatus } from '../requests/requests.repository.js';
import { RequestsService, type RequestIdentity } from '../requests/requests.service.js';

export const SWEEP_INTERVAL_MS = 2000;
const CHECKPOINT_EVERY_SWEEPS = 30;
/** An execution holding `executing` longer than its time limit plus this margin was interrupted (its replica died). */
export function executionLeaseMs(operationTimeoutSeconds: number): number {
  return (operationTimeoutSeconds + Math.min(30, operationTimeoutSeconds)) * 1000;
}

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
    private readonly requests: RequestsService,
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
    await this.requests.expireOverdue();
    await this.failInterrupted();
    if (++this.sweeps % CHECKPOINT_EVERY_SWEEPS === 0) await this.audit.checkpoint();
  }

  /** At most once: an interrupted execution is never retried, it ends `failed` with reason `interrupted`. */
  async failInterrupted(): Promise<number> {
    const interrupted = await this.auditWriter.transaction(async (tx) => {
      const rows: RequestIdentity[] = await tx.query(
        `SELECT id, credential_id AS "credentialId", requester_id AS "requesterId" FROM requests
          WHERE status = 'executing' AND execution_lease_until < $1 LIMIT 100 FOR UPDATE SKIP LOCKED`,
        [this.ctx.now()],
      );
      for (const request of rows) {
        await setStatus(tx, request.id, 'failed', { result: { error: 'interrupted', reason: 'interrupted' } });
        await this.auditWriter.append(tx, { actor: 'system', action: 'request.failed', subject: `request:${request.id}`, data: { error: 'interrupted', requestKeyDestroyed: true } });
        this.requests.publish(tx, request, 'failed');
      }
      return rows;
    });
    return interrupted.length;
  }
}
