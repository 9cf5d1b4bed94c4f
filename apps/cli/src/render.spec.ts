import type { RequestView } from './api-types.js';
import { describeApprovals, describeOperation, formatDuration, namesOf, safeText, shellQuote } from './render.js';

describe('safeText', () => {
  it('makes terminal controls, bidi overrides and zero-width characters visible', () => {
    const cases: [string, string][] = [
      ['release v1\u001b[2K\rinnocent', 'release v1\\u{1b}[2K\\u{d}innocent'],
      ['pay \u202eevil\u202c', 'pay \\u{202e}evil\\u{202c}'],
      ['a\u200bb', 'a\\u{200b}b'],
      ['csi \u009b31m', 'csi \\u{9b}31m'],
      ['bell\u0007', 'bell\\u{7}'],
      ['line1\nline2\tx', 'line1\nline2\tx'],
      ['plain é€😀', 'plain é€😀'],
    ];
    for (const [input, expected] of cases) expect(safeText(input)).toBe(expected);
    expect(safeText('a\nb', true)).toBe('a\\u{a}b');
  });
});

describe('describeOperation', () => {
  it('shows what runs, escaped, then the exact params', () => {
    const text = describeOperation({ kind: 'sql.exec', params: { sql: 'delete from t;\u001b[1A', readOnly: false } });
    expect(text).toContain('READ-WRITE');
    expect(text).toContain('\\u{1b}[1A');
    expect(text).not.toContain('\u001b');
    const exec = describeOperation({ kind: 'kubernetes.exec', params: { namespace: 'prod', pod: 'web-0', command: ['sh', '-c', "echo 'hi'"] } });
    expect(exec).toContain(`command:   sh -c 'echo '\\''hi'\\'''`);
  });

  it('shows an ssh argv argument by argument, and says which form runs', () => {
    const argv = describeOperation({ kind: 'ssh.exec', params: { command: ['grep', 'a b', '$(id)'] } });
    expect(argv).toContain('(argv, each argument quoted by the gateway)');
    expect(argv).toContain(`command:   grep 'a b' '$(id)'`);
    const line = describeOperation({ kind: 'ssh.exec', params: { command: 'uptime; id' } });
    expect(line).toContain('(a line the remote shell interprets)');
    expect(line).toContain('command:   uptime; id');
  });

  it('shows a binary payload as hex with its hash, a text payload as text', () => {
    const binary = describeOperation({ kind: 'sign', params: { payload: Buffer.from([0, 1, 2, 255]).toString('base64url'), format: 'raw' } });
    expect(binary).toContain('as hex:    000102ff');
    expect(binary).toMatch(/sha256 [0-9a-f]{64}/);
    const text = describeOperation({ kind: 'sign', params: { payload: Buffer.from('v1.2.3').toString('base64url'), format: 'jws' } });
    expect(text).toContain('as text:   v1.2.3');
  });
});

describe('small formats', () => {
  it('formats durations and quotes shell words', () => {
    expect(formatDuration(3725)).toBe('1h 02m');
    expect(formatDuration(65)).toBe('1m 05s');
    expect(formatDuration(-3)).toBe('0s');
    expect(shellQuote('/srv/app')).toBe('/srv/app');
    expect(shellQuote('a b')).toBe("'a b'");
  });
});

describe('names from the request', () => {
  const alice = '11111111-1111-4111-8111-111111111111';
  const bob = '22222222-2222-4222-8222-222222222222';
  const carol = '33333333-3333-4333-8333-333333333333';
  const ci = '44444444-4444-4444-8444-444444444444';
  const view = {
    requester: { id: ci, kind: 'service_account', name: 'ci\u001b[2Jrelease' },
    names: { [alice]: 'alice', [bob]: 'bob' },
    custodians: [alice, bob, carol],
    approvalsReceived: 1,
    approvalsRequired: 2,
    approvals: [
      { userId: alice, username: 'alice', decision: 'approve', at: '2026-01-01T00:00:00Z', valid: true },
      { userId: carol, username: null, decision: 'reject', at: '2026-01-01T00:00:01Z', valid: true },
    ],
  } as unknown as RequestView;

  it('names custodians, approvers and the requester, escaped; short ids for the unknown', () => {
    const nameOf = namesOf(view);
    expect(nameOf(bob)).toBe('bob');
    expect(nameOf(ci)).toBe('ci\\u{1b}[2Jrelease');
    expect(nameOf(carol)).toBe('33333333');
    expect(describeApprovals(view)).toBe('1 of 2 (alice), rejected by 33333333');
  });

  it('falls back to short ids for a gateway that sends no names', () => {
    const bare = { ...view, names: undefined, requester: { id: ci, kind: 'service_account' }, approvals: view.approvals.map(({ username: _username, ...a }) => a) } as unknown as RequestView;
    expect(describeApprovals(bare)).toBe('1 of 2 (11111111), rejected by 33333333');
  });

  it('shows each sharing group\'s progress for a grouped credential, and who a short group still needs', () => {
    const grouped = {
      ...view,
      sharingProgress: [
        { grp: 0, name: 'sre', threshold: 1, approved: 1, approvers: [alice], missing: [carol] },
        { grp: 1, name: 'security', threshold: 1, approved: 0, approvers: [], missing: [bob] },
      ],
    } as unknown as RequestView;
    expect(describeApprovals(grouped)).toBe('1 of 2 (alice), rejected by 33333333 · sre 1 of 1 ✓ · security 0 of 1 (needs 1 of bob)');
    const oneGroup = { ...view, sharingProgress: [{ grp: 0, name: 'custodians', threshold: 2, approved: 1, approvers: [alice], missing: [bob, carol] }] } as unknown as RequestView;
    expect(describeApprovals(oneGroup)).toBe('1 of 2 (alice), rejected by 33333333');
  });
});
