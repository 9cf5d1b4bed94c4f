import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AuditWriter } from '../audit/audit-writer.js';
import { RequestEvents } from '../requests/request-events.js';
import type { KeyCheckedUserRow, ServiceAccountRow } from '../users/accounts.repository.js';

/** The trigger on `users` and `service_accounts` NOTIFYs it with every change (migration SignalPrincipalChanges). */
const CHANGED = 'qg_principals';
/** Kept at most this long, should a change ever go unheard. */
const MAX_AGE_MS = 60_000;
/** Forgotten all at once beyond this many (a bound, not a working set: a gateway has few callers). */
const MAX_ENTRIES = 4096;

interface Kept<T> {
  value: T | undefined;
  at: number;
}

/**
 * The users and service accounts this replica authenticated, as read and MAC-checked
 * at their last call, so that a call reads neither again (it was 6 of the ~45
 * statements of a request). Everything kept is forgotten:
 *
 * - at once on this replica when one of its transactions audits a change to a user
 *   or service account (before the change's answer is sent);
 * - on every replica when any change to `users` or `service_accounts` commits, by
 *   the gateway or by a direct write in the database, through the trigger's NOTIFY;
 * - when the listener loses its connection, and after MAX_AGE_MS in any case.
 *
 * Only on an external PostgreSQL, where that NOTIFY is heard; the embedded database
 * reads at every call as before (docs/adr/0023).
 */
@Injectable()
export class PrincipalCache implements OnModuleInit {
  private readonly users = new Map<string, Kept<KeyCheckedUserRow>>();
  private readonly accounts = new Map<string, Kept<ServiceAccountRow>>();
  /** Moves on at each forgetting: a read that started before it is not kept. */
  private generation = 0;

  constructor(
    private readonly audit: AuditWriter,
    private readonly events: RequestEvents,
  ) {}

  onModuleInit(): void {
    this.events.onSignal(CHANGED, () => this.forget());
    this.audit.observeCommits((entries) => {
      if (entries.some((e) => e.subject.startsWith('user:') || e.subject.startsWith('service_account:'))) this.forget();
    });
  }

  user(id: string, read: () => Promise<KeyCheckedUserRow | undefined>): Promise<KeyCheckedUserRow | undefined> {
    return this.through(this.users, id, read);
  }

  serviceAccount(tokenHmac: string, read: () => Promise<ServiceAccountRow | undefined>): Promise<ServiceAccountRow | undefined> {
    return this.through(this.accounts, tokenHmac, read);
  }

  forget(): void {
    this.generation++;
    this.users.clear();
    this.accounts.clear();
  }

  private async through<T>(kept: Map<string, Kept<T>>, key: string, read: () => Promise<T | undefined>): Promise<T | undefined> {
    if (!this.events.signalsAcrossReplicas()) return read();
    const now = Date.now();
    const hit = kept.get(key);
    if (hit !== undefined && now - hit.at < MAX_AGE_MS) return hit.value;
    const generation = this.generation;
    const value = await read();
    // An unknown token is not kept: a spray of them would only churn the map.
    if (value !== undefined && generation === this.generation && this.events.signalsAcrossReplicas()) {
      if (kept.size >= MAX_ENTRIES) kept.clear();
      kept.set(key, { value, at: now });
    }
    return value;
  }
}
