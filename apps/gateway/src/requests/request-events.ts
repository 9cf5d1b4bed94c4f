import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { EntityManager } from 'typeorm';
import type { RequestChange } from '#libs/contracts';
import { AuditWriter } from '../audit/audit-writer.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';

const CHANNEL = 'qg_request_changes';

/**
 * Request changes once their transaction committed, for long polls and server-sent
 * events. On an external PostgreSQL every replica hears every change through
 * LISTEN/NOTIFY, the NOTIFY sent with the commit itself; the embedded database has
 * one process, so a local emitter suffices.
 */
@Injectable()
export class RequestEvents implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private listener: pg.Client | undefined;

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.ctx.databaseKind !== 'postgres' || this.ctx.config.databaseUrl === undefined) return;
    const client = new pg.Client({ connectionString: this.ctx.config.databaseUrl });
    client.on('error', (error) => this.ctx.log.error({ err: error }, 'request change listener lost its connection'));
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL || message.payload === undefined) return;
      try {
        this.emitter.emit('change', JSON.parse(message.payload) as RequestChange);
      } catch {
        this.ctx.log.warn('ignored a malformed request change notification');
      }
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.listener?.end();
  }

  /** Announces a change made in `tx` (an `AuditWriter` transaction), once and only if it commits. */
  publish(tx: EntityManager, change: RequestChange): void {
    if (this.listener === undefined) this.audit.afterCommit(tx, () => this.emitter.emit('change', change));
    else this.audit.notifyAtCommit(tx, CHANNEL, JSON.stringify(change));
  }

  subscribe(listener: (change: RequestChange) => void): () => void {
    this.emitter.on('change', listener);
    return () => this.emitter.off('change', listener);
  }
}
