import { globToRegExp } from './glob.js';

describe('globToRegExp', () => {
  it.each<[string, string, boolean]>([
    ['prod-*', 'prod-eu', true],
    ['prod-*', 'prod-', true],
    ['prod-*', 'staging-prod-eu', false],
    ['prod-*', 'PROD-eu', false],
    ['prod-?', 'prod-1', true],
    ['prod-?', 'prod-12', false],
    ['prod-?', 'prod-', false],
    ['?', '😀', true],
    ['/admin/rotate/*', '/admin/rotate/db/primary', true],
    ['/admin/rotate/*', '/admin/users', false],
    ['*', '', true],
    ['*', 'line1\nline2', true],
    ['a**b', 'axxb', true],
    ['*a*b', 'xxaxxbxb', true],
    ['*ab*ab', 'abxab', true],
    ['*ab*ab', 'abab', true],
    ['*ab*ab', 'aba', false],
    ['a*?b', 'ab', false],
    ['a*?b', 'axb', true],
    ['', '', true],
    ['', 'x', false],
    ['a.c', 'a.c', true],
    ['a.c', 'abc', false],
    ['(x|y)+[z]{2}^$\\/', '(x|y)+[z]{2}^$\\/', true],
    ['(x|y)', 'x', false],
    ['GET', 'GET', true],
    ['GET', 'get', false],
    ['GET', 'GETX', false],
    ['GET', 'XGET', false],
  ])('%j against %j → %s', (glob, value, expected) => {
    expect(globToRegExp(glob).test(value)).toBe(expected);
  });

  it('refuses a glob that is not a string', () => {
    expect(() => globToRegExp(42 as unknown as string)).toThrow(TypeError);
  });

  it.each<[string, string, boolean]>([
    ['*a*a*a*a*a*b', 'a'.repeat(20_000), false],
    ['*a*a*a*a*a*b', `${'a'.repeat(20_000)}b`, true],
    ['*?*?*?*?*?*x', 'y'.repeat(20_000), false],
    ['a*b*c*d*e*f*g*h', 'a'.repeat(20_000), false],
  ])('stays linear: %s against %d characters', (glob, value, expected) => {
    const started = process.hrtime.bigint();
    expect(globToRegExp(glob).test(value)).toBe(expected);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1_000);
  });

  it('agrees with a reference matcher on every short glob and value', () => {
    const alphabet = ['a', 'b', '*', '?'];
    const globs = words(alphabet, 4);
    const values = words(['a', 'b'], 5);
    for (const glob of globs) {
      const re = globToRegExp(glob);
      for (const value of values) {
        expect([glob, value, re.test(value)]).toEqual([glob, value, referenceMatch(glob, value)]);
      }
    }
  });
});

function words(alphabet: string[], maxLength: number): string[] {
  let layer = [''];
  const all = [''];
  for (let n = 1; n <= maxLength; n += 1) {
    layer = layer.flatMap((w) => alphabet.map((c) => w + c));
    all.push(...layer);
  }
  return all;
}

// Exhaustive recursion: obviously right, exponential, fine for tiny inputs.
function referenceMatch(glob: string, value: string): boolean {
  if (glob === '') return value === '';
  const [head, rest] = [glob[0], glob.slice(1)];
  if (head === '*') return [...Array(value.length + 1).keys()].some((i) => referenceMatch(rest, value.slice(i)));
  if (value === '') return false;
  return (head === '?' || head === value[0]) && referenceMatch(rest, value.slice(1));
}
