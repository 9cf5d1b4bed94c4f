import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { AuditWriter } from '../audit/audit-writer.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';

/** How long failed logins for unknown usernames are counted before one audit entry records them. */
export const UNKNOWN_LOGIN_WINDOW_MS = 60_000;

/**
 * Failed logins for usernames that name nobody are counted, not logged one by one:
 * one `auth.login_failed_unknown` audit entry per window says how many there were
 * and from how many networks. What was typed is never written anywhere: a username
 * that names nobody is often a password typed into the wrong field, and a spray of
 * made-up names would otherwise fill the audit log (docs/adr/0016).
 */
@Injectable()
export class UnknownLoginTally implements BeforeApplicationShutdown {
  private count = 0;
  private readonly networks = new Set<string>();
  private since: Date | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
  ) {}

  /** Counts one failure for an unknown username from this client network. */
  record(network: string): void {
    this.count++;
    if (this.networks.size < 10_000) this.networks.add(network);
    if (this.since === undefined) {
      this.since = this.ctx.now();
      this.timer = setTimeout(() => void this.flush().catch((error: unknown) => this.ctx.log.error({ err: error }, 'could not audit failed logins for unknown usernames')), UNKNOWN_LOGIN_WINDOW_MS);
      this.timer.unref();
    }
  }

  /** Writes the window's entry now (if anything was counted) and starts a new window. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.since === undefined || this.count === 0) return;
    const data = { count: this.count, networks: this.networks.size, from: this.since.toISOString(), to: this.ctx.now().toISOString() };
    this.count = 0;
    this.networks.clear();
    this.since = undefined;
    await this.audit.transaction((tx) => this.audit.append(tx, { actor: 'anonymous', action: 'auth.login_failed_unknown', subject: 'username:unknown', data }));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
  }
}
