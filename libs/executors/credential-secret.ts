import { assertUnreachable } from './checks.js';
import { ExecutorError } from './executor-error.js';
import { checkHttpToken } from './http-token.js';
import { parseKubeconfig } from './kubeconfig.js';
import { validateKubernetesConfig } from './kubernetes-params.js';
import { executorsForCredential } from './registry.js';
import { checkKeyPair, defaultAlgorithm, parseSigningKey } from './signing-key.js';
import { checkPostgresPassword } from './sql-params.js';
import { parseSshPrivateKey, sshPublicInfo } from './ssh-key.js';

import { CREDENTIAL_KINDS, type CredentialKind } from '../contracts/index.js';

export { CREDENTIAL_KINDS, type CredentialKind };

const MAX_SECRET_BYTES = 1024 * 1024;

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
 * - `kubeconfig`: at most 1 MiB; the context `config.context` (else
 *   `current-context`) resolves to an https server and a token or client
 *   certificate, with no file, program or proxy (see `parseKubeconfig`);
 *   publishes `{context, server, auth}` (`auth`: `token` or `client-certificate`);
 * - `ssh-key`: an unencrypted private key ssh2 can use (see
 *   `parseSshPrivateKey`); publishes `{publicKey, fingerprint}`, the line to
 *   add to `authorized_keys` and its `SHA256:` fingerprint;
 * - `postgres`: a password of 1 byte to 1 KiB of UTF-8 without NUL, CR or LF; publishes `{}`.
 * Throws SECRET_INVALID (never quoting the secret), CONFIG_INVALID or KIND_UNSUPPORTED.
 * `config` is the credential's config as `validateCredentialConfig` returned it.
 *
 * @example
 * const { publicInfo } = await validateCredentialSecret('signing-key', Buffer.from(jwkJson), {});
 * // publicInfo: { publicJwk: { kty: 'EC', crv: 'P-256', x, y, kid }, alg: 'ES256' }
 */
export async function validateCredentialSecret(
  credentialKind: string,
  secret: Buffer,
  config?: unknown,
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
    case 'kubeconfig': {
      if (secret.byteLength === 0) throw new ExecutorError('SECRET_INVALID', 'kubeconfig: the secret is empty');
      if (secret.byteLength > MAX_SECRET_BYTES) throw new ExecutorError('SECRET_INVALID', 'kubeconfig: the secret must be at most 1 MiB');
      const target = parseKubeconfig(secret, validateKubernetesConfig(config ?? {}).context);
      if (target.auth.kind === 'client-certificate') target.auth.key.fill(0);
      return { publicInfo: { context: target.context, server: target.server.href, auth: target.auth.kind } };
    }
    case 'ssh-key':
      return { publicInfo: sshPublicInfo(parseSshPrivateKey(secret)) };
    case 'postgres':
      checkPostgresPassword(secret);
      return { publicInfo: {} };
    default:
      return assertUnreachable(credentialKind, 'credential kind');
  }
}

/**
 * At credential creation: checks the config against every executor that can
 * use the credential kind and returns it with their defaults filled in.
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
  if (executors.length === 0) throw new TypeError(`credential kind ${credentialKind} has no executor`);
  let checked: Record<string, unknown> = {};
  for (const executor of executors) checked = executor.validateConfig(config);
  return checked;
}
