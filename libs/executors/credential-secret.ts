import { assertUnreachable, isRecord } from './checks.js';
import { ExecutorError } from './executor-error.js';
import { checkHttpToken } from './http-token.js';
import { executorsForCredential } from './registry.js';
import { checkKeyPair, defaultAlgorithm, parseSigningKey } from './signing-key.js';

/** Credential kinds of PROTOCOL.md §6. */
export const CREDENTIAL_KINDS = ['signing-key', 'http-token', 'kubeconfig', 'ssh-key', 'postgres'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

const MAX_SECRET_BYTES = 1024 * 1024;
const MAX_CONFIG_CHARS = 64 * 1024;

function isCredentialKind(kind: unknown): kind is CredentialKind {
  return CREDENTIAL_KINDS.some((k) => k === kind);
}

/**
 * At credential creation: checks that the secret fits its kind and returns
 * what may be published about it. Enforces:
 * - `signing-key`: a private JWK (see `parseSigningKey`) whose private and
 *   public members belong to one key; publishes `{publicJwk, alg}` (public
 *   members and `kid` only; `alg` is the one used when a request names none);
 * - `http-token`: printable ASCII without CR/LF (see `checkHttpToken`); publishes `{}`;
 * - `kubeconfig`, `ssh-key`, `postgres`: 1 byte to 1 MiB; publishes `{}`.
 * Throws SECRET_INVALID (never quoting the secret) or KIND_UNSUPPORTED.
 * `_config` is accepted for kinds whose check will need it (an ssh-key against
 * its pinned host); none of the current kinds reads it.
 *
 * @example
 * const { publicInfo } = await validateCredentialSecret('signing-key', Buffer.from(jwkJson), {});
 * // publicInfo: { publicJwk: { kty: 'EC', crv: 'P-256', x, y, kid }, alg: 'ES256' }
 */
export async function validateCredentialSecret(
  credentialKind: string,
  secret: Buffer,
  _config?: unknown,
): Promise<{ publicInfo: Record<string, unknown> }> {
  if (!Buffer.isBuffer(secret)) throw new TypeError('secret must be a Buffer');
  if (!isCredentialKind(credentialKind)) {
    throw new ExecutorError('KIND_UNSUPPORTED', `credential kind "${String(credentialKind).slice(0, 64)}" is not supported`);
  }
  switch (credentialKind) {
    case 'signing-key': {
      const key = await parseSigningKey(secret);
      const alg = defaultAlgorithm(key);
      await checkKeyPair(key, alg);
      return { publicInfo: { publicJwk: key.publicJwk, alg } };
    }
    case 'http-token':
      checkHttpToken(secret);
      return { publicInfo: {} };
    case 'kubeconfig':
    case 'ssh-key':
    case 'postgres':
      if (secret.byteLength === 0) throw new ExecutorError('SECRET_INVALID', `${credentialKind}: the secret is empty`);
      if (secret.byteLength > MAX_SECRET_BYTES) throw new ExecutorError('SECRET_INVALID', `${credentialKind}: the secret must be at most 1 MiB`);
      return { publicInfo: {} };
    default:
      return assertUnreachable(credentialKind, 'credential kind');
  }
}

/**
 * At credential creation: checks the config against every executor that can
 * use the credential kind and returns it with their defaults filled in.
 * A kind no executor serves yet (`kubeconfig`, `ssh-key`, `postgres`: usable
 * by `reveal` only) takes a JSON object of at most 64 KiB, stored as given;
 * its executor validates it again at execution once it exists.
 * Throws CONFIG_INVALID or KIND_UNSUPPORTED.
 *
 * @example
 * validateCredentialConfig('http-token', { baseUrl: 'https://admin.internal' });
 * // { baseUrl: 'https://admin.internal', header: 'Authorization', scheme: 'Bearer' }
 */
export function validateCredentialConfig(credentialKind: string, config: unknown): Record<string, unknown> {
  if (!isCredentialKind(credentialKind)) {
    throw new ExecutorError('KIND_UNSUPPORTED', `credential kind "${String(credentialKind).slice(0, 64)}" is not supported`);
  }
  const executors = executorsForCredential(credentialKind);
  if (executors.length === 0) {
    const checked = config === undefined || config === null ? {} : config;
    if (!isRecord(checked)) throw new ExecutorError('CONFIG_INVALID', 'config must be an object');
    let text: string;
    try {
      text = JSON.stringify(checked);
    } catch {
      throw new ExecutorError('CONFIG_INVALID', 'config must be JSON');
    }
    if (text.length > MAX_CONFIG_CHARS) throw new ExecutorError('CONFIG_INVALID', 'config must be at most 64 KiB of JSON');
    return JSON.parse(text) as Record<string, unknown>;
  }
  let checked: Record<string, unknown> = {};
  for (const executor of executors) checked = executor.validateConfig(config);
  return checked;
}
