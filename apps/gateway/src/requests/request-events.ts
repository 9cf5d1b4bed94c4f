import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
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
  private readonly signals = new Map<string, (() => void)[]>();
  /** Names this process in the changes it NOTIFYs: it told its own waiters already, at its commit. */
  private readonly origin = randomUUID();
  /** False from the listener's first error on: what it missed since is unknown. */
  private hearing = false;

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.ctx.databaseKind !== 'postgres' || this.ctx.config.databaseUrl === undefined) return;
    const client = new pg.Client({ connectionString: this.ctx.config.databaseUrl });
    client.on('error', (error) => {
      this.ctx.log.error({ err: error }, 'request change listener lost its connection');
      this.hearing = false;
      for (const handlers of this.signals.values()) handlers.forEach((handler) => handler());
    });
    client.on('notification', (message) => {
      const handlers = this.signals.get(message.channel);
      if (handlers !== undefined) return handlers.forEach((handler) => handler());
      if (message.channel !== CHANNEL || message.payload === undefined) return;
      try {
        const { origin, ...change } = JSON.parse(message.payload) as RequestChange & { origin?: string };
        if (origin !== this.origin) this.emitter.emit('change', change);
      } catch {
        this.ctx.log.warn('ignored a malformed request change notification');
      }
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    for (const signal of this.signals.keys()) await client.query(`LISTEN ${signal}`);
    this.listener = client;
    this.hearing = true;
  }

  /**
   * Calls `handler` whenever a transaction NOTIFYs `channel` on any replica, and when
   * the listener loses its connection (what was missed is unknown). Registered before
   * the application bootstraps.
   */
  onSignal(channel: string, handler: () => void): void {
    this.signals.set(channel, [...(this.signals.get(channel) ?? []), handler]);
  }

  /** NOTIFYs `channel` with `tx`'s commit, for every replica's `onSignal` handlers (on an external PostgreSQL; nobody else could hear it). */
  signalAtCommit(tx: EntityManager, channel: string): void {
    if (this.listener !== undefined) this.audit.notifyAtCommit(tx, channel, '');
  }

  /** Whether this replica hears every replica's signals (an external PostgreSQL, its listener connected). */
  signalsAcrossReplicas(): boolean {
    return this.hearing;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.hearing = false;
    await this.listener?.end();
  }

  /**
   * Announces a change made in `tx` (an `AuditWriter` transaction), once and only if it
   * commits: to this process's waiters as soon as the commit returns, and to the other
   * replicas' through the NOTIFY sent with the commit (this process ignores its own).
   */
  publish(tx: EntityManager, change: RequestChange): void {
    this.audit.afterCommit(tx, () => this.emitter.emit('change', change));
    if (this.listener !== undefined) this.audit.notifyAtCommit(tx, CHANNEL, JSON.stringify({ ...change, origin: this.origin }));
  }

  subscribe(listener: (change: RequestChange) => void): () => void {
    this.emitter.on('change', listener);
    return () => this.emitter.off('change', listener);
  }
}
