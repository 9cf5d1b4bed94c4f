import { CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose';
import { type AuditEntry, chainEntry, computeEntryHash, GENESIS_HASH } from './audit-entry.js';
import type { AuditErrorCode } from './audit-error.js';
import { type AuditLogState, type CheckpointBasis, extendsTrusted, verifyAuditLog, verifyBeforeCheckpoint, verifyCheckpoints } from './checkpoint-chain.js';
import { type Checkpoint, checkpointLink, signCheckpoint } from './checkpoint.js';
import { verifyChain } from './verify-chain.js';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const SEQS = [10, 20, 30, 40, 50];

/** A chain of `length` entries, copying `from` and building the rest with `tag` in their data. */
function buildChain(length: number, from: AuditEntry[] = [], tag = 'original'): AuditEntry[] {
  const entries = [...from];
  while (entries.length < length) {
    const i = entries.length;
    entries.push(
      chainEntry(entries[i - 1] ?? null, { at: new Date(T0 + i * 1_000).toISOString(), actor: 'user-1', action: 'request.create', subject: `request:r${i}`, data: { index: i, tag } }),
    );
  }
  return entries;
}

/** The chain as a database writer leaves it: entry `seq` edited, everything after re-hashed. */
function rewriteFrom(chain: AuditEntry[], seq: number): AuditEntry[] {
  return buildChain(chain.length, chain.slice(0, seq - 1), 'forged');
}

const at = (i: number): string => new Date(T0 + 3_600_000 + i * 60_000).toISOString();

interface Key {
  privateKey: CryptoKey;
  jwks: { keys: JWK[] };
}

describe('checkpoint chains', () => {
  let gateway: Key;
  let stranger: Key;
  const chain = buildChain(50);
  /** Checkpoints at SEQS, linked, as the gateway signs them. */
  let cps: string[];
  const sign = (cp: Checkpoint, key: Key = gateway): Promise<string> => signCheckpoint(cp, key.privateKey, 'gw-1');
  const hashAt = (entries: AuditEntry[], seq: number): string => entries[seq - 1]?.hash ?? '';

  /** Signs checkpoints at `seqs` of `entries`, the first chained to `after` (or first ever). */
  async function signRun(entries: AuditEntry[], seqs: number[], after: string | null = null, key: Key = gateway): Promise<string[]> {
    const out: string[] = [];
    let prev = after === null ? null : checkpointLink(after);
    for (const [i, seq] of seqs.entries()) {
      const jws = await sign({ seq, hash: hashAt(entries, seq), prev, at: at(seq + i) }, key);
      out.push(jws);
      prev = checkpointLink(jws);
    }
    return out;
  }

  beforeAll(async () => {
    const make = async (): Promise<Key> => {
      const pair = await generateKeyPair('ES256');
      return { privateKey: pair.privateKey, jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'gw-1', alg: 'ES256', use: 'sig' }] } };
    };
    gateway = await make();
    stranger = await make();
    cps = await signRun(chain, SEQS);
  });

  const cp = (seq: number): string => cps[SEQS.indexOf(seq)] ?? '';
  const without = (...seqs: number[]): string[] => cps.filter((_, i) => !seqs.includes(SEQS[i] ?? 0));
  const replacing = (seq: number, jws: string): string[] => cps.map((c, i) => (SEQS[i] === seq ? jws : c));
  /** The gateway's own payload at `seq`, signed again later: a valid signature, another JWS. */
  const resigned = (seq: number): Promise<string> => {
    const i = SEQS.indexOf(seq);
    return sign({ seq, hash: hashAt(chain, seq), prev: i === 0 ? null : checkpointLink(cps[i - 1] ?? ''), at: at(seq + 100) });
  };
  const splice = (payloadOf: string, signatureOf: string): string => {
    const [header, payload] = payloadOf.split('.');
    return [header, payload, signatureOf.split('.')[2]].join('.');
  };

  describe('verifyCheckpoints', () => {
    it('accepts the chained checkpoints of an intact chain, and no checkpoints at all', async () => {
      expect(verifyChain(chain).ok).toBe(true);
      await expect(verifyCheckpoints(cps, chain, gateway.jwks)).resolves.toMatchObject({ ok: true, checkpoints: 5, newest: { seq: 50, hash: hashAt(chain, 50), jws: cp(50) } });
      await expect(verifyCheckpoints([], chain, gateway.jwks)).resolves.toEqual({ ok: true, checkpoints: 0, newest: null });
      // Only heads are needed, not whole entries.
      await expect(verifyCheckpoints(cps, chain.map(({ seq, hash }) => ({ seq, hash })), gateway.jwks)).resolves.toMatchObject({ ok: true });
    });

    it('accepts a run that starts at a checkpoint the caller holds, only when told so', async () => {
      await expect(verifyCheckpoints(cps.slice(2), chain, gateway.jwks, { partial: true })).resolves.toMatchObject({ ok: true, checkpoints: 3 });
      await expect(verifyCheckpoints(cps.slice(2), chain, gateway.jwks)).resolves.toMatchObject({ ok: false, code: 'CHECKPOINT_GAP', firstBadSeq: 30 });
    });

    type Case = [string, () => Promise<{ checkpoints: string[]; entries?: AuditEntry[] }>, AuditErrorCode, number, RegExp];
    it.each<Case>([
      ['a deleted middle checkpoint', async () => ({ checkpoints: without(30) }), 'CHECKPOINT_GAP', 40, /does not chain to the one at seq 20/],
      ['a deleted first checkpoint', async () => ({ checkpoints: without(10) }), 'CHECKPOINT_GAP', 20, /earlier checkpoints were deleted/],
      ['two deleted checkpoints', async () => ({ checkpoints: without(20, 30) }), 'CHECKPOINT_GAP', 40, /seq 10/],
      ['a checkpoint replaced by a re-signed copy of itself', async () => ({ checkpoints: replacing(20, await resigned(20)) }), 'CHECKPOINT_GAP', 30, /deleted, or one of them replaced/],
      ['a re-signed copy next to the original', async () => ({ checkpoints: [...cps.slice(0, 2), await resigned(20), ...cps.slice(2)] }), 'CHECKPOINT_RESIGNED', 20, /two checkpoints for seq 20/],
      ['an older checkpoint copied over a newer one', async () => ({ checkpoints: replacing(30, cp(20)) }), 'CHECKPOINT_RESIGNED', 20, /re-signed/],
      ['two checkpoints swapped between rows', async () => ({ checkpoints: replacing(20, cp(30)).map((c, i) => (SEQS[i] === 30 ? cp(20) : c)) }), 'CHECKPOINT_GAP', 30, /seq 10/],
      ['a payload spliced onto another signature', async () => ({ checkpoints: replacing(30, splice(cp(30), cp(20))) }), 'CHECKPOINT_INVALID', 30, /does not verify/],
      ['a modified payload', async () => ({ checkpoints: replacing(30, splice(forgedPayload(cp(30), { hash: 'cd'.repeat(32) }), cp(30))) }), 'CHECKPOINT_INVALID', 30, /does not verify/],
      ['a checkpoint signed by another key', async () => ({ checkpoints: replacing(40, (await signRun(chain, [40], cp(30), stranger))[0] ?? '') }), 'CHECKPOINT_INVALID', 40, /does not verify/],
      ['a checkpoint in the payload before prev', async () => ({ checkpoints: replacing(50, await oldPayload(50)) }), 'CHECKPOINT_INVALID', 50, /not \{ seq, hash, prev, at \}/],
      ['garbage in a row', async () => ({ checkpoints: replacing(40, 'garbage') }), 'CHECKPOINT_INVALID', 31, /seq 31/],
      ['a second first checkpoint', async () => ({ checkpoints: replacing(30, await sign({ seq: 30, hash: hashAt(chain, 30), prev: null, at: at(99) })) }), 'CHECKPOINT_GAP', 30, /claims to be the first/],
      ['a chain rewritten between two checkpoints and re-hashed', async () => ({ checkpoints: cps, entries: rewriteFrom(chain, 25) }), 'CHECKPOINT_MISMATCH', 30, /rewritten after seq 20 and at or before seq 30/],
      ['a chain rewritten at a checkpoint seq', async () => ({ checkpoints: cps, entries: rewriteFrom(chain, 10) }), 'CHECKPOINT_MISMATCH', 10, /at or before seq 10/],
      ['a cut chain', async () => ({ checkpoints: cps, entries: chain.slice(0, 45) }), 'CHECKPOINT_MISMATCH', 50, /cut/],
      ['a seq twice in the chain', async () => ({ checkpoints: cps, entries: [...chain.slice(0, 10), chain[9] as AuditEntry, ...chain.slice(10)] }), 'CHECKPOINT_MISMATCH', 10, /more than once/],
      ['a signed checkpoint of a hash the chain never had', async () => ({ checkpoints: [...cps.slice(0, 4), await sign({ seq: 50, hash: 'ef'.repeat(32), prev: checkpointLink(cp(40)), at: at(60) })] }), 'CHECKPOINT_MISMATCH', 50, /differs/],
    ])('refuses %s', async (_name, make, code, firstBadSeq, reason) => {
      const { checkpoints, entries = chain } = await make();
      const result = await verifyCheckpoints(checkpoints, entries, gateway.jwks);
      expect(result).toMatchObject({ ok: false, code, firstBadSeq });
      expect(!result.ok && result.reason).toMatch(reason);
    });

    it('reports the checkpoints verified before the failure', async () => {
      await expect(verifyCheckpoints(without(30), chain, gateway.jwks)).resolves.toMatchObject({ ok: false, checkpoints: 2, newest: { seq: 20 } });
    });

    it('cannot see deleted newest checkpoints on its own: a trusted one can', async () => {
      // The writer deletes the checkpoints after 30, rewrites the chain after 30, and has a
      // gateway that forgot them sign the forged head: everything left is consistent.
      const forged = rewriteFrom(chain, 35);
      const laundered = [...cps.slice(0, 3), ...(await signRun(forged, [50], cp(30)))];
      await expect(verifyCheckpoints(laundered, forged, gateway.jwks)).resolves.toMatchObject({ ok: true, checkpoints: 4 });
      await expect(verifyCheckpoints(laundered, forged, gateway.jwks, { trusted: cp(40) })).resolves.toMatchObject({ ok: false, code: 'TRUST_NOT_EXTENDED', firstBadSeq: 40 });
    });

    it('refuses misuse', async () => {
      await expect(verifyCheckpoints('nope' as unknown as string[], chain, gateway.jwks)).rejects.toBeInstanceOf(TypeError);
      await expect(verifyCheckpoints(cps, [null] as unknown as AuditEntry[], gateway.jwks)).rejects.toBeInstanceOf(TypeError);
    });
  });

  describe('extendsTrusted', () => {
    it('accepts a chain that grew past the trusted checkpoint, or stands at it', async () => {
      for (const seq of SEQS) {
        await expect(extendsTrusted(cp(seq), { checkpoints: cps, entries: chain }, gateway.jwks)).resolves.toMatchObject({ ok: true, checkpoints: 5 });
      }
      const grown = buildChain(70, chain);
      const more = [...cps, ...(await signRun(grown, [60, 70], cp(50)))];
      await expect(extendsTrusted(cp(30), { checkpoints: more, entries: grown }, gateway.jwks)).resolves.toMatchObject({ ok: true, newest: { seq: 70 } });
    });

    type Case = [string, () => Promise<{ trusted: string; checkpoints: string[]; entries?: AuditEntry[] }>, AuditErrorCode, number, RegExp];
    it.each<Case>([
      ['the trusted checkpoint deleted', async () => ({ trusted: cp(30), checkpoints: without(30) }), 'TRUST_NOT_EXTENDED', 30, /gone \(the next one is at seq 40\)/],
      ['every checkpoint from the trusted one deleted', async () => ({ trusted: cp(40), checkpoints: without(40, 50) }), 'TRUST_NOT_EXTENDED', 40, /newest checkpoint is at seq 30/],
      ['every checkpoint deleted', async () => ({ trusted: cp(10), checkpoints: [] }), 'TRUST_NOT_EXTENDED', 10, /no checkpoints/],
      ['a restored backup from before the trusted checkpoint', async () => ({ trusted: cp(50), checkpoints: cps.slice(0, 3), entries: chain.slice(0, 35) }), 'TRUST_NOT_EXTENDED', 50, /older backup/],
      [
        'the trusted seq re-signed over a rewritten chain',
        async () => {
          const forged = rewriteFrom(chain, 45);
          return { trusted: cp(50), checkpoints: [...cps.slice(0, 4), ...(await signRun(forged, [50], cp(40)))], entries: forged };
        },
        'CHECKPOINT_RESIGNED',
        50,
        /not the trusted one/,
      ],
      ['the trusted seq re-signed, same payload', async () => ({ trusted: cp(50), checkpoints: replacing(50, await resigned(50)) }), 'CHECKPOINT_RESIGNED', 50, /not the trusted one/],
      ['a chain rewritten before the trusted seq', async () => ({ trusted: cp(50), checkpoints: cps, entries: rewriteFrom(chain, 15) }), 'CHECKPOINT_MISMATCH', 20, /rewritten/],
      ['a trusted checkpoint that was modified', async () => ({ trusted: splice(forgedPayload(cp(30), { seq: 31 }), cp(30)), checkpoints: cps }), 'CHECKPOINT_INVALID', 31, /trusted checkpoint does not verify/],
      ['a trusted checkpoint of another gateway', async () => ({ trusted: (await signRun(chain, [30], null, stranger))[0] ?? '', checkpoints: cps }), 'CHECKPOINT_INVALID', 30, /trusted/],
      ['a trusted file that is no JWS', async () => ({ trusted: 'hello', checkpoints: cps }), 'CHECKPOINT_INVALID', 0, /trusted/],
      ['a trusted checkpoint in the payload before prev', async () => ({ trusted: await oldPayload(30), checkpoints: cps }), 'CHECKPOINT_INVALID', 30, /trusted/],
    ])('refuses %s', async (_name, make, code, firstBadSeq, reason) => {
      const { trusted, checkpoints, entries = chain } = await make();
      const result = await extendsTrusted(trusted, { checkpoints, entries }, gateway.jwks);
      expect(result).toMatchObject({ ok: false, code, firstBadSeq });
      expect(!result.ok && result.reason).toMatch(reason);
    });

    it('refuses misuse', async () => {
      await expect(extendsTrusted(undefined as unknown as string, { checkpoints: cps, entries: chain }, gateway.jwks)).rejects.toBeInstanceOf(TypeError);
    });
  });

  describe('verifyAuditLog', () => {
    const head50 = () => ({ seq: 50, hash: hashAt(chain, 50) });

    it('verifies entries from genesis, the stored head, the checkpoints and a trusted one', async () => {
      await expect(verifyAuditLog({ checkpoints: cps, entries: chain, head: head50(), trusted: cp(20) }, gateway.jwks)).resolves.toMatchObject({
        ok: true,
        entries: 50,
        headHash: hashAt(chain, 50),
        checkpoints: 5,
        newest: { seq: 50 },
      });
      await expect(verifyAuditLog({ checkpoints: [], entries: [] }, gateway.jwks)).resolves.toEqual({ ok: true, entries: 0, headHash: GENESIS_HASH, checkpoints: 0, newest: null });
    });

    type Case = [string, () => Promise<AuditLogState>, AuditErrorCode, number, RegExp];
    it.each<Case>([
      ['an entry edited without re-hashing (named before any checkpoint)', async () => ({ checkpoints: without(30), entries: chain.map((e) => (e.seq === 3 ? { ...e, actor: 'mallory' } : e)) }), 'CHAIN_BROKEN', 3, /hash of seq 3/],
      ['a rewritten head', async () => ({ checkpoints: cps, entries: chain, head: { seq: 50, hash: hashAt(chain, 49) } }), 'CHAIN_BROKEN', 50, /head's hash/],
      [
        'a chain re-hashed from seq 12, head too',
        async () => {
          const forged = rewriteFrom(chain, 12);
          return { checkpoints: cps, entries: forged, head: { seq: 50, hash: hashAt(forged, 50) } };
        }, 'CHECKPOINT_MISMATCH', 20, /after seq 10 and at or before seq 20/],
      ['a deleted checkpoint', async () => ({ checkpoints: without(20), entries: chain, head: head50() }), 'CHECKPOINT_GAP', 30, /seq 10/],
      ['a trusted checkpoint that today\'s chain does not reach', async () => ({ checkpoints: cps.slice(0, 3), entries: chain, trusted: cp(40) }), 'TRUST_NOT_EXTENDED', 40, /seq 30/],
    ])('refuses %s', async (_name, make, code, firstBadSeq, reason) => {
      const result = await verifyAuditLog(await make(), gateway.jwks);
      expect(result).toMatchObject({ ok: false, code, firstBadSeq });
      expect(!result.ok && result.reason).toMatch(reason);
    });
  });

  describe('verifyBeforeCheckpoint', () => {
    const head = (entries: AuditEntry[], seq = entries.length) => ({ seq, hash: seq === 0 ? GENESIS_HASH : hashAt(entries, seq) });
    const from = (entries: AuditEntry[], seq: number) => entries.slice(seq - 1);

    it('signs the first checkpoint after verifying from genesis, and nothing on an empty log', async () => {
      await expect(verifyBeforeCheckpoint({ checkpoints: [], entries: chain, head: head(chain) }, gateway.jwks)).resolves.toEqual({ ok: true, previous: null, next: head(chain) });
      await expect(verifyBeforeCheckpoint({ checkpoints: [], entries: [], head: head([]) }, gateway.jwks)).resolves.toEqual({ ok: true, previous: null, next: null });
    });

    it('signs the moved head after the newest checkpoint, from the one vouched for or the newest two', async () => {
      const grown = buildChain(60, chain);
      const fromNewestTwo = await verifyBeforeCheckpoint({ checkpoints: cps.slice(3), entries: from(grown, 40), head: head(grown) }, gateway.jwks);
      expect(fromNewestTwo).toMatchObject({ ok: true, previous: { seq: 50, jws: cp(50) }, next: head(grown) });
      const fromVouched = await verifyBeforeCheckpoint({ checkpoints: cps.slice(1), entries: from(grown, 20), head: head(grown), vouched: cp(20) }, gateway.jwks);
      expect(fromVouched).toMatchObject({ ok: true, previous: { seq: 50 }, next: head(grown) });
    });

    it('ignores entries before the oldest checkpoint given', async () => {
      await expect(verifyBeforeCheckpoint({ checkpoints: cps.slice(3), entries: from(chain, 30), head: head(chain) }, gateway.jwks)).resolves.toMatchObject({ ok: true, next: null });
    });

    it('signs nothing new when the newest checkpoint covers the head', async () => {
      await expect(verifyBeforeCheckpoint({ checkpoints: cps.slice(4), entries: from(chain, 50), head: head(chain), vouched: cp(50) }, gateway.jwks)).resolves.toMatchObject({
        ok: true,
        previous: { seq: 50 },
        next: null,
      });
    });

    type Case = [string, () => Promise<CheckpointBasis>, AuditErrorCode, number, RegExp];
    const grown = buildChain(60, chain);
    it.each<Case>([
      ['a chain rewritten below the newest checkpoint and re-hashed, head too', async () => {
        const forged = buildChain(60, rewriteFrom(chain, 45));
        return { checkpoints: cps.slice(3), entries: from(forged, 40), head: head(forged) };
      }, 'CHECKPOINT_MISMATCH', 50, /rewritten after seq 40/],
      ['a chain rewritten at the previous checkpoint', async () => {
        const forged = buildChain(60, rewriteFrom(chain, 50));
        return { checkpoints: cps.slice(4), entries: from(forged, 50), head: head(forged) };
      }, 'CHECKPOINT_MISMATCH', 50, /differs/],
      ['an entry after the checkpoint edited without re-hashing', async () => {
        const edited = grown.map((e) => (e.seq === 55 ? { ...e, actor: 'mallory' } : e));
        return { checkpoints: cps.slice(3), entries: from(edited, 40), head: head(edited) };
      }, 'CHAIN_BROKEN', 55, /hash of seq 55/],
      ['the checkpointed entry edited without re-hashing', async () => {
        const edited = grown.map((e) => (e.seq === 50 ? { ...e, data: { index: 49, tag: 'forged' } } : e));
        return { checkpoints: cps.slice(4), entries: from(edited, 50), head: head(edited) };
      }, 'CHAIN_BROKEN', 50, /hash of seq 50/],
      ['the checkpointed entry re-hashed alone', async () => {
        const edited = grown.map((e) => (e.seq === 50 ? rehash({ ...e, actor: 'mallory' }) : e));
        return { checkpoints: cps.slice(4), entries: from(edited, 50), head: head(edited) };
      }, 'CHECKPOINT_MISMATCH', 50, /differs/],
      ['an entry removed after the checkpoint', async () => ({ checkpoints: cps.slice(4), entries: from(grown, 50).filter((e) => e.seq !== 53), head: head(grown) }), 'CHAIN_BROKEN', 53, /expected seq 53/],
      ['the head rewritten', async () => ({ checkpoints: cps.slice(4), entries: from(grown, 50), head: { seq: 60, hash: 'ab'.repeat(32) } }), 'CHAIN_BROKEN', 60, /head's hash/],
      ['the head rolled back', async () => ({ checkpoints: cps.slice(4), entries: from(grown, 50), head: head(grown, 55) }), 'CHAIN_BROKEN', 56, /head is at seq 55/],
      ['the head ahead of the entries (a cut tail)', async () => ({ checkpoints: cps.slice(4), entries: from(grown, 50).slice(0, 5), head: head(grown) }), 'CHAIN_BROKEN', 55, /newest entry is seq 54/],
      ['a malformed head', async () => ({ checkpoints: cps.slice(4), entries: from(grown, 50), head: { seq: 60, hash: 'nope' } }), 'CHAIN_BROKEN', 1, /malformed/],
      ['the vouched checkpoint deleted', async () => ({ checkpoints: cps.slice(3), entries: from(grown, 40), head: head(grown), vouched: cp(30) }), 'TRUST_NOT_EXTENDED', 30, /gone/],
      ['every checkpoint deleted, the vouched one too', async () => ({ checkpoints: [], entries: grown, head: head(grown), vouched: cp(50) }), 'TRUST_NOT_EXTENDED', 50, /no checkpoints/],
      ['the vouched checkpoint replaced by a re-signed copy', async () => ({ checkpoints: [await resigned(50)], entries: from(grown, 50), head: head(grown), vouched: cp(50) }), 'CHECKPOINT_RESIGNED', 50, /not the trusted one/],
      [
        'a newer checkpoint chained to a re-signed copy of the vouched one',
        async () => {
          const next = await sign({ seq: 50, hash: hashAt(chain, 50), prev: checkpointLink(await resigned(40)), at: at(70) });
          return { checkpoints: [cp(40), next], entries: from(grown, 40), head: head(grown), vouched: cp(40) };
        },
        'CHECKPOINT_GAP',
        50,
        /does not chain/,
      ],
      ['a checkpoint that does not verify', async () => ({ checkpoints: [splice(cp(50), cp(40))], entries: from(grown, 50), head: head(grown) }), 'CHECKPOINT_INVALID', 50, /does not verify/],
      ['no checkpoints, and an edited first entry', async () => ({ checkpoints: [], entries: grown.map((e) => (e.seq === 1 ? { ...e, subject: 'x' } : e)), head: head(grown) }), 'CHAIN_BROKEN', 1, /hash of seq 1/],
      ['the checkpointed entry with a malformed prevHash', async () => ({ checkpoints: cps.slice(4), entries: from(grown, 50).map((e) => (e.seq === 50 ? { ...e, prevHash: 'x' } : e)), head: head(grown) }), 'CHAIN_BROKEN', 50, /malformed/],
    ])('refuses to sign after %s', async (_name, make, code, firstBadSeq, reason) => {
      const result = await verifyBeforeCheckpoint(await make(), gateway.jwks);
      expect(result).toMatchObject({ ok: false, code, firstBadSeq });
      expect(!result.ok && result.reason).toMatch(reason);
    });

    it('refuses misuse', async () => {
      await expect(verifyBeforeCheckpoint({ checkpoints: 'x' as unknown as string[], entries: chain, head: head(chain) }, gateway.jwks)).rejects.toBeInstanceOf(TypeError);
    });
  });

  /** A JWS's payload with some members changed, unsigned: for splicing. */
  function forgedPayload(jws: string, change: Partial<Checkpoint>): string {
    const [header, payload] = jws.split('.');
    const changed = { ...(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Checkpoint), ...change };
    return `${header}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.`;
  }

  /** A checkpoint as the gateway signed them before `prev`: `{seq, headHash, at}`. */
  function oldPayload(seq: number): Promise<string> {
    const payload = new TextEncoder().encode(JSON.stringify({ seq, headHash: hashAt(chain, seq), at: at(seq) }));
    return new CompactSign(payload).setProtectedHeader({ alg: 'ES256', kid: 'gw-1', typ: 'qg-checkpoint+jwt' }).sign(gateway.privateKey);
  }
});

function rehash(entry: AuditEntry): AuditEntry {
  return { ...entry, hash: computeEntryHash(entry) };
}
