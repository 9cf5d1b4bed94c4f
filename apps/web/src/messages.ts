/**
 * What the UI tells people when something is refused: one sentence per problem code of
 * the gateway (libs/contracts `PROBLEM_CODES`; a new code fails the compile here until it
 * has one), with the gateway's own detail and the reference for support (code and trace
 * id) kept for the small print. Also the sentences forms use to say what to do.
 *
 * No import of api.ts (which uses this module): a gateway error is recognised by shape.
 */
import { isProblemCode, type ProblemCode } from '../../../libs/contracts/index.ts';

/** What a person reads about an error: the sentence, then (smaller) the gateway's detail and a reference for support. */
export interface PersonMessage {
  sentence: string;
  /** the gateway's own wording, when the sentence does not already carry it */
  detail: string | null;
  /** "CODE · trace <id>", for support */
  reference: string | null;
}

/** The sentences, by code. A function receives the gateway's detail, for codes whose detail is the useful part. */
const SENTENCES: { readonly [C in ProblemCode]: string | ((detail: string) => string) } = {
  AUTH_REQUIRED: 'Your session has ended. Sign in again to continue.',
  AUTH_INVALID_CREDENTIALS: 'That password is not right. Check it and try again.',
  FORBIDDEN: 'You are not allowed to do this.',
  NOT_FOUND: 'This does not exist, or you are not allowed to see it.',
  CONFLICT: (d) => `This cannot be done as things stand: ${d}.`,
  VALIDATION_FAILED: (d) => `The gateway did not accept what was entered: ${d}.`,
  BODY_MALFORMED: 'The gateway could not read what this page sent. Reload the page and try again.',
  REQUEST_MALFORMED: 'The gateway could not read what this page sent. Reload the page and try again.',
  BODY_NOT_EXPECTED: 'The gateway could not read what this page sent. Reload the page and try again.',
  BODY_TOO_LARGE: 'This is too large to send. Make it smaller and try again.',
  UNSUPPORTED_MEDIA_TYPE: 'The gateway could not read what this page sent. Reload the page and try again.',
  ROUTE_NOT_FOUND: 'The gateway does not offer this. It may be older than this page: reload it.',
  METHOD_NOT_ALLOWED: 'The gateway does not offer this. It may be older than this page: reload it.',
  USERNAME_TAKEN: 'That username is taken. Choose another one.',
  NAME_TAKEN: 'That name is taken. Choose another one.',
  IN_USE: (d) => `This is still in use and cannot be deleted: ${d}.`,
  KEYS_NOT_ENROLLED: 'You have no enrolled keys yet. Create them on “My keys” first.',
  REQUESTER_NOT_ALLOWED: 'You may not submit requests for this credential.',
  NO_MATCHING_POLICY: 'No policy lets you run this operation on this credential. Change what you ask for, or ask a security lead for a policy.',
  APPROVER_NOT_ELIGIBLE: 'You cannot decide on this request: you are not one of its eligible custodians.',
  APPROVAL_SELF_FORBIDDEN: 'You cannot approve your own request: someone else must.',
  APPROVAL_DUPLICATE: 'This request was already decided by you: your decision is recorded.',
  REQUEST_NOT_PENDING: 'This request no longer waits for decisions: it was decided, cancelled or has expired.',
  IDEMPOTENCY_KEY_REUSED: 'This was already submitted with different content.',
  STATEMENT_REJECTED: 'The gateway refused your signed decision. Check that this browser holds the keys you enrolled, then try again.',
  SHARE_REJECTED: 'The gateway refused your share: it does not open for this request. Check “My keys”.',
  CHECK_IN_REJECTED: 'The check-in was refused: your share does not match the one on record. Tell your security team.',
  POLICY_INVALID: (d) => `This policy cannot be saved: ${d}.`,
  CREDENTIAL_INVALID: (d) => `This credential cannot be saved: ${d}.`,
  TOO_MANY_ATTEMPTS: 'Too many attempts. Wait a few minutes, then try again.',
  SSO_FAILED: 'Single sign-on did not work. Try again, or ask an admin.',
  PASSWORD_CHANGE_REQUIRED: 'Choose your own password first: the one you signed in with was set by an administrator.',
  PASSWORD_UNCHANGED: 'The new password must differ from the current one.',
  INTAKE_KEY_REFUSED: 'The new secret was sealed to an intake key that has expired or was already used. Get a new intake key and seal the secret again.',
  CREDENTIAL_VERSION_CHANGED: 'This credential changed (re-shared or rotated) since the request was made. Submit the request again.',
  POLICY_OUTDATED: 'This policy no longer fits the credential after its last re-share. A security lead must update it first.',
  FRESH_SIGN_IN_REQUIRED: 'For this, sign in again first (it needs a sign-in from the last few minutes).',
  SSO_UNAVAILABLE: 'Single sign-on is not available right now. Try again later.',
  TOO_MANY_OPEN: 'Too many pages are open on live updates. Close some tabs, then reload.',
  BUSY: 'The gateway is busy. Try again in a moment.',
};

