import { REQUEST_STATUSES, type Operation } from '#libs/contracts';
import { describeEvent, eventTypesFor, summarizeOperation } from './notification-content.js';

describe('eventTypesFor', () => {
  it.each([
    ['pending', 'sign', ['request.pending']],
    ['approved', 'sign', ['request.approved']],
    ['executing', 'sign', []],
    ['succeeded', 'sign', ['request.succeeded']],
    ['succeeded', 'reveal', ['request.succeeded', 'request.revealed']],
    ['failed', 'reveal', ['request.failed']],
    ['rejected', 'http', ['request.rejected']],
    ['expired', 'http', ['request.expired']],
    ['cancelled', 'http', ['request.cancelled']],
  ] as const)('%s (%s) announces %j', (status, kind, types) => {
    expect(eventTypesFor(status, kind)).toEqual(types);
  });

  it('has an answer for every status', () => {
    for (const status of REQUEST_STATUSES) expect(() => eventTypesFor(status, 'sign')).not.toThrow();
  });
});

describe('summarizeOperation', () => {
  const secretish = 'Bearer-TOKEN-in-a-header-or-body-0123456789';
  it.each<[Operation, string]>([
    [{ kind: 'sign', params: { payload: Buffer.from(secretish).toString('base64url'), format: 'jws' } }, 'sign a jws payload'],
    [{ kind: 'http', params: { method: 'POST', path: '/admin/rotate', headers: { authorization: secretish }, body: secretish } }, 'POST /admin/rotate'],
    [{ kind: 'kubernetes.exec', params: { namespace: 'prod-eu', pod: 'api-0', command: ['ls', '-l'] } }, 'exec in prod-eu/api-0: ls -l'],
    [{ kind: 'ssh.exec', params: { command: 'systemctl restart api' } }, 'ssh: systemctl restart api'],
    [{ kind: 'sql.exec', params: { sql: 'SELECT 1\n  FROM t', readOnly: true } }, 'SQL (read-only): SELECT 1 FROM t'],
    [{ kind: 'sql.exec', params: { sql: 'DELETE FROM t', readOnly: false } }, 'SQL (read-write): DELETE FROM t'],
    [{ kind: 'reveal', params: { recipient: 'thumbprint' } }, 'reveal the secret to the requester (break-glass)'],
  ])('%j reads "%s", never a payload, header or body', (operation, summary) => {
    expect(summarizeOperation(operation)).toBe(summary);
    expect(summarizeOperation(operation)).not.toContain(secretish);
  });

  it('clips a long statement', () => {
    const summary = summarizeOperation({ kind: 'sql.exec', params: { sql: 'SELECT '.repeat(100) } });
    expect(summary.length).toBe(200);
    expect(summary.endsWith('…')).toBe(true);
  });
});

describe('describeEvent', () => {
  const request = {
    id: 'r1',
    status: 'succeeded' as const,
    credential: { id: 'c1', name: 'release-key' },
    operation: { kind: 'reveal' as const, summary: 'reveal the secret to the requester (break-glass)' },
    requester: { id: 'u1', name: 'rita' },
    reason: 'incident',
    expiresAt: '2030-01-01T00:00:00Z',
    approvals: { received: 2, required: 2 },
    link: 'https://qg.example.com/requests/r1',
  };

  it('is loud for a reveal and says where to decide for a pending request', () => {
    expect(describeEvent({ type: 'request.revealed', id: 'm', timestamp: 't', data: { request } })).toMatchObject({ loud: true, subject: expect.stringMatching(/^BREAK-GLASS/), link: request.link });
    const pending = describeEvent({ type: 'request.pending', id: 'm', timestamp: 't', data: { request: { ...request, status: 'pending' } } });
    expect(pending.loud).toBe(false);
    expect(pending.lines.join('\n')).toContain('Nothing is approved from this message');
  });
});
