import { auditToCsv, auditToJsonLines, csvField, type ExportedEntry } from '../apps/web/src/audit-export.js';

const entry = (seq: number, data: Record<string, unknown>): ExportedEntry => ({
  seq,
  at: `2026-12-06T12:00:0${seq}.000Z`,
  actor: 'user:11111111-1111-1111-1111-111111111111',
  action: 'request.submitted',
  subject: `request:${seq}`,
  data,
  prevHash: '0'.repeat(64),
  hash: String(seq).repeat(64),
});

describe('audit export', () => {
  it('writes one parseable JSON object per line, line breaks inside values escaped', () => {
    const entries = [entry(1, { reason: 'two\nlines' }), entry(2, {})];
    const text = auditToJsonLines(entries);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines.slice(0, 2).map((l) => JSON.parse(l))).toEqual(entries);
  });

  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['', ''],
  ])('quotes and defuses the CSV field %j', (input, expected) => {
    expect(csvField(input)).toBe(expected);
  });

  it('writes a header and one CRLF row per entry with the actor name and both hashes', () => {
    const csv = auditToCsv([entry(1, { reason: 'a, "b"' })], () => 'Alice (alice)');
    const [header, row, end] = csv.split('\r\n');
    expect(header).toBe('seq,at,actor,actorName,action,subject,data,prevHash,hash');
    expect(row).toBe(`1,2026-12-06T12:00:01.000Z,user:11111111-1111-1111-1111-111111111111,Alice (alice),request.submitted,request:1,"{""reason"":""a, \\""b\\""""}",${'0'.repeat(64)},${'1'.repeat(64)}`);
    expect(end).toBe('');
  });
});
