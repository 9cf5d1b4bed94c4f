import { computeDigest } from '#libs/custodian';
import type { RequestView } from './api-types.js';
import { checkDigest } from './review.js';

const ID = 'req_1';

/** A request whose top-level fields and digest agree with its digestInput; `patch` then changes the top level. */
async function view(patch: Partial<RequestView> = {}, signedPatch: Record<string, unknown> = {}): Promise<RequestView> {
  const digestInput = {
    id: ID,
    credential: { id: 'cred_1', version: 1 },
    policy: { id: 'pol_1', sha256: 'ab'.repeat(32) },
    operation: { kind: 'sql.exec' as const, params: { sql: 'select 1', readOnly: true } },
    requester: 'user_rita',
    reason: 'OPS-11 count',
    expiresAt: '2030-01-01T00:00:00.000Z',
    ...signedPatch,
  };
  const base = {
    id: ID,
    credential: { version: 1, id: 'cred_1' },
    operation: { params: { readOnly: true, sql: 'select 1' }, kind: 'sql.exec' },
    requester: { id: 'user_rita', kind: 'user' },
    reason: 'OPS-11 count',
    expiresAt: '2030-01-01T00:00:00.000Z',
    digest: await computeDigest(digestInput),
    digestInput,
  };
  return { ...base, ...patch } as unknown as RequestView;
}

describe('checkDigest', () => {
  it('matches a consistent request whose members come in another order', async () => {
    const check = await checkDigest(await view(), ID);
    expect(check).toMatchObject({ matches: true, divergentFields: [] });
  });

  it('refuses a request whose shown fields differ from the signed content, and lists them, the requester included', async () => {
    const check = await checkDigest(await view({ requester: { id: 'user_mallory', kind: 'user' }, reason: 'harmless' }), ID);
    expect(check).toMatchObject({ matches: false, problem: "the request's requester, reason differ from the signed content", divergentFields: ['requester', 'reason'] });
  });

  it('reports a digestInput for another request as the problem, not as a divergent field', async () => {
    const check = await checkDigest(await view({}, { id: 'req_2' }), ID);
    expect(check).toMatchObject({ matches: false, problem: `digestInput is for request req_2, not ${ID}`, divergentFields: [] });
  });
});
