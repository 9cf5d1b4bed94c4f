import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { exportJWK, generateKeyPair } from 'jose';
import {
  combineShares,
  generateDataKey,
  generateRequestKeyPair,
  openShareForRequest,
  sealShareToCustodian,
  sealToPublicKey,
  splitDataKey,
  verifyApprovalStatement,
} from '../libs/crypto/index.js';
import { exportPublicJwks, generateCustodianKeys, openOwnShare, sealShareToRequestKey, signApprovalStatement } from '../libs/custodian/index.js';
import { executorFor } from '../libs/executors/index.js';

/**
 * Operations per second of this process's CPU (all its threads, as /proc counts the
 * gateway's), not of the wall clock: on a shared machine the wall clock counts the
 * other tenants' time too.
 */
async function rate(label: string, run: () => Promise<unknown> | unknown, seconds = 1.5): Promise<{ label: string; perSecond: number }> {
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  const start = process.cpuUsage();
  while (performance.now() < deadline) {
    await run();
    n++;
  }
  const used = process.cpuUsage(start);
  return { label, perSecond: n / ((used.user + used.system) / 1e6) };
}

const msEach = (r: { perSecond: number }) => 1000 / r.perSecond;

/**
 * What one k-of-n request costs in cryptography alone, with nothing else:
 * each approver opens their own share, re-seals it to the request key and signs
 * the statement; the gateway makes the request key, verifies each statement, opens
 * each share once (at execution, ADR 0018), combines them and runs the `sign` operation.
 */
export interface RequiredCrypto {
  clientsMs: number;
  gatewayMs: number;
  /** the combine alone, to weigh `shamirs-secret-sharing` against the floor */
  combineMs: number;
  /** one share envelope opening: what opening each share a second time would add per approval */
  openMs: number;
}

/** The per-approval cryptography on the gateway (verify the statement, open the share), the split, and what one request needs at least. */
export async function benchCrypto(approvalsPerRequest: number): Promise<{ table: Record<string, string>[]; approvalsPerSecond: number; required: RequiredCrypto }> {
  const dataKey = generateDataKey();
  const shares = splitDataKey(dataKey, 5, 3);
  const request = await generateRequestKeyPair();
  const envelope = await sealToPublicKey(shares[0]!, request.publicJwk, { req: 'r1', idx: 1, digest: 'd'.repeat(43) });
  const keys = await generateCustodianKeys();
  const jwks = await exportPublicJwks(keys);
  const ownEnvelope = await sealShareToCustodian(shares[0]!, jwks.encryptionKey, { cred: 'c1', ver: 1, idx: 1 });
  const now = Math.floor(Date.now() / 1000);
  const claims = { req: 'r1', digest: 'd'.repeat(43), decision: 'approve' as const, sub: 'u1', iat: now };
  const statement = await signApprovalStatement(claims, keys.signing.privateKey, jwks.signingThumbprint);
  const signingKey = Buffer.from(JSON.stringify(await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey)));
  const signer = executorFor('sign');
  const signInput = { config: {}, params: { payload: randomBytes(32).toString('base64url'), format: 'raw' }, signal: new AbortController().signal };

  const approval = await rate('statement verify + share open (one approval)', async () => {
    await verifyApprovalStatement(statement, jwks.signingKey, { req: 'r1', digest: 'd'.repeat(43), sub: 'u1' }, now);
    await openShareForRequest(envelope, request.privateJwk, { req: 'r1', idx: 1, digest: 'd'.repeat(43) });
  });
  const approver = await rate('approver: open own share, re-seal, sign statement', async () => {
    const opened = await openOwnShare(ownEnvelope, keys.encryption.privateKey);
    await sealShareToRequestKey(opened.share, request.publicJwk, { req: 'r1', idx: 1, digest: 'd'.repeat(43) });
    await signApprovalStatement(claims, keys.signing.privateKey, jwks.signingThumbprint);
  });
  const requestKey = await rate('request key pair', () => generateRequestKeyPair());
  const combine = await rate(`combine ${approvalsPerRequest} shares`, () => combineShares(shares.slice(0, approvalsPerRequest)));
  const sign = await rate('`sign` operation (parse key, import, ES256)', () => signer.execute({ ...signInput, secret: Buffer.from(signingKey) }));
  const open = await rate('share envelope open (ECDH-ES+A256KW)', () => openShareForRequest(envelope, request.privateJwk, { req: 'r1', idx: 1, digest: 'd'.repeat(43) }));
  const results = [
    await rate('split 32 B, 3-of-5', () => splitDataKey(dataKey, 5, 3)),
    await rate('combine 3 shares', () => combineShares(shares.slice(0, 3))),
    open,
    await rate('approval statement verify (ES256)', () => verifyApprovalStatement(statement, jwks.signingKey, { req: 'r1', digest: 'd'.repeat(43), sub: 'u1' }, now)),
    approval,
    approver,
    requestKey,
    combine,
    sign,
  ];
  return {
    table: results.map((r) => ({ operation: r.label, 'per CPU second': r.perSecond.toFixed(0), 'CPU µs each': (1e6 / r.perSecond).toFixed(0) })),
    approvalsPerSecond: approval.perSecond,
    required: {
      clientsMs: approvalsPerRequest * msEach(approver),
      gatewayMs: approvalsPerRequest * msEach(approval) + msEach(requestKey) + msEach(combine) + msEach(sign),
      combineMs: msEach(combine),
      openMs: msEach(open),
    },
  };
}
