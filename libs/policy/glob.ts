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
