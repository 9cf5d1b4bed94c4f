import { Inject, Injectable } from '@nestjs/common';
import { calculateJwkThumbprint } from 'jose';
import { Gauge } from 'prom-client';
import type { AffectedCredentials, CredentialHealth } from '#libs/contracts';
import { assessCustody, canSeeCredential, type CustodianFacts } from '#libs/policy';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { findUsersByIds, type UserRow } from '../users/accounts.repository.js';
import { checkedEnrolledKeys, EnrolledKeysIntegrityError } from '../users/enrolled-keys.js';
import { custodianIdsOf, findCredential, listCredentials, sharingGroupsOf, type CredentialRow } from './credentials.repository.js';
import { checkedVersionShares, sealedToKid } from './share-assignments.js';

/** The name of today's single sharing group (spec §3a: "the flat form's single group is named `custodians`"). */

/**
 * Quorum health (spec §4a): who among a credential's current custodians still counts,
 * and the margin left before the credential is lost. Read from the current version's
 * MAC-checked share assignments, so a re-share (a new version) moves it at once.
 */
@Injectable()
export class CustodyHealthService {
  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {
    const margins = (): Promise<{ name: string; margin: number }[]> => this.margins();
    new Gauge({
      name: 'quorumgate_credential_margin',
      help: 'Live custodians minus threshold, least over sharing groups (spec §4a): below 1, one more departure loses the credential',
      labelNames: ['credential'] as const,
      registers: [ctx.metrics],
      // Read at each scrape, from the database every replica shares.
      async collect() {
        const current = await margins();
        this.reset();
        for (const { name, margin } of current) this.set({ credential: name }, margin);
      },
    });
  }

  /** Every credential's margin; a credential whose assignments fail their MAC has none (left out; logged where it failed). */
  private async margins(): Promise<{ name: string; margin: number }[]> {
    const margins: { name: string; margin: number }[] = [];
    for (const credential of await listCredentials(this.ctx.dataSource)) {
      try {
        margins.push({ name: credential.name, margin: (await this.assess(credential)).margin });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
      }
    }
    return margins;
  }

  /** Health for `viewer`, who must be allowed to see the credential (`canSeeCredential`; 404 alike otherwise). */
  async health(viewer: Principal, idOrName: string): Promise<CredentialHealth> {
    const credential = await findCredential(this.ctx.dataSource, idOrName);
    const custodianIds = credential === undefined ? [] : await custodianIdsOf(this.ctx.dataSource, credential.id);
    if (credential === undefined || !canSeeCredential(viewer, custodianIds, [])) throw new AppError('NOT_FOUND', `no credential "${idOrName}"`);
    return this.assess(credential);
  }

  /** A credential's health with its name, read by the system (no viewer); undefined when it is gone or its assignments fail their MAC. */
  async healthOf(credentialId: string): Promise<(CredentialHealth & { name: string }) | undefined> {
    const credential = await findCredential(this.ctx.dataSource, credentialId);
    if (credential === undefined) return undefined;
    try {
      return { ...(await this.assess(credential)), name: credential.name };
    } catch (error) {
      if (error instanceof AppError) return undefined;
      throw error;
    }
  }

  /**
   * The lost-key runbook's list (issue 16 item 8): every credential with a custodian who
   * is not live — with `userId`, only those where that user is one — each with its health,
   * which names the key each share is sealed to and the key each custodian enrolled now.
   * A credential whose assignments fail their MAC is left out (its health answers 409).
   */
  async affected(userId: string | undefined): Promise<AffectedCredentials> {
    const credentials: AffectedCredentials['credentials'] = [];
    for (const credential of await listCredentials(this.ctx.dataSource)) {
      let health: CredentialHealth;
      try {
        health = await this.assess(credential);
      } catch (error) {
        if (error instanceof AppError) continue;
        throw error;
      }
      const lost = health.groups.flatMap((g) => g.custodians).filter((c) => !c.live && (userId === undefined || c.userId === userId));
      if (lost.length > 0) credentials.push({ ...health, name: credential.name });
    }
    return { credentials };
  }

  /**
   * Enforces: liveness is judged only from share rows whose assignment MAC checks (else
   * 409, naming nobody) and from enrolled keys whose MAC checks (a failing key counts
   * as changed); "the same keys" means the key the envelope is sealed to (its header
   * `kid`) is the thumbprint of the key enrolled now.
   */
  private async assess(credential: CredentialRow): Promise<CredentialHealth> {
    const shares = await checkedVersionShares(this.ctx, this.ctx.dataSource, credential.id, credential.version);
    const users = new Map((await findUsersByIds(this.ctx.dataSource, shares.map((s) => s.custodianId))).map((u) => [u.id, u]));
    const checkIns: { custodianId: string; at: Date }[] = await this.ctx.dataSource.query(
      `SELECT custodian_id AS "custodianId", at FROM check_ins WHERE credential_id = $1 AND version = $2`,
      [credential.id, credential.version],
    );
    const lastCheckIn = new Map(checkIns.map((c) => [c.custodianId, new Date(c.at)]));
    const facts: (CustodianFacts & { group: number })[] = [];
    const enrolledKids = new Map<string, string | undefined>();
    for (const share of shares) {
      const user = users.get(share.custodianId);
      const enrolledKid = user === undefined ? undefined : await this.currentEncryptionKid(user);
      enrolledKids.set(share.custodianId, enrolledKid);
      facts.push({
        userId: share.custodianId,
        enabled: user !== undefined && user.disabledAt === null,
        roles: user?.roles ?? [],
        keysUnchanged: enrolledKid !== undefined && enrolledKid === sealedToKid(share.envelope),
        lastCheckInAt: lastCheckIn.get(share.custodianId) ?? null,
        sealedAt: new Date(share.sealedAt),
        group: share.group ?? 0,
      });
    }
    const now = this.ctx.now();
    // Per sharing group (spec §3a): a credential is lost when any one group falls below its threshold.
    const groups = sharingGroupsOf(credential).map((g, grp) => ({ name: g.name, threshold: g.threshold, custodians: facts.filter((f) => f.group === grp) }));
    const assessed = assessCustody(groups, { checkInDays: credential.checkInDays, now });
    return {
      credentialId: credential.id,
      version: credential.version,
      margin: assessed.margin,
      checkInDays: credential.checkInDays,
      groups: assessed.groups.map((g) => ({
        name: g.name,
        threshold: g.threshold,
        live: g.live,
        custodians: g.custodians.map((c) => {
          const share = shares.find((s) => s.custodianId === c.userId);
          return {
            userId: c.userId,
            username: users.get(c.userId)?.username ?? '',
            index: share?.index ?? 0,
            live: c.live,
            reasons: c.reasons,
            lastCheckInAt: lastCheckIn.get(c.userId)?.toISOString() ?? null,
            checkInDueAt: c.checkInDueAt.toISOString(),
            kid: (share === undefined ? undefined : sealedToKid(share.envelope)) ?? '',
            enrolledKid: enrolledKids.get(c.userId) ?? null,
          };
        }),
      })),
    };
  }

  private async currentEncryptionKid(user: UserRow): Promise<string | undefined> {
    try {
      const keys = checkedEnrolledKeys(this.ctx, user);
      if (keys === null) return undefined;
      const { kty, crv, x, y } = keys.encryptionKey;
      return await calculateJwkThumbprint({ kty, crv, x, y }, 'sha256');
    } catch (error) {
      if (error instanceof EnrolledKeysIntegrityError) return undefined;
      throw error;
    }
  }
}