/** The sentence for a known code with the gateway's detail (`detail` is null when the sentence carries it). */
export function problemSentence(code: ProblemCode, detail: string): { sentence: string; detail: string | null } {
  const entry = SENTENCES[code];
  if (typeof entry === 'function') return { sentence: entry(detail.replace(/\.$/, '')), detail: null };
  return { sentence: entry, detail: detail === '' ? null : detail };
}

interface GatewayError {
  status: number;
  detail: string;
  code?: string;
  correlationId?: string;
}

function isGatewayError(error: unknown): error is Error & GatewayError {
  return error instanceof Error && error.name === 'ApiError' && typeof (error as Partial<GatewayError>).status === 'number';
}

/** The message for any error met while talking to the gateway (or thrown in this browser). */
export function personMessage(error: unknown): PersonMessage {
  if (isGatewayError(error)) {
    if (error.status === 0) return { sentence: error.detail, detail: null, reference: null };
    const reference = [error.code, error.correlationId !== undefined && error.correlationId !== '' ? `trace ${error.correlationId}` : undefined].filter((x) => x !== undefined).join(' · ') || null;
    if (isProblemCode(error.code)) return { ...problemSentence(error.code, error.detail), reference };
    if (error.status >= 500) return { sentence: 'The gateway failed to do this. Try again; if it keeps failing, tell your operator the reference below.', detail: null, reference };
    // A code this UI does not know (a newer gateway): its detail is the best sentence there is.
    return { sentence: error.detail, detail: null, reference };
  }
  if (error instanceof Error) return { sentence: error.message, detail: null, reference: null };
  return { sentence: String(error), detail: null, reference: null };
}

/** One line of plain text: the sentence, with the detail in parentheses (no reference). */
export function describeProblem(error: unknown): string {
  const m = personMessage(error);
  return m.detail === null ? m.sentence : `${m.sentence} (${m.detail})`;
}

/** Whether the error says the request changed under the page (decided, ended, already voted): reload before anything else. */
export function isStaleRequestError(error: unknown): boolean {
  return isGatewayError(error) && (error.code === 'REQUEST_NOT_PENDING' || error.code === 'APPROVAL_DUPLICATE' || error.code === 'NOT_FOUND');
}

/** What forms say when an entry is missing or out of range: what to do, not what the browser checked. */
export const FORM_MESSAGES = {
  chooseCredential: 'Choose a credential.',
  chooseOperation: 'Choose an operation.',
  reason: 'Say why, in at least 3 characters: every reviewer reads it.',
  ttl: (maxSeconds: number) => `Choose how long the request may wait: between 1 minute and ${formatDuration(maxSeconds)} (the policy’s limit).`,
  signPayload: 'Paste the text to sign, or choose a file.',
  httpPath: 'Enter the path, starting with “/”.',
  httpHeaders: 'Write one header per line, as “Name: value”.',
  kubernetesTarget: 'Enter the namespace and the pod.',
  command: 'Enter the command to run.',
  sql: 'Enter the SQL statement.',
  revealConfirm: 'Tick the box to confirm you need the secret itself.',
  noKeysForReveal: 'A reveal seals the secret to your own key: create your keys on “My keys” first.',
  chooseCustodian: 'Choose at least one custodian.',
} as const;

/** "1 hour", "90 minutes", "2 days": for TTLs. */
export function formatDuration(seconds: number): string {
  if (seconds % 86400 === 0) return plural(seconds / 86400, 'day');
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
