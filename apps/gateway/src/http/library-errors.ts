import { CryptoError, type CryptoErrorCode } from '#libs/crypto';
import { PolicyError, type PolicyErrorCode } from '#libs/policy';
import { AppError } from './app-error.js';

/** Library errors that reach the HTTP edge, translated into the gateway's codes. */
export function fromPolicyError(error: PolicyError): AppError {
  const code: PolicyErrorCode = error.code;
  switch (code) {
    case 'APPROVAL_SELF_FORBIDDEN':
      return new AppError('APPROVAL_SELF_FORBIDDEN', error.message);
    case 'APPROVER_NOT_ELIGIBLE':
      return new AppError('APPROVER_NOT_ELIGIBLE', error.message);
    case 'APPROVAL_DUPLICATE':
      return new AppError('APPROVAL_DUPLICATE', error.message);
    case 'POLICY_INVALID':
      return new AppError('POLICY_INVALID', error.message);
    case 'REQUEST_NOT_PENDING':
      return new AppError('REQUEST_NOT_PENDING', error.message);
    case 'TRANSITION_ILLEGAL':
      // The lifecycle was asked for a move its table forbids: a bug, never the caller's fault.
      throw new TypeError(error.message);
  }
}

export function fromStatementError(error: CryptoError): AppError {
  const code: CryptoErrorCode = error.code;
  return new AppError('STATEMENT_REJECTED', `approval statement refused (${code}): ${error.message}`);
}
