import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { shellCommandLine } from './ssh-params.js';

// Any argv without NUL comes out of `sh -c` exactly as it went in.

const argument = fc.oneof(
  fc.string({ unit: fc.constantFrom(...`'"\\$\`;&|<>(){}[]*?!~# \t\n\r-=%a`.split('')), maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }).filter((s) => !s.includes('\u0000')),
);

describe('shellCommandLine (property)', () => {
  it('hands every argv through /bin/sh unchanged', () => {
    fc.assert(
      fc.property(fc.array(argument, { minLength: 1, maxLength: 8 }), (args) => {
        const out = execFileSync('/bin/sh', ['-c', shellCommandLine(['printf', '%s\\0', ...args])], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
        expect(out.split('\u0000').slice(0, -1)).toEqual(args);
      }),
      { numRuns: 100 },
    );
  });
});
