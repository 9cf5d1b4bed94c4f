import fc from 'fast-check';
import { globToRegExp, matchesPathGlob } from './glob.js';

// matchesPathGlob against a plain recursive reference, on a small alphabet where
// stars, slashes and empty segments collide often.

/** Reference: does glob (by characters) match path? `**` as a whole segment spans segments; `*` and `?` stop at `/`. */
function reference(glob: string[], path: string[]): boolean {
  const match = (g: number, p: number): boolean => {
    if (g === glob.length) return p === path.length;
    const segment = glob[g] as string;
    if (segment === '**') {
      for (let q = p; q <= path.length; q += 1) if (match(g + 1, q)) return true;
      return false;
    }
    return p < path.length && globToRegExp(segment).test(path[p] as string) && match(g + 1, p + 1);
  };
  return match(0, 0);
}

const segment = fc.string({ unit: fc.constantFrom('a', 'b', '*', '?'), maxLength: 4 });
const pathSegment = fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 3 });

describe('matchesPathGlob (property)', () => {
  it('agrees with the recursive reference', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(segment, fc.constant('**')), { minLength: 1, maxLength: 6 }),
        fc.array(pathSegment, { minLength: 1, maxLength: 6 }),
        (globSegments, pathSegments) => {
          expect(matchesPathGlob(globSegments.join('/'), pathSegments.join('/'))).toBe(reference(globSegments, pathSegments));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('never lets * or ? match a slash', () => {
    fc.assert(
      fc.property(fc.array(pathSegment, { minLength: 2, maxLength: 6 }), (pathSegments) => {
        const path = pathSegments.join('/');
        // One glob segment fewer than the path has: only ** could absorb the extra one.
        const glob = pathSegments.slice(1).map(() => '*').join('/');
        expect(matchesPathGlob(glob, path)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
