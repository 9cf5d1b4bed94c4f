import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { exportPublicJwks, generateCustodianKeys, openOwnShare, prepareDecision, type CustodianKeys } from '../../libs/custodian/index.js';
import { Http } from './http.js';
import { ADMIN_PASSWORD } from './test-gateway.js';

export interface Operator {
  id: string;
  username: string;
  http: Http;
  keys: CustodianKeys;
  signingKid: string;
}

/** Creates a user with the given roles, past the first-login password change (support/first-login.ts), and logs in as them. */
export async function createUser(admin: Http, username: string, roles: string[], groups: string[] = []): Promise<{ id: string; http: Http; password: string }> {
  const password = `${username}-password-for-tests`;
  const res = await admin.post('/api/v1/users', { username, password, displayName: username, roles, groups });
  if (res.status !== 201) throw new Error(`create user ${username}: ${res.status} ${res.text}`);
  return { id: res.body.id, http: await admin.as(undefined).login(username, password), password };
}

/** An operator with keys generated on "their device" (non-extractable) and enrolled. */
export async function createOperator(admin: Http, username: string, extraRoles: string[] = [], groups: string[] = []): Promise<Operator> {
  const user = await createUser(admin, username, ['operator', ...extraRoles], groups);
  const keys = await generateCustodianKeys();
  const jwks = await exportPublicJwks(keys);
  const enrolled = await user.http.put('/api/v1/me/keys', { encryptionKey: jwks.encryptionKey, signingKey: jwks.signingKey, currentPassword: user.password });
  if (enrolled.status !== 200) throw new Error(`enrol ${username}: ${enrolled.status} ${enrolled.text}`);
  return { id: user.id, username, http: user.http, keys, signingKid: jwks.signingThumbprint };
}

/** What the operator's browser or CLI does: fetch own share, check the digest, sign, re-seal. */
export async function decisionBody(op: Operator, request: any, decision: 'approve' | 'reject', nowSeconds = Math.floor(Date.now() / 1000)) {
  const shareEnvelope = decision === 'approve' ? (await op.http.get(`/api/v1/requests/${request.id}/share`)).body : undefined;
  const prepared = await prepareDecision({
    request,
    shareEnvelope,
    decision,
    userId: op.id,
    keys: { encryptionPrivateKey: op.keys.encryption.privateKey, signingPrivateKey: op.keys.signing.privateKey, signingKid: op.signingKid },
    nowSeconds,
  });
  return { decision, statement: prepared.statement, ...(prepared.share !== undefined ? { share: prepared.share } : {}) };
}

export async function approve(op: Operator, request: any, decision: 'approve' | 'reject' = 'approve') {
  return op.http.post(`/api/v1/requests/${request.id}/approvals`, await decisionBody(op, request, decision));
}

/** The custodian's own share bytes, as their device would see them. */
export async function ownShare(op: Operator, requestId: string): Promise<Uint8Array> {
  const env = (await op.http.get(`/api/v1/requests/${requestId}/share`)).body;
  return (await openOwnShare(env.envelope, op.keys.encryption.privateKey)).share;
}

export async function generateSigningJwk(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) };
}

export interface QuorumSetup {
  admin: Http;
  lead: Http;
  operators: Operator[];
  serviceToken: string;
  automation: Http;
  credential: any;
  policy: any;
  signingKey: { privateJwk: JWK; publicJwk: JWK };
}

/** n operators, a k-of-n signing-key credential, a `sign` policy and a requester service account. */
export async function setUpSigningQuorum(anonymous: Http, options: { n?: number; k?: number; min?: number; prefix?: string } = {}): Promise<QuorumSetup> {
  const { n = 3, k = 2, prefix = 'q' } = options;
  const admin = await anonymous.login('admin', ADMIN_PASSWORD);
  const lead = (await createUser(admin, `${prefix}-lead`, ['security_lead'])).http;
  const operators: Operator[] = [];
  for (let i = 1; i <= n; i++) operators.push(await createOperator(admin, `${prefix}-op${i}`));
  const signingKey = await generateSigningJwk();
  const credential = await lead.post('/api/v1/credentials', {
    name: `${prefix}-release-key`,
    kind: 'signing-key',
    secret: JSON.stringify(signingKey.privateJwk),
    custodians: operators.map((o) => o.id),
    threshold: k,
  });
  if (credential.status !== 201) throw new Error(`credential: ${credential.status} ${credential.text}`);
  const policy = await lead.post('/api/v1/policies', {
    name: `${prefix}-release-signing`,
    credentialId: credential.body.id,
    operations: [{ kind: 'sign' }],
    approvals: { min: options.min ?? k },
  });
  if (policy.status !== 201) throw new Error(`policy: ${policy.status} ${policy.text}`);
  const account = await admin.post('/api/v1/service-accounts', { name: `${prefix}-ci`, roles: ['requester'] });
  if (account.status !== 201) throw new Error(`service account: ${account.status} ${account.text}`);
  return { admin, lead, operators, serviceToken: account.body.token, automation: anonymous.as(account.body.token), credential: credential.body, policy: policy.body, signingKey };
}

export function signRequestBody(credential: string, payload = Buffer.from('release v1.2.3').toString('base64url')) {
  return { credential, operation: { kind: 'sign', params: { payload, format: 'raw' } }, reason: 'release v1.2.3 (OPS-42)' };
}
