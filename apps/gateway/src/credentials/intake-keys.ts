import { decodeProtectedHeader } from 'jose';
import type { IntakeKey } from '#libs/contracts';
import { CryptoError, generateRequestKeyPair, openIntakeEnvelope, openWithMasterKey, sealWithMasterKey, zeroize, type JWK } from '#libs/crypto';
import type { GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import type { Db } from '../persistence/prepared.js';

/** How long an unclaimed intake key can be sealed to (spec §3). */
export const INTAKE_KEY_TTL_MS = 60 * 60 * 1000;

/** The additional data an intake private key is sealed with (spec §2 item 11): it opens for this key id only. */
function intakeKeyPurpose(kid: string): string {
  return `intake-key:${kid}`;
}

/**
 * A one-time intake key for a rotation of `credential` at its current version
 * (spec §3): a fresh P-256 ECDH pair; the private half stored only sealed under the
 * master key with purpose and kid as additional data; the public half answered once.
 */
export async function newIntakeKey(ctx: Pick<GatewayContext, 'masterKey' | 'now'>, db: Db, credential: { id: string; version: number }, createdBy: string): Promise<IntakeKey> {
  const { publicJwk, privateJwk } = await generateRequestKeyPair();
  const kid = String(publicJwk.kid);
  const privateBytes = Buffer.from(JSON.stringify(privateJwk));
  try {
    const sealed = await sealWithMasterKey(privateBytes, ctx.masterKey, intakeKeyPurpose(kid));
    const expiresAt = new Date(ctx.now().getTime() + INTAKE_KEY_TTL_MS);
    await db.query(
      `INSERT INTO intake_keys (kid, credential_id, credential_version, private_key_sealed, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [kid, credential.id, credential.version, sealed, createdBy, expiresAt],
    );
    return { kid, publicJwk, expiresAt: expiresAt.toISOString() };
  } finally {
    zeroize(privateBytes);
  }
}

function headerOf(envelope: string): Record<string, unknown> | undefined {
  try {
    return decodeProtectedHeader(envelope);
  } catch {
    return undefined;
  }
}

function kidOf(envelope: string): string | undefined {
  const kid = headerOf(envelope)?.['kid'];
  return typeof kid === 'string' ? kid : undefined;
}

/**
 * At submission of a `credential.rotate` (spec §3): the JWE names (header `kid`) an
 * intake key of this credential at its current version, unexpired and never claimed;
 * it is claimed for `requestId` at once, so no second request can name it, whatever
 * becomes of this one. Answers the kid. 400 INTAKE_KEY_REFUSED otherwise, changing nothing.
 */
export async function claimIntakeKey(ctx: Pick<GatewayContext, 'now'>, db: Db, envelope: string, credential: { id: string; version: number }, requestId: string): Promise<string> {
  const kid = kidOf(envelope);
  if (kid === undefined) throw new AppError('INTAKE_KEY_REFUSED', 'params.secret must be a JWE compact sealed to an intake key (header kid)');
  // Read unauthenticated here, to refuse early; the execution checks them authenticated.
  const header = headerOf(envelope);
  if (header?.['cred'] !== credential.id || header['ver'] !== credential.version || header['purpose'] !== 'rotate') {
    throw new AppError('INTAKE_KEY_REFUSED', `params.secret must carry the header cred (this credential), ver (its current version ${credential.version}) and purpose "rotate"`);
  }
  const now = ctx.now();
  const claimed: { kid: string }[] = await db.query(
    `WITH claimed AS (
       UPDATE intake_keys SET claimed_by_request = $4, claimed_at = $5
        WHERE kid = $1 AND credential_id = $2 AND credential_version = $3 AND claimed_at IS NULL AND expires_at > $5 AND private_key_sealed IS NOT NULL
        RETURNING kid)
     SELECT kid FROM claimed`,
    [kid, credential.id, credential.version, requestId, now],
  );
  if (claimed.length !== 1) {
    throw new AppError('INTAKE_KEY_REFUSED', 'params.secret is sealed to an intake key that is unknown, for another credential or version, expired or already used: ask for a new one (POST /api/v1/credentials/:id/intake-keys)');
  }
  return kid;
}

/**
 * At execution: the new secret, opened with the intake key the request claimed.
 * Enforces: the key named by the JWE exists, was claimed by this very request and
 * is not destroyed; its sealed private key opens only under the master key for that
 * kid; the JWE header names this key, credential, version and purpose `rotate`.
 * Any failure: null (nothing runs). The caller zeroes the answer.
 */
export async function openClaimedIntake(ctx: Pick<GatewayContext, 'masterKey' | 'dataSource'>, envelope: string, expected: { requestId: string; cred: string; ver: number }): Promise<Buffer | null> {
  const kid = kidOf(envelope);
  if (kid === undefined) return null;
  const rows: { sealed: string | null; requestId: string | null; credentialId: string; version: number }[] = await ctx.dataSource.query(
    `SELECT private_key_sealed AS sealed, claimed_by_request AS "requestId", credential_id AS "credentialId", credential_version AS version FROM intake_keys WHERE kid = $1`,
    [kid],
  );
  const row = rows[0];
  if (row?.sealed == null || row.requestId !== expected.requestId || row.credentialId !== expected.cred || row.version !== expected.ver) return null;
  let privateBytes: Buffer | undefined;
  try {
    privateBytes = await openWithMasterKey(row.sealed, ctx.masterKey, intakeKeyPurpose(kid));
    return await openIntakeEnvelope(envelope, JSON.parse(privateBytes.toString('utf8')) as JWK, { kid, cred: expected.cred, ver: expected.ver });
  } catch (error) {
    if (error instanceof CryptoError) return null;
    throw error;
  } finally {
    zeroize(privateBytes);
  }
}

/** Destroys the intake keys a request claimed, and any past expiry nobody claimed (spec §3: an old JWE can never be replayed). */
export async function destroyIntakeKeys(db: Db, requestId: string, now: Date): Promise<void> {
  await db.query(`DELETE FROM intake_keys WHERE claimed_by_request = $1 OR (claimed_at IS NULL AND expires_at <= $2)`, [requestId, now]);
}
