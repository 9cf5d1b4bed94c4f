import type { ProblemCode } from '#libs/contracts';

/**
 * Errors the gateway's services throw. Services never throw HttpException: the
 * global filter maps each stable code to one HTTP status in `statusForCode`.
 * The codes are listed once, in libs/contracts `PROBLEM_CODES`.
 */
export type AppErrorCode = ProblemCode;

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
    case 'BODY_MALFORMED':
    case 'REQUEST_MALFORMED':
    case 'BODY_NOT_EXPECTED':
    case 'STATEMENT_REJECTED':
    case 'SHARE_REJECTED':
    case 'CHECK_IN_REJECTED':
    case 'POLICY_INVALID':
    case 'CREDENTIAL_INVALID':
    case 'PASSWORD_UNCHANGED':
    case 'INTAKE_KEY_REFUSED':
      return 400;
    case 'AUTH_REQUIRED':
    case 'AUTH_INVALID_CREDENTIALS':
    case 'SSO_FAILED':
      return 401;
    case 'FORBIDDEN':
    case 'FRESH_SIGN_IN_REQUIRED':
    case 'PASSWORD_CHANGE_REQUIRED':
    case 'REQUESTER_NOT_ALLOWED':
    case 'NO_MATCHING_POLICY':
    case 'APPROVER_NOT_ELIGIBLE':
    case 'APPROVAL_SELF_FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
    case 'ROUTE_NOT_FOUND':
      return 404;
    case 'METHOD_NOT_ALLOWED':
      return 405;
    case 'CONFLICT':
    case 'USERNAME_TAKEN':
    case 'NAME_TAKEN':
    case 'IN_USE':
    case 'APPROVAL_DUPLICATE':
    case 'REQUEST_NOT_PENDING':
    case 'IDEMPOTENCY_KEY_REUSED':
    case 'CREDENTIAL_VERSION_CHANGED':
    case 'POLICY_OUTDATED':
      return 409;
    case 'BODY_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'KEYS_NOT_ENROLLED':
      return 422;
    case 'TOO_MANY_ATTEMPTS':
    case 'TOO_MANY_OPEN':
      return 429;
    case 'SSO_UNAVAILABLE':
    case 'BUSY':
      return 503;
  }
}

/** The stable code of a 4xx the framework (not a service) answered. */
export function codeForStatus(status: number): AppErrorCode {
  switch (status) {
    case 404:
      return 'ROUTE_NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 413:
      return 'BODY_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 401:
      return 'AUTH_REQUIRED';
    case 403:
      return 'FORBIDDEN';
    case 429:
      return 'TOO_MANY_ATTEMPTS';
    default:
      return 'REQUEST_MALFORMED';
  }
}
