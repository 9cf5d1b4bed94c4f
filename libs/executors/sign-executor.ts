import { CompactSign } from 'jose';
import { assertUnreachable, requireMembers, throwIfAborted } from './checks.js';
import type { ExecutionInput, Executor } from './executor.js';
import { ExecutorError } from './executor-error.js';
import { chooseAlgorithm, ecdsaSignatureToDer, importSigningKey, parseSigningKey, signRaw, SIGNING_ALGS, type SigningAlg } from './signing-key.js';

const MAX_PAYLOAD_BYTES = 1024 * 1024;
const MAX_PAYLOAD_CHARS = Math.ceil((MAX_PAYLOAD_BYTES * 4) / 3);
const B64U = /^[A-Za-z0-9_-]+$/;
const FORMATS = ['raw', 'der', 'jws'] as const;
type SignFormat = (typeof FORMATS)[number];

interface SignParams {
  payload: Uint8Array<ArrayBuffer>;
  format: SignFormat;
  alg: SigningAlg | undefined;
}

function invalid(message: string): ExecutorError {
  return new ExecutorError('PARAMS_INVALID', message);
}

/**
 * Checks `sign` params. Enforces:
 * - only `payload`, `format`, `alg`;
 * - `payload` canonical base64url without padding, 1 byte to 1 MiB decoded;
 * - `format` `raw`, `der` or `jws`;
 * - `alg`, when present, one of ES256, EdDSA, PS256, RS256 (whether it fits
 *   the key is checked at execution, where the key is known).
 */
function parseSignParams(params: unknown): SignParams {
  const p = requireMembers(params, ['payload', 'format', 'alg'], 'PARAMS_INVALID', 'params');
  const { payload, format, alg } = p;
  if (typeof payload !== 'string' || payload.length === 0) throw invalid('params.payload must be a non-empty base64url string');
  if (payload.length > MAX_PAYLOAD_CHARS) throw invalid('params.payload must be at most 1 MiB decoded');
  if (!B64U.test(payload) || payload.length % 4 === 1) throw invalid('params.payload must be base64url without padding');
  const bytes = Buffer.from(payload, 'base64url');
  if (bytes.toString('base64url') !== payload) throw invalid('params.payload is not canonical base64url');
  if (bytes.byteLength > MAX_PAYLOAD_BYTES) throw invalid('params.payload must be at most 1 MiB decoded');
  const fmt = FORMATS.find((f) => f === format);
  if (fmt === undefined) throw invalid('params.format must be "raw", "der" or "jws"');
  let chosen: SigningAlg | undefined;
  if (alg !== undefined) {
    chosen = SIGNING_ALGS.find((a) => a === alg);
    if (chosen === undefined) throw invalid(`params.alg must be one of ${SIGNING_ALGS.join(', ')}`);
  }
  return { payload: new Uint8Array(bytes), format: fmt, alg: chosen };
}

/**
 * `sign` (credential kind `signing-key`): signs `params.payload` with the
 * credential's private JWK. `raw` gives `{alg, kid, signature}` (the
 * signature over the payload bytes, JWS encoding, base64url); `der` the
 * same with an ECDSA signature DER-encoded (what `openssl dgst -verify` takes;
 * EdDSA and RSA signatures have one encoding, so `der` equals `raw`); `jws` gives
 * `{alg, kid, jws}` (compact, protected header `{alg, kid}`).
 *
 * @example
 * const result = await signExecutor.execute({ secret, config: {}, params: { payload: 'aGk', format: 'jws' }, signal });
 */
export const signExecutor: Executor = {
  kind: 'sign',
  credentialKinds: ['signing-key'],

  validateConfig(config: unknown): Record<string, unknown> {
    requireMembers(config ?? undefined, [], 'CONFIG_INVALID', 'sign config', true);
    return {};
  },

  validateParams(params: unknown): Record<string, unknown> {
    const { format, alg } = parseSignParams(params);
    return { payload: (params as Record<string, unknown>).payload, format, ...(alg === undefined ? {} : { alg }) };
  },

  async execute({ secret, config, params, signal }: ExecutionInput): Promise<Record<string, unknown>> {
    signExecutor.validateConfig(config);
    const { payload, format, alg: requested } = parseSignParams(params);
    throwIfAborted(signal);
    const key = await parseSigningKey(secret);
    const alg = chooseAlgorithm(key, requested);
    const cryptoKey = await importSigningKey(key, alg);
    throwIfAborted(signal);
    switch (format) {
      case 'raw': {
        const signature = await signRaw(cryptoKey, alg, payload);
        return { alg, kid: key.kid, signature: Buffer.from(signature).toString('base64url') };
      }
      case 'der': {
        const signature = await signRaw(cryptoKey, alg, payload);
        const encoded = alg === 'ES256' ? ecdsaSignatureToDer(signature) : signature;
        return { alg, kid: key.kid, signature: Buffer.from(encoded).toString('base64url') };
      }
      case 'jws': {
        const jws = await new CompactSign(payload).setProtectedHeader({ alg, kid: key.kid }).sign(cryptoKey);
        return { alg, kid: key.kid, jws };
      }
      default:
        return assertUnreachable(format, 'sign format');
    }
  },
};
