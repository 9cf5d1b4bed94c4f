import { ExecutorError } from './executor-error.js';

const MAX_TOKEN_BYTES = 8 * 1024;

function invalid(message: string): ExecutorError {
  return new ExecutorError('SECRET_INVALID', `http-token: ${message}`);
}

/**
 * Checks an `http-token` secret on its bytes, so that nothing is copied when
 * it is refused. Enforces: 1 byte to 8 KiB; printable ASCII (0x20–0x7E), so
 * no CR, LF or NUL that could split the header; no leading or trailing space.
 *
 * @example
 * checkHttpToken(Buffer.from('s3cr3t')); // passes
 */
export function checkHttpToken(secret: Buffer): void {
  if (!Buffer.isBuffer(secret)) throw new TypeError('secret must be a Buffer');
  if (secret.byteLength === 0) throw invalid('the token is empty');
  if (secret.byteLength > MAX_TOKEN_BYTES) throw invalid('the token must be at most 8 KiB');
  for (const byte of secret) {
    if (byte === 0x0d || byte === 0x0a) throw invalid('the token contains CR or LF (a trailing newline?)');
    if (byte < 0x20 || byte > 0x7e) throw invalid('the token must be printable ASCII');
  }
  if (secret[0] === 0x20 || secret[secret.byteLength - 1] === 0x20) throw invalid('the token has leading or trailing spaces');
}
