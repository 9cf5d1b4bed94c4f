import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import type { RequestStatus } from './requests.repository.js';

export interface RequestChange {
  id: string;
  status: RequestStatus;
  credentialId: string;
  requesterId: string;
  at: string;
}

const CHANNEL = 'qg_request_changes';

/**
 * Request changes after their transaction committed, for long polls and server-sent
 * events. On an external PostgreSQL every replica hears every change through
 * LISTEN/NOTIFY; the embedded database has one process, so a local emitter suffices.
 */
@Injectable()
export class RequestEvents implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private listener: pg.Client | undefined;

  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {}

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

  publish(change: RequestChange): void {
    if (this.listener === undefined) {
      this.emitter.emit('change', change);
      return;
    }
    this.ctx.dataSource.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify(change)]).catch((error: unknown) => {
      this.ctx.log.warn({ err: error }, 'could not notify other replicas; delivering locally');
      this.emitter.emit('change', change);
    });
  }

  subscribe(listener: (change: RequestChange) => void): () => void {
    this.emitter.on('change', listener);
    return () => this.emitter.off('change', listener);
  }
}
