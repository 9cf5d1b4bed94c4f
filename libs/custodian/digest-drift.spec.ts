import { findDigestDrift, type DigestDriftField, type DigestDriftSubject } from './index.js';

const EXPIRES = '2030-03-17T12:00:00.000Z';

function consistentRequest(): DigestDriftSubject & { digestInput: Record<string, unknown> } {
  return {
    id: 'req_1',
    credential: { id: 'cred_1', version: 2 },
    operation: { kind: 'http', params: { method: 'POST', path: '/admin/rotate/db', headers: { 'x-a': '1', 'x-b': '2' }, body: { n: 1.5, tag: 'é€😀' } } },
    requester: { id: 'user_rita' },
    reason: 'rotate the database password',
    expiresAt: EXPIRES,
    digestInput: {
      id: 'req_1',
      credential: { id: 'cred_1', version: 2 },
      operation: { kind: 'http', params: { method: 'POST', path: '/admin/rotate/db', headers: { 'x-a': '1', 'x-b': '2' }, body: { n: 1.5, tag: 'é€😀' } } },
      requester: 'user_rita',
      reason: 'rotate the database password',
      expiresAt: EXPIRES,
    },
  };
}

/** The consistent request with its digestInput changed by `edit`. */
function withSigned(edit: (signed: Record<string, unknown>) => unknown): DigestDriftSubject {
  const request = consistentRequest();
  return { ...request, digestInput: edit(structuredClone(request.digestInput)) };
}

/** The consistent request with top-level fields replaced. */
function withShown(patch: Partial<DigestDriftSubject>): DigestDriftSubject {
  return { ...consistentRequest(), ...patch };
}

const EVERY_FIELD: DigestDriftField[] = ['id', 'credential', 'operation', 'requester', 'reason', 'expiresAt'];

describe('findDigestDrift', () => {
  const cases: [string, DigestDriftSubject, DigestDriftField[]][] = [
    ['a consistent request', consistentRequest(), []],

    // Member order is not content: canonical JSON (RFC 8785) sorts it away.
    ['digestInput members in another order', withSigned((s) => Object.fromEntries(Object.entries(s).reverse())), []],
    ['credential members in another order', withShown({ credential: { version: 2, id: 'cred_1' } as DigestDriftSubject['credential'] }), []],
    [
      'operation and nested params members in another order',
      withSigned((s) => ({
        ...s,
        operation: { params: { body: { tag: 'é€😀', n: 1.5 }, headers: { 'x-b': '2', 'x-a': '1' }, path: '/admin/rotate/db', method: 'POST' }, kind: 'http' },
      })),
      [],
    ],
    ['the same number written differently on the wire', withSigned((s) => ({ ...s, operation: JSON.parse(JSON.stringify(s.operation).replace('1.5', '15e-1')) })), []],

    // Each field alone.
    ['another request id', withSigned((s) => ({ ...s, id: 'req_2' })), ['id']],
    ['another credential version', withSigned((s) => ({ ...s, credential: { id: 'cred_1', version: 3 } })), ['credential']],
    ['another credential', withShown({ credential: { id: 'cred_2', version: 2 } }), ['credential']],
    ['another operation kind', withSigned((s) => ({ ...s, operation: { kind: 'sql.exec', params: (s.operation as { params: unknown }).params } })), ['operation']],
    ['another path', withShown({ operation: { kind: 'http', params: { ...consistentRequest().operation.params, path: '/admin/drop/db' } } }), ['operation']],
    ['an extra parameter in what is signed', withSigned((s) => ({ ...s, operation: { kind: 'http', params: { ...consistentRequest().operation.params, dryRun: false } } })), ['operation']],
    ['a nested value of another type', withSigned((s) => ({ ...s, operation: JSON.parse(JSON.stringify(s.operation).replace('1.5', '"1.5"')) })), ['operation']],
    ['another requester', withShown({ requester: { id: 'user_mallory' } }), ['requester']],
    ['another requester in what is signed', withSigned((s) => ({ ...s, requester: 'svc_deploy' })), ['requester']],
    ['another reason', withSigned((s) => ({ ...s, reason: 'routine certificate renewal' })), ['reason']],
    // No Unicode normalisation: what is signed is the exact code points.
    [
      'a reason in another Unicode normal form',
      { ...withSigned((s) => ({ ...s, reason: 'café'.normalize('NFD') })), reason: 'café'.normalize('NFC') },
      ['reason'],
    ],
    ['another expiry', withSigned((s) => ({ ...s, expiresAt: '2030-03-18T12:00:00.000Z' })), ['expiresAt']],
    ['the same instant written differently', withShown({ expiresAt: '2030-03-17T12:00:00Z' }), ['expiresAt']],

    // Several at once, reported in §5 order.
    ['requester and reason', withSigned((s) => ({ ...s, reason: 'something harmless', requester: 'user_alice' })), ['requester', 'reason']],

    // Deny by default: what cannot be compared counts as drift.
    ['a member missing from digestInput', withSigned(({ requester: _requester, ...rest }) => rest), ['requester']],
    ['a member that is null in digestInput', withSigned((s) => ({ ...s, operation: null })), ['operation']],
    ['a value that cannot be canonicalised on both sides', withShown({ operation: { kind: 'http', params: { n: Number.NaN } } }), ['operation']],
    ['a digestInput that is null', withSigned(() => null), EVERY_FIELD],
    ['a digestInput that is an array', withSigned((s) => [s]), EVERY_FIELD],
    ['a digestInput that is a JSON string of the right content', withSigned((s) => JSON.stringify(s)), EVERY_FIELD],
    ['digestInput members inherited, not own', withSigned((s) => Object.create(s) as unknown), EVERY_FIELD],
  ];

  it.each(cases)('%s', (_name, request, expected) => {
    expect(findDigestDrift(request)).toEqual(expected);
  });

  it('does not change the request it reads', () => {
    const request = consistentRequest();
    request.digestInput.reason = 'something else';
    const before = structuredClone(request);
    expect(findDigestDrift(request)).toEqual(['reason']);
    expect(request).toEqual(before);
  });
});
