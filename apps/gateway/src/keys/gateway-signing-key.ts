import { createECDH } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, calculateJwkThumbprint, type JWK } from 'jose';
import type { DataSource } from 'typeorm';
import { openWithMasterKey, sealWithMasterKey } from '#libs/crypto';

export interface GatewaySigningKey {
  kid: string;
  publicJwk: JWK;
  privateKey: CryptoKey;
}

/** Sealed under the master key with this purpose in the JWE protected header (its additional data): a blob sealed for another use does not open as this key. */
const PURPOSE = 'gateway-signing-key';

/**
 * The gateway's ES256 key (session tokens, audit checkpoints): generated on first start,
 * stored only sealed under the master key. Replicas starting together agree on one key.
 * Enforces spec §2 item 11: its public JWK and `kid` are derived from the private
 * scalar `d` each time it is opened, never read from a column a database writer could
 * set to their own key.
 */
export async function loadOrCreateSigningKey(dataSource: DataSource, masterKey: Uint8Array): Promise<GatewaySigningKey> {
  const existing = await readSealed(dataSource);
  if (existing !== undefined) return open(existing, masterKey);
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = Buffer.from(JSON.stringify(await exportJWK(privateKey)));
  const sealed = await sealWithMasterKey(privateJwk, masterKey, PURPOSE);
  privateJwk.fill(0);
  await dataSource.query(`INSERT INTO gateway_keys (purpose, private_sealed) VALUES ($1, $2) ON CONFLICT (purpose) DO NOTHING`, [PURPOSE, sealed]);
  const stored = await readSealed(dataSource);
  if (stored === undefined) throw new Error('gateway signing key vanished after insert');
  return open(stored, masterKey);
}

async function readSealed(dataSource: DataSource): Promise<string | undefined> {
  const rows: { private_sealed: string }[] = await dataSource.query(`SELECT private_sealed FROM gateway_keys WHERE purpose = $1`, [PURPOSE]);
  return rows[0]?.private_sealed;
}

async function open(sealed: string, masterKey: Uint8Array): Promise<GatewaySigningKey> {
  const plain = await openWithMasterKey(sealed, masterKey, PURPOSE);
  let d: Buffer | undefined;
  try {
    const stored = JSON.parse(plain.toString('utf8')) as JWK;
    if (stored.kty !== 'EC' || stored.crv !== 'P-256' || typeof stored.d !== 'string') throw new Error('the sealed gateway signing key is not an EC P-256 private key');
    d = Buffer.from(stored.d, 'base64url');
    const { x, y } = publicPointOf(d);
    const publicMembers: JWK = { kty: 'EC', crv: 'P-256', x, y };
    const privateKey = (await importJWK({ ...publicMembers, d: stored.d }, 'ES256', { extractable: false })) as CryptoKey;
    const kid = await calculateJwkThumbprint(publicMembers, 'sha256');
    return { kid, publicJwk: { ...publicMembers, kid, alg: 'ES256', use: 'sig' }, privateKey };
  } finally {
    plain.fill(0);
    d?.fill(0);
  }
}

/** The public point d·G of a P-256 private scalar, as JWK coordinates. */
function publicPointOf(d: Buffer): { x: string; y: string } {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey(null, 'uncompressed');
  return { x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') };
}
