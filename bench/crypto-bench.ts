import { performance } from 'node:perf_hooks';
import {
  combineShares,
  generateDataKey,
  generateRequestKeyPair,
  openShareForRequest,
  sealToPublicKey,
  splitDataKey,
  verifyApprovalStatement,
} from '../libs/crypto/index.js';
import { exportPublicJwks, generateCustodianKeys, signApprovalStatement } from '../libs/custodian/index.js';

async function rate(label: string, run: () => Promise<unknown> | unknown, seconds = 1.5): Promise<{ label: string; perSecond: number }> {
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < deadline) {
    await run();
    n++;
  }
  return { label, perSecond: n / ((performance.now() - start) / 1000) };
}

/** The per-approval cryptography on the gateway (verify the statement, open the share) and the split itself. */
export async function benchCrypto(): Promise<{ table: Record<string, string>[]; approvalsPerSecond: number }> {
  const dataKey = generateDataKey();
  const shares = splitDataKey(dataKey, 5, 3);
  const request = await generateRequestKeyPair();
  const envelope = await sealToPublicKey(shares[0]!, request.publicJwk, { req: 'r1', idx: 1 });
  const keys = await generateCustodianKeys();
  const jwks = await exportPublicJwks(keys);
  const now = Math.floor(Date.now() / 1000);
  const statement = await signApprovalStatement({ req: 'r1', digest: 'd'.repeat(43), decision: 'approve', sub: 'u1', iat: now }, keys.signing.privateKey, jwks.signingThumbprint);
  const results = [
    await rate('split 32 B, 3-of-5', () => splitDataKey(dataKey, 5, 3)),
    await rate('combine 3 shares', () => combineShares(shares.slice(0, 3))),
    await rate('share envelope open (ECDH-ES+A256KW)', () => openShareForRequest(envelope, request.privateJwk, { req: 'r1', idx: 1 })),
    await rate('approval statement verify (ES256)', () => verifyApprovalStatement(statement, jwks.signingKey, { req: 'r1', digest: 'd'.repeat(43), sub: 'u1' }, now)),
    await rate('statement verify + share open (one approval)', async () => {
      await verifyApprovalStatement(statement, jwks.signingKey, { req: 'r1', digest: 'd'.repeat(43), sub: 'u1' }, now);
      await openShareForRequest(envelope, request.privateJwk, { req: 'r1', idx: 1 });
    }),
  ];
  return {
    table: results.map((r) => ({ operation: r.label, 'per second': r.perSecond.toFixed(0), 'µs each': (1e6 / r.perSecond).toFixed(0) })),
    approvalsPerSecond: results[results.length - 1]!.perSecond,
  };
}
