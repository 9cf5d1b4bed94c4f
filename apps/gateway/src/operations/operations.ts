import {
  isInternalOperationKind,
  type CredentialKind,
  type ExecutorOperationKind,
  type InternalOperationKind,
  type OperationKind,
} from '#libs/contracts';
import { parsePublicJwk, sealToPublicKey, type JWK } from '#libs/crypto';
import { executorFor, ExecutorError, runWithTimeout } from '#libs/executors';
import type { Principal } from '../auth/principal.js';
import type { GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import type { SignedRequest } from '../executions/signed-request.js';
import { findUserWithCheckedKeys } from '../users/enrolled-keys.js';
import { reshare, rotate, StagedVersion } from './custody-operations.js';

export { StagedVersion };

/** What the gateway does with one operation kind, from the policy that names it to the run. */
export interface OperationHandler {
  /** At policy creation: whether this kind can act on a credential of that kind. */
  servesCredentialKind(kind: CredentialKind): boolean;
  /** At submission of request `requestId`: the params to store, checked for this credential and this requester; throws AppError. */
  admit(
    ctx: GatewayContext,
    principal: Principal,
    params: Record<string, unknown>,
    credential: { id: string; version: number; kind: CredentialKind; config: Record<string, unknown> },
    requestId: string,
  ): Promise<Record<string, unknown>>;
  /**
   * At execution, with the rebuilt secret, for the request as signed: the result object of §6, or `{error, code}`;
   * a custody operation answers a StagedVersion, stored in the transaction that ends the request.
   */
  run(ctx: GatewayContext, request: SignedRequest, input: { config: Record<string, unknown>; secret: Buffer; timeoutSeconds: number }): Promise<Record<string, unknown> | StagedVersion>;
  /** Added to the audit entry that ends the request. */
  readonly finalAuditData: Record<string, unknown>;
}

/** Operations that run against a system outside the gateway, through their executor (libs/executors). */
function executorOperation(kind: ExecutorOperationKind): OperationHandler {
  const executor = executorFor(kind);
  return {
    servesCredentialKind: (credentialKind) => executor.credentialKinds.includes(credentialKind),
    admit: async (_ctx, _principal, params, credential) => {
      if (!executor.credentialKinds.includes(credential.kind)) throw new AppError('VALIDATION_FAILED', `a ${credential.kind} credential cannot run ${kind}`);
      try {
        return executor.validateParams(params, credential.config);
      } catch (error) {
        if (error instanceof ExecutorError) throw new AppError('VALIDATION_FAILED', `operation.params: ${error.message}`);
        throw error;
      }
    },
    run: async (_ctx, request, { config, secret, timeoutSeconds }) => {
      try {
        const result = await runWithTimeout(executor, { secret, config, params: request.operation.params }, timeoutSeconds * 1000);
        // An API that refuses the credential did not run the operation: that is a failure, not a result.
        if (kind === 'http' && (result['status'] === 401 || result['status'] === 403)) {
          return { ...result, error: `the upstream refused the credential (HTTP ${String(result['status'])})`, code: 'UPSTREAM_REFUSED' };
        }
        return result;
      } catch (error) {
        if (error instanceof ExecutorError) return { error: error.message, code: error.code };
        throw error;
      }
    },
    finalAuditData: {},
  };
}

/** The thumbprint of a user's enrolled encryption key, computed from the key itself; null without one. */
async function encryptionKeyOf(ctx: GatewayContext, userId: string): Promise<{ jwk: JWK; thumbprint: string } | null> {
  const user = await findUserWithCheckedKeys(ctx, userId);
  if (user?.encryptionKey == null) return null;
  return { jwk: user.encryptionKey, thumbprint: (await parsePublicJwk(user.encryptionKey, 'encryption')).thumbprint };
}

/**
 * Break-glass: the secret itself, sealed to the requester's own encryption key. Any
 * credential kind. `recipient` names that key by thumbprint in the signed params, so
 * the custodians approve where the secret goes (spec §6); a key changed since then
 * (re-enrolled, or swapped in the database) receives nothing.
 */
const reveal: OperationHandler = {
  servesCredentialKind: () => true,
  admit: async (ctx, principal, params) => {
    const { recipient, ...rest } = params;
    if (Object.keys(rest).length > 0) throw new AppError('VALIDATION_FAILED', 'reveal takes only params.recipient');
    if (principal.kind !== 'user') throw new AppError('FORBIDDEN', 'reveal is for people with enrolled keys, not service accounts');
    const own = await encryptionKeyOf(ctx, principal.id);
    if (own === null) throw new AppError('KEYS_NOT_ENROLLED', 'reveal seals the secret to your own encryption key: enrol keys first');
    if (recipient !== undefined && recipient !== own.thumbprint) {
      throw new AppError('VALIDATION_FAILED', 'params.recipient must be the thumbprint of your enrolled encryption key');
    }
    return { recipient: own.thumbprint };
  },
  run: async (ctx, request, { secret }) => {
    const recipient = await encryptionKeyOf(ctx, request.requesterId);
    if (recipient === null) return { error: 'the requester has no enrolled encryption key', code: 'KEYS_NOT_ENROLLED' };
    if (recipient.thumbprint !== request.operation.params['recipient']) {
      return { error: "the requester's encryption key is not the one the custodians approved", code: 'RECIPIENT_CHANGED' };
    }
    return { envelope: await sealToPublicKey(secret, recipient.jwk, { req: request.id, cred: request.credential.id }) };
  },
  finalAuditData: { breakGlass: true },
};

/** Operations that act on the credential itself, answered by the gateway: a kind added to the contracts list and missing here fails the compile. */
const INTERNAL_OPERATIONS: { readonly [K in InternalOperationKind]: OperationHandler } = { reveal, 'credential.reshare': reshare, 'credential.rotate': rotate };

const handlers = new Map<OperationKind, OperationHandler>();

/** The handler of an operation kind: its executor's, or the gateway's own for internal operations. */
export function operationFor(kind: OperationKind): OperationHandler {
  let handler = handlers.get(kind);
  if (handler === undefined) {
    handler = isInternalOperationKind(kind) ? INTERNAL_OPERATIONS[kind] : executorOperation(kind);
    handlers.set(kind, handler);
  }
  return handler;
}
