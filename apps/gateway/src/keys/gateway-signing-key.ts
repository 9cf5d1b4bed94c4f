import { exportJWK, generateKeyPair, importJWK, calculateJwkThumbprint, type JWK } from 'jose';
import type { DataSource } from 'typeorm';
import { openWithMasterKey, sealWithMasterKey } from '#libs/crypto';

export interface GatewaySigningKey {
  kid: string;
  publicJwk: JWK;
  privateKey: CryptoKey;
}

const PURPOSE = 'gateway-signing-key';

/**
 * The gateway's ES256 key (session tokens, audit checkpoints): generated on first start,
 * stored only sealed under the master key. Replicas starting together agree on one key.
 */
export async function loadOrCreateSigningKey(dataSource: DataSource, masterKey: Uint8Array): Promise<GatewaySigningKey> {
  const existing = await readKey(dataSource);
  if (existing !== undefined) return open(existing, masterKey);
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = Buffer.from(JSON.stringify(await exportJWK(privateKey)));
  const sealed = await sealWithMasterKey(privateJwk, masterKey, PURPOSE);
  privateJwk.fill(0);
  await dataSource.query(
    `INSERT INTO gateway_keys (purpose, kid, public_jwk, private_sealed) VALUES ($1, $2, $3, $4) ON CONFLICT (purpose) DO NOTHING`,
    [PURPOSE, kid, { ...publicJwk, kid, alg: 'ES256', use: 'sig' }, sealed],
  );
  const stored = await readKey(dataSource);
  if (stored === undefined) throw new Error('gateway signing key vanished after insert');
  return open(stored, masterKey);
}

interface StoredKey {
  kid: string;
  public_jwk: JWK;
  private_sealed: string;
}

async function readKey(dataSource: DataSource): Promise<StoredKey | undefined> {
  const rows: StoredKey[] = await dataSource.query(`SELECT kid, public_jwk, private_sealed FROM gateway_keys WHERE purpose = $1`, [PURPOSE]);
  return rows[0];
}

async function open(stored: StoredKey, masterKey: Uint8Array): Promise<GatewaySigningKey> {
  const plain = await openWithMasterKey(stored.private_sealed, masterKey, PURPOSE);
  try {
    const privateJwk = JSON.parse(plain.toString('utf8')) as JWK;
    const privateKey = (await importJWK(privateJwk, 'ES256', { extractable: false })) as CryptoKey;
    return { kid: stored.kid, publicJwk: { ...stored.public_jwk, kid: stored.kid }, privateKey };
  } finally {
    plain.fill(0);
  }
}
