import { computeDigest, type DigestInput } from '#libs/custodian';
import type { ApiClient } from './api-client.js';
import type { RequestView } from './api-types.js';
import { checkDigest, renderCustodyReview } from './review.js';

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

describe('renderCustodyReview', () => {
  const KID = (c: string) => c.repeat(43);
  const credential = {
    id: 'cred_1',
    name: 'release',
    kind: 'http-token',
    version: 1,
    config: { baseUrl: 'https://api.example.com', header: 'Authorization' },
    sharing: { groups: [{ name: 'custodians', threshold: 2, custodians: ['u_a', 'u_b', 'u_c'].map((userId, index) => ({ userId, grp: 0, index: index + 1 })) }] },
  };
  const health = {
    credentialId: 'cred_1',
    version: 1,
    margin: 0,
    checkInDays: 90,
    groups: [
      {
        name: 'custodians',
        threshold: 2,
        live: 2,
        custodians: [
          { userId: 'u_a', username: 'alice\u001b[31m', kid: KID('a'), enrolledKid: KID('A'), live: false, reasons: ['keys_changed'] },
          { userId: 'u_b', username: 'bob', kid: KID('b'), enrolledKid: KID('b'), live: true, reasons: [] },
          { userId: 'u_c', username: 'carol', kid: KID('c'), enrolledKid: KID('c'), live: true, reasons: [] },
        ],
      },
    ],
  };
  /** The gateway as an operator sees it: the credential and its health, but not the users list (403). */
  const operatorApi = {
    get: async (path: string) => {
      if (path === '/api/v1/credentials/cred_1') return credential;
      if (path === '/api/v1/credentials/cred_1/health') return health;
      throw new Error('403');
    },
  } as unknown as ApiClient;
  const signed = (operation: { kind: string; params: Record<string, unknown> }) =>
    ({ id: ID, credential: { id: 'cred_1', version: 1 }, operation, requester: 'u_lead', reason: 'r', expiresAt: '2030-01-01T00:00:00.000Z' }) as unknown as DigestInput;

  it('prints old → new per group with key fingerprints and every weakening as a !!! line, escaped', async () => {
    const out = await renderCustodyReview(operatorApi, signed({ kind: 'credential.reshare', params: { sharing: { threshold: 1, custodians: [{ userId: 'u_b', kid: KID('b') }, { userId: 'u_c', kid: KID('c') }, { userId: 'u_d', kid: KID('d') }] } } }), (id) => (id === 'u_d' ? 'dave' : id));
    const lines = (out ?? '').split('\n');
    expect(lines.filter((l) => l.startsWith('!!! '))).toEqual(expect.arrayContaining([expect.stringMatching(/threshold lowered 2 → 1/), expect.stringMatching(/one person alone can meet this group/)]));
    expect(lines).toContain('  group "custodians": 2 of 3 → 1 of 3');
    expect(lines).toContain(`    + dave  key dddd-dddd-dddd-dddd`);
    expect(out).not.toContain('\u001b');
    expect(lines.some((l) => l.startsWith('    - alice') && l.includes('aaaa-aaaa-aaaa-aaaa'))).toBe(true);
  });

  it('prints a rotation\'s config diff and warns loudly about a new destination', async () => {
    const out = await renderCustodyReview(operatorApi, signed({ kind: 'credential.rotate', params: { config: { baseUrl: 'https://evil.example.net', header: 'Authorization' } } }), (id) => id);
    expect(out).toMatch(/!!! config "baseUrl" changes .*DIFFERENT DESTINATION/);
    expect(out).toContain('~ baseUrl: "https://api.example.com" → "https://evil.example.net"');
  });

  it('is silent for any other operation', async () => {
    expect(await renderCustodyReview(operatorApi, signed({ kind: 'sign', params: {} }), (id) => id)).toBeUndefined();
  });
});
