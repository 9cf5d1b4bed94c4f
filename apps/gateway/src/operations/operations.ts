import {
  isInternalOperationKind,
  type CredentialKind,
  type ExecutorOperationKind,
  type InternalOperationKind,
  type OperationKind,
} from '#libs/contracts';
import { sealToPublicKey } from '#libs/crypto';
import { executorFor, ExecutorError, runWithTimeout } from '#libs/executors';
import type { Principal } from '../auth/principal.js';
import type { GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import type { RequestRow } from '../requests/requests.repository.js';
import { findUserById } from '../users/accounts.repository.js';

/** What the gateway does with one operation kind, from the policy that names it to the run. */
export interface OperationHandler {
  /** At policy creation: whether this kind can act on a credential of that kind. */
  servesCredentialKind(kind: CredentialKind): boolean;
  /** At submission: the params to store, checked for this credential and this requester; throws AppError. */
  admit(ctx: GatewayContext, principal: Principal, params: Record<string, unknown>, credential: { kind: CredentialKind; config: Record<string, unknown> }): Promise<Record<string, unknown>>;
  /** At execution, with the rebuilt secret: the result object of §6, or `{error, code}`. */
  run(ctx: GatewayContext, request: RequestRow, input: { config: Record<string, unknown>; secret: Buffer; timeoutSeconds: number }): Promise<Record<string, unknown>>;
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

/** Break-glass: the secret itself, sealed to the requester's own encryption key. Any credential kind. */
const reveal: OperationHandler = {
  servesCredentialKind: () => true,
  admit: async (ctx, principal, params) => {
    if (Object.keys(params).length > 0) throw new AppError('VALIDATION_FAILED', 'reveal takes no params');
    if (principal.kind !== 'user') throw new AppError('FORBIDDEN', 'reveal is for people with enrolled keys, not service accounts');
    const requester = await findUserById(ctx.dataSource, principal.id);
    if (requester?.encryptionKey == null) throw new AppError('KEYS_NOT_ENROLLED', 'reveal seals the secret to your own encryption key: enrol keys first');
    return {};
  },
  run: async (ctx, request, { secret }) => {
    const requester = await findUserById(ctx.dataSource, request.requesterId);
    if (requester?.encryptionKey == null) return { error: 'the requester has no enrolled encryption key', code: 'KEYS_NOT_ENROLLED' };
    return { envelope: await sealToPublicKey(secret, requester.encryptionKey, { req: request.id, cred: request.credentialId }) };
  },
  finalAuditData: { breakGlass: true },
};

/** Operations that act on the credential itself, answered by the gateway: a kind added to the contracts list and missing here fails the compile. */
const INTERNAL_OPERATIONS: { readonly [K in InternalOperationKind]: OperationHandler } = { reveal };

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
