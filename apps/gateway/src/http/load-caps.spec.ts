import { addressPrefix, ConcurrencyCap, DropPacing, Semaphore, SemaphoreFullError } from './load-caps.js';

describe('ConcurrencyCap', () => {
  it('refuses past the per-key cap and past the overall cap; a release frees one place, once', () => {
    const cap = new ConcurrencyCap(2, 3);
    const a1 = cap.tryAcquire('a');
    const a2 = cap.tryAcquire('a');
    expect(a1).toBeDefined();
    expect(a2).toBeDefined();
    expect(cap.tryAcquire('a')).toBeUndefined();
    const b1 = cap.tryAcquire('b');
    expect(b1).toBeDefined();
    expect(cap.tryAcquire('c')).toBeUndefined();
    a1?.();
    a1?.();
    expect(cap.size).toBe(2);
    expect(cap.tryAcquire('c')).toBeDefined();
    expect(cap.tryAcquire('a')).toBeUndefined();
    a2?.();
    b1?.();
    expect(cap.countOf('a')).toBe(0);
  });
});

describe('Semaphore', () => {
  it('runs at most `permits` at once, queues up to the limit, refuses beyond, and passes permits on in order', async () => {
    const sem = new Semaphore(2, 2);
    const gates: (() => void)[] = [];
    const order: number[] = [];
    let concurrent = 0;
    let most = 0;
    const task = (n: number) => () =>
      new Promise<number>((resolve) => {
        concurrent++;
        most = Math.max(most, concurrent);
        order.push(n);
        gates.push(() => {
          concurrent--;
          resolve(n);
        });
      });
    const runs = [1, 2, 3, 4].map((n) => sem.run(task(n)));
    await expect(sem.run(task(5))).rejects.toBeInstanceOf(SemaphoreFullError);
    expect(sem.active).toBe(2);
    expect(sem.queued).toBe(2);
    while (gates.length > 0 || order.length < 4) {
      await new Promise((r) => setImmediate(r));
      gates.shift()?.();
    }
    expect(await Promise.all(runs)).toEqual([1, 2, 3, 4]);
    expect(order).toEqual([1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(sem.active).toBe(0);
    await expect(sem.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(sem.active).toBe(0);
  });
});

describe('addressPrefix', () => {
  it.each([
    ['203.0.113.7', '203.0.113.0/24'],
    ['::ffff:203.0.113.7', '203.0.113.0/24'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:0db8:0001:0002::9', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['unknown', 'unknown'],
  ])('%s counts in %s', (address, prefix) => {
    expect(addressPrefix(address)).toBe(prefix);
  });
});

describe('DropPacing', () => {
  function paced(perKey = { burst: 3, perSecond: 1 }, overall = { burst: 5, perSecond: 2 }) {
    let now = 0;
    const pacing = new DropPacing(perKey, overall, () => now);
    return { pacing, advance: (ms: number) => (now += ms) };
  }

  it('lets a caller through until it has dropped a burst, then paces it by the refill rate; answered calls spend nothing', () => {
    const { pacing, advance } = paced();
    expect(pacing.waitMs('a')).toBe(0);
    pacing.recordDrop('a');
    pacing.recordDrop('a');
    expect(pacing.waitMs('a')).toBe(0);
    pacing.recordDrop('a');
    // Empty: one token away at 1 a second.
    expect(pacing.waitMs('a')).toBe(1000);
    advance(400);
    expect(pacing.waitMs('a')).toBe(600);
    advance(600);
    expect(pacing.waitMs('a')).toBe(0);
    // Another caller is not paced for a's drops.
    expect(pacing.waitMs('b')).toBe(0);
  });

  it('keeps at most one burst of debt, so a caller who stops dropping is let through within (burst + 1) seconds', () => {
    const { pacing, advance } = paced();
    for (let i = 0; i < 50; i++) pacing.recordDrop('a');
    expect(pacing.waitMs('a')).toBe(4000);
    advance(4000);
    expect(pacing.waitMs('a')).toBe(0);
  });

  it('paces everyone once all callers together have dropped a burst of everyone', () => {
    const { pacing, advance } = paced();
    for (const key of ['a', 'b', 'c', 'd', 'e']) pacing.recordDrop(key);
    expect(pacing.waitMs('fresh')).toBe(500);
    advance(500);
    expect(pacing.waitMs('fresh')).toBe(0);
  });

  it('forgets callers whose bucket has refilled, and bounds what it keeps for callers that invent keys', () => {
    const { pacing, advance } = paced({ burst: 1, perSecond: 1 }, { burst: 1_000_000, perSecond: 1_000_000 });
    pacing.recordDrop('a');
    expect(pacing.indebted).toBe(2);
    advance(1000);
    expect(pacing.waitMs('a')).toBe(0);
    expect(pacing.indebted).toBe(0);
    for (let i = 0; i < 20_000; i++) pacing.recordDrop(`made-up-${i}`);
    expect(pacing.indebted).toBeLessThanOrEqual(10_000);
  });
});
