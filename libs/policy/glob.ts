const REGEXP_SYNTAX = /[\\^$.*+?()[\]{}|/]/g;

/**
 * Compiles a glob into an anchored RegExp. `*` matches any run of characters
 * (including none, `/` and line breaks), `?` exactly one character (a code
 * point, not a UTF-16 unit); everything else is literal.
 *
 * The text between two stars is matched at its first occurrence inside an atomic
 * lookahead, so matching takes time proportional to glob × value length: values come
 * from requesters, and a naive `.*` translation backtracks exponentially in the stars.
 *
 * @example
 * globToRegExp('prod-*').test('prod-eu'); // true
 * globToRegExp('prod-*').test('staging'); // false
 */
export function globToRegExp(glob: string): RegExp {
  if (typeof glob !== 'string') {
    throw new TypeError('globToRegExp: glob must be a string');
  }
  const segments = glob.split(/\*+/u).map(segmentToSource);
  if (segments.length === 1) return new RegExp(`^${segments[0]}$`, 'u');
  const first = segments[0];
  const last = segments[segments.length - 1];
  // (?=(x*?S))\n is an atomic group: once S is found at its earliest place, it is never retried.
  const middle = segments.slice(1, -1).map((segment, i) => `(?=([\\s\\S]*?${segment}))\\${i + 1}`);
  return new RegExp(`^${first}${middle.join('')}[\\s\\S]*${last}$`, 'u');
}

function segmentToSource(segment: string): string {
  let source = '';
  for (const char of segment) source += char === '?' ? '[\\s\\S]' : char.replace(REGEXP_SYNTAX, '\\$&');
  return source;
}

/** A path glob segment that stands for any number (zero included) of whole segments. */
export const ANY_SEGMENTS = '**';

/**
 * Matches an HTTP path (without its query) against a path glob, segment by segment.
 * `**` as a whole segment matches any number of segments, none included (`/admin/**`
 * matches `/admin`, `/admin/` and `/admin/a/b`); inside a segment, `*` matches any run of
 * characters except `/` and `?` exactly one character other than `/`; everything else is
 * literal. Percent-escapes are compared as sent, not decoded.
 *
 * Each glob segment is tried against each path segment at most once (a table over
 * glob segments × path segments), each try being `globToRegExp`'s linear match, so the
 * time is proportional to glob × path length, whatever the number of stars.
 *
 * @example
 * matchesPathGlob('/admin/rotate/*', '/admin/rotate/db'); // true
 * matchesPathGlob('/admin/rotate/*', '/admin/rotate/db/../../users'); // false: * stays in one segment
 * matchesPathGlob('/files/**', '/files/a/b.txt'); // true
 */
export function matchesPathGlob(glob: string, path: string): boolean {
  if (typeof glob !== 'string' || typeof path !== 'string') {
    throw new TypeError('matchesPathGlob: glob and path must be strings');
  }
  const globs = glob.split('/');
  const segments = path.split('/');
  const compiled = globs.map((g) => (g === ANY_SEGMENTS ? null : globToRegExp(g)));
  // reach[j]: the glob segments seen so far can consume exactly the first j path segments.
  let reach: boolean[] = segments.map(() => false).concat(false);
  reach[0] = true;
  for (const regexp of compiled) {
    const next: boolean[] = reach.map(() => false);
    if (regexp === null) {
      let any = false;
      for (let j = 0; j < reach.length; j += 1) {
        any = any || (reach[j] ?? false);
        next[j] = any;
      }
    } else {
      for (let j = 0; j < segments.length; j += 1) {
        if (reach[j] === true && regexp.test(segments[j] ?? '')) next[j + 1] = true;
      }
    }
    reach = next;
  }
  return reach[segments.length] === true;
}
