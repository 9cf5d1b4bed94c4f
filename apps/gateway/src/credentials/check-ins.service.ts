import { Inject, Injectable } from '@nestjs/common';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import type { CheckInResponse, CredentialShare } from '#libs/contracts';
import { CryptoError, sealToPublicKey, sha256Hex, verifyCheckInStatement } from '#libs/crypto';
import { AuditWriter } from '../audit/audit-writer.js';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { fromStatementError } from '../http/library-errors.js';
import { findUserWithCheckedKeys } from '../users/enrolled-keys.js';
import { findCredential, type CredentialRow, type ShareRow } from './credentials.repository.js';
import { checkedVersionShares, sealedToKid } from './share-assignments.js';

/** How long a check-in challenge can be answered (spec §4a). */
export const CHALLENGE_TTL_MS = 5 * 60 * 1000;

type Db = Pick<GatewayContext['dataSource'], 'query'>;

/**
 * Check-ins (spec §4a): a custodian proves, without revealing it, that they still hold
 * the key their share of the current version is sealed to and can open that share.
 */
@Injectable()
export class CheckInsService {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
  ) {}

  /**
   * The caller's own envelope and a fresh challenge. Enforces: a person (403), the
   * credential exists (404), the caller holds a share of its current version whose
   * assignment MAC checks (403 / 409), their enrolled keys check (422), and their
   * share is sealed to the key enrolled now (409: a check-in could not succeed).
   * Stores only the nonce's SHA-256, bound to caller, credential and version.
   */
  async share(principal: Principal, idOrName: string): Promise<CredentialShare> {
    const { credential, share } = await this.ownShare(this.ctx.dataSource, principal, idOrName);
    const user = await findUserWithCheckedKeys(this.ctx, principal.id);
    if (user?.encryptionKey == null) throw new AppError('KEYS_NOT_ENROLLED', 'you have no enrolled keys (PUT /api/v1/me/keys)');
    const nonce = randomBytes(32).toString('base64url');
    const challenge = await sealToPublicKey(Buffer.from(nonce, 'utf8'), user.encryptionKey, { cred: credential.id, ver: credential.version, purpose: 'check-in' });
    if (decodeProtectedHeader(challenge).kid !== sealedToKid(share.envelope)) {
      throw new AppError('CONFLICT', 'your share is sealed to a key you no longer have enrolled, so it cannot be opened: a security lead must re-share the credential to your new key');
    }
    const now = this.ctx.now();
    await this.ctx.dataSource.query(`DELETE FROM check_in_challenges WHERE expires_at < $1`, [new Date(now.getTime() - 24 * 3600 * 1000)]);
    await this.ctx.dataSource.query(
      `INSERT INTO check_in_challenges (nonce_sha256, credential_id, version, custodian_id, expires_at) VALUES ($1, $2, $3, $4, $5)`,
      [sha256Hex(nonce), credential.id, credential.version, principal.id, new Date(now.getTime() + CHALLENGE_TTL_MS)],
    );
    return { envelope: share.envelope, index: share.index, version: credential.version, challenge };
  }

  /**
   * Records a check-in. Enforces, in order: a person holding a share of the current
   * version (403); the statement signed by the caller's enrolled signing key, `typ`
   * qg-checkin+jwt, `sub` the caller, `cred` this credential, `iat` within ±300 s
   * (400 STATEMENT_REJECTED); then in one transaction: the nonce is one this gateway
   * issued to this caller for this credential and version, unused and unexpired, and
   * is used up (400 CHECK_IN_REJECTED); `ver` and `idx` are the caller's share (400);
   * the commitment equals the stored one, else an audit entry naming the custodian
   * is committed and the answer is 400 SHARE_REJECTED.
   */
  async checkIn(principal: Principal, idOrName: string, statement: string): Promise<CheckInResponse> {
    const { credential } = await this.ownShare(this.ctx.dataSource, principal, idOrName);
    if (principal.signingKey == null) throw new AppError('KEYS_NOT_ENROLLED', 'you have no enrolled keys (PUT /api/v1/me/keys)');
    const now = this.ctx.now();
    let claims;
    try {
      claims = await verifyCheckInStatement(statement, principal.signingKey, { sub: principal.id, cred: credential.id }, Math.floor(now.getTime() / 1000));
    } catch (error) {
      if (error instanceof CryptoError) throw fromStatementError(error);
      throw error;
    }
    const outcome = await this.audit.transaction(async (tx) => {
      const { share } = await this.ownShare(tx, principal, credential.id);
      // A SELECT over the UPDATE: TypeORM answers a bare UPDATE with [rows, count], not rows.
      const [used]: { n: number }[] = await tx.query(
        `WITH used AS (UPDATE check_in_challenges SET used_at = $2
            WHERE nonce_sha256 = $1 AND custodian_id = $3 AND credential_id = $4 AND version = $5 AND used_at IS NULL AND expires_at > $2 RETURNING 1)
         SELECT count(*)::int AS n FROM used`,
        [sha256Hex(claims.nonce), now, principal.id, credential.id, share.version],
      );
      if (used?.n !== 1) {
        throw new AppError('CHECK_IN_REJECTED', 'the nonce is not one issued to you for this credential version, or it was used or has expired: fetch a new challenge (GET /api/v1/credentials/:id/share)');
      }
      if (claims.ver !== share.version || claims.idx !== share.index || claims.grp !== undefined) {
        throw new AppError('CHECK_IN_REJECTED', `the statement names version ${claims.ver}, share ${claims.idx}; you hold share ${share.index} of version ${share.version}`);
      }
      const subject = `credential:${credential.id}`;
      const about = { custodian: principal.id, username: principal.name, version: share.version, index: share.index };
      if (!sameHex(claims.commitment, share.commitment)) {
        await this.audit.append(tx, { actor: `user:${principal.id}`, action: 'credential.check_in_failed', subject, data: { ...about, reason: 'commitment_mismatch' } });
        return 'commitment_mismatch' as const;
      }
      await tx.query(
        `INSERT INTO check_ins (credential_id, version, custodian_id, share_index, at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (credential_id, version, custodian_id) DO UPDATE SET share_index = EXCLUDED.share_index, at = EXCLUDED.at`,
        [credential.id, share.version, principal.id, share.index, now],
      );
      await this.audit.append(tx, { actor: `user:${principal.id}`, action: 'credential.checked_in', subject, data: about });
      return 'checked_in' as const;
    });
    if (outcome === 'commitment_mismatch') {
      throw new AppError('SHARE_REJECTED', 'the commitment does not match your share: the share you opened is not the one sealed to you (recorded in the audit log)');
    }
    return { at: now.toISOString() };
  }

  private async ownShare(db: Db, principal: Principal, idOrName: string): Promise<{ credential: CredentialRow; share: ShareRow }> {
    if (principal.kind !== 'user') throw new AppError('FORBIDDEN', 'service accounts hold no shares');
    const credential = await findCredential(db, idOrName);
    if (credential === undefined) throw new AppError('NOT_FOUND', `no credential "${idOrName}"`);
    const share = (await checkedVersionShares(this.ctx, db, credential.id, credential.version)).find((s) => s.custodianId === principal.id);
    if (share === undefined) throw new AppError('FORBIDDEN', 'you hold no share of this credential');
    return { credential, share };
  }
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.byteLength === y.byteLength && timingSafeEqual(x, y);
}
