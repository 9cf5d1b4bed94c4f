/**
 * Errors the gateway's services throw. Services never throw HttpException: the
 * global filter maps each stable code to one HTTP status in `statusForCode`.
 */
export type AppErrorCode =
  | 'AUTH_REQUIRED'
  | 'AUTH_INVALID_CREDENTIALS'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'VALIDATION_FAILED'
  | 'USERNAME_TAKEN'
  | 'NAME_TAKEN'
  | 'KEYS_NOT_ENROLLED'
  | 'REQUESTER_NOT_ALLOWED'
  | 'NO_MATCHING_POLICY'
  | 'APPROVER_NOT_ELIGIBLE'
  | 'APPROVAL_SELF_FORBIDDEN'
  | 'APPROVAL_DUPLICATE'
  | 'REQUEST_NOT_PENDING'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'STATEMENT_REJECTED'
  | 'SHARE_REJECTED'
  | 'POLICY_INVALID'
  | 'CREDENTIAL_INVALID'
  | 'TOO_MANY_ATTEMPTS'
  | 'TOO_MANY_OPEN'
  | 'BUSY';

export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export function statusForCode(code: AppErrorCode): number {
  switch (code) {
    case 'VALIDATION_FAILED':
    case 'STATEMENT_REJECTED':
    case 'SHARE_REJECTED':
    case 'POLICY_INVALID':
    case 'CREDENTIAL_INVALID':
      return 400;
    case 'AUTH_REQUIRED':
    case 'AUTH_INVALID_CREDENTIALS':
      return 401;
    case 'FORBIDDEN':
    case 'REQUESTER_NOT_ALLOWED':
    case 'NO_MATCHING_POLICY':
    case 'APPROVER_NOT_ELIGIBLE':
    case 'APPROVAL_SELF_FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
    case 'USERNAME_TAKEN':
    case 'NAME_TAKEN':
    case 'APPROVAL_DUPLICATE':
    case 'REQUEST_NOT_PENDING':
    case 'IDEMPOTENCY_KEY_REUSED':
      return 409;
    case 'KEYS_NOT_ENROLLED':
      return 422;
    case 'TOO_MANY_ATTEMPTS':
    case 'TOO_MANY_OPEN':
      return 429;
    case 'BUSY':
      return 503;
  }
}
