import { ApiError, exitCodeForStatus, normaliseUrl } from './api-client.js';
import { ExitCode } from './exit-codes.js';

describe('exitCodeForStatus', () => {
  it('maps denials to 3, invalid input to 2, anything else to 1', () => {
    const cases: [number, string | undefined, number][] = [
      [401, 'AUTH_REQUIRED', ExitCode.denied],
      [403, 'NO_MATCHING_POLICY', ExitCode.denied],
      [400, 'VALIDATION_FAILED', ExitCode.usage],
      [400, undefined, ExitCode.usage],
      [400, 'STATEMENT_REJECTED', ExitCode.failed],
      [404, 'NOT_FOUND', ExitCode.failed],
      [409, 'REQUEST_NOT_PENDING', ExitCode.failed],
      [500, undefined, ExitCode.failed],
    ];
    for (const [status, code, expected] of cases) expect(exitCodeForStatus(status, code)).toBe(expected);
  });

  it('puts the problem detail on one line', () => {
    expect(new ApiError(403, 'no policy\nmatches', 'NO_MATCHING_POLICY').message).toBe('no policy matches (HTTP 403 NO_MATCHING_POLICY)');
  });
});

describe('normaliseUrl', () => {
  it('keeps origin and path without trailing slashes, refuses other schemes and credentials', () => {
    expect(normaliseUrl('https://qg.example.com/')).toBe('https://qg.example.com');
    expect(normaliseUrl('http://127.0.0.1:8080/qg//')).toBe('http://127.0.0.1:8080/qg');
    for (const bad of ['ftp://x', 'not a url', 'https://user:pw@qg.example.com']) {
      expect(() => normaliseUrl(bad)).toThrow();
    }
  });

  it('refuses plain http:// except to loopback', () => {
    for (const ok of ['http://localhost:8080', 'http://127.0.0.1:8080', 'http://127.1.2.3', 'http://[::1]:8080', 'http://qg.localhost', 'https://qg.example.com']) {
      expect(() => normaliseUrl(ok)).not.toThrow();
    }
    for (const bad of ['http://qg.example.com', 'http://10.0.0.5:8080', 'http://[::2]', 'http://127.0.0.1.example.com', 'http://localhost.example.com', 'http://0.0.0.0:8080']) {
      expect(() => normaliseUrl(bad)).toThrow(/refusing plain http/);
    }
  });
});
