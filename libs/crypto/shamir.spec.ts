import { CryptoError, combineShares, generateDataKey, openSealedSecret, sealSecret, shareIndex, splitDataKey } from './index.js';

function subsets<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [first, ...rest] = items;
  return [...subsets(rest, k - 1).map((s) => [first, ...s]), ...subsets(rest, k)];
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof CryptoError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

describe('splitDataKey / combineShares', () => {
  const schemes: [k: number, n: number][] = [
    [2, 3],
    [3, 5],
    [1, 1],
    [5, 5],
  ];

  it.each(schemes)('%i-of-%i: every k-subset reconstructs, no (k-1)-subset does', (k, n) => {
    const dataKey = generateDataKey();
    const shares = splitDataKey(dataKey, n, k);
    expect(shares).toHaveLength(n);

    for (const subset of subsets(shares, k)) {
      expect(combineShares(subset).equals(dataKey)).toBe(true);
      // order does not matter
      expect(combineShares([...subset].reverse()).equals(dataKey)).toBe(true);
    }
    for (const subset of subsets(shares, k - 1)) {
      let recovered: Buffer | undefined;
      try {
        recovered = combineShares(subset);
      } catch (e) {
        expect(e).toBeInstanceOf(CryptoError);
        continue;
      }
      expect(recovered.equals(dataKey)).toBe(false);
    }
  });

  it('numbers shares 1..n in output order and returns Node Buffers', () => {
    const shares = splitDataKey(generateDataKey(), 7, 4);
    shares.forEach((share, i) => {
      expect(Buffer.isBuffer(share)).toBe(true);
      expect(shareIndex(share)).toBe(i + 1);
    });
  });

  it('handles keys with leading and trailing zero bytes', () => {
    for (const fill of [0x00, 0xff]) {
      const dataKey = Buffer.alloc(32, fill);
      dataKey[16] = 0x42;
      const shares = splitDataKey(dataKey, 3, 2);
      expect(combineShares([shares[0], shares[2]]).equals(dataKey)).toBe(true);
    }
  });

  it('gives different shares for the same key each time (random coefficients)', () => {
    const dataKey = generateDataKey();
    const a = splitDataKey(dataKey, 3, 2);
    const b = splitDataKey(dataKey, 3, 2);
    expect(a[0].equals(b[0])).toBe(false);
  });

  it('throws TypeError on misuse', () => {
    const key = generateDataKey();
    const misuse: [Uint8Array, number, number][] = [
      [key, 3, 4],
      [key, 3, 0],
      [key, 0, 0],
      [key, 256, 2],
      [key, 2.5, 2],
      [key.subarray(0, 16), 3, 2],
      [new Uint8Array(0), 3, 2],
    ];
    for (const [k, n, t] of misuse) expect(() => splitDataKey(k, n, t)).toThrow(TypeError);
  });

  it('refuses empty, duplicate, malformed and mixed-length shares', () => {
    const shares = splitDataKey(generateDataKey(), 5, 3);
    const other = splitDataKey(generateDataKey(), 5, 3);
    const malformed = [
      new Uint8Array(0),
      new Uint8Array([0x08, 0x01]),
      Buffer.concat([Buffer.from([0x07]), shares[0].subarray(1)]),
      Buffer.concat([Buffer.from([0x08, 0x00]), shares[0].subarray(2)]),
    ];
    const cases: [Uint8Array[], string][] = [
      [[], 'SHARES_INSUFFICIENT'],
      [[shares[0], shares[0], shares[1]], 'SHARES_INSUFFICIENT'],
      [[shares[0], Buffer.from(shares[0]), shares[1]], 'SHARES_INSUFFICIENT'],
      [[shares[0], other[0], shares[1]], 'SHARES_INSUFFICIENT'],
      [[shares[0], shares[1].subarray(0, 40)], 'SHARE_INVALID'],
      ...malformed.map((m): [Uint8Array[], string] => [[shares[0], m, shares[1]], 'SHARE_INVALID']),
    ];
    for (const [input, code] of cases) expect(codeOf(() => combineShares(input))).toBe(code);
    for (const m of malformed) expect(codeOf(() => shareIndex(m))).toBe('SHARE_INVALID');
  });

  it('fails closed when a tampered share is combined: the GCM tag refuses a wrong key', async () => {
    const dataKey = generateDataKey();
    const secret = Buffer.from('postgres-password-123');
    const meta = { cred: 'cred_1', ver: 1, kind: 'signing-key', config: {} };
    const sealed = await sealSecret(secret, dataKey, meta);
    const shares = splitDataKey(dataKey, 3, 2);
    let changedKeys = 0;
    // Bytes 0 and 1 are the format marker and the index; flip one bit in every data byte.
    for (let byte = 2; byte < shares[0].length; byte++) {
      const tampered = Buffer.from(shares[0]);
      tampered[byte] ^= 0x01;
      const combined = combineShares([tampered, shares[1]]);
      if (combined.equals(dataKey)) {
        // The library encodes each key byte in 16 bits and drops the high byte
        // on decode, so some flips are invisible: the right key, the right secret.
        expect((await openSealedSecret(sealed, combined, meta)).equals(secret)).toBe(true);
        continue;
      }
      changedKeys++;
      await expect(openSealedSecret(sealed, combined, meta)).rejects.toMatchObject({ code: 'SECRET_UNSEAL_FAILED' });
    }
    expect(changedKeys).toBeGreaterThan(32);

    // shares from another split of the same key never mix into the right key
    const otherSplit = splitDataKey(dataKey, 3, 2);
    const mixed = combineShares([shares[0], otherSplit[1]]);
    expect(mixed.equals(dataKey)).toBe(false);
    await expect(openSealedSecret(sealed, mixed, meta)).rejects.toMatchObject({ code: 'SECRET_UNSEAL_FAILED' });
  });
});
