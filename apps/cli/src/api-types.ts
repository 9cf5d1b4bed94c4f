/** The gateway's responses as the CLI reads them (PROTOCOL.md §4, §7); the wire types and closed lists live in libs/contracts. */
import type { Approval, Credential, Me, RequestDetail } from '#libs/contracts';

export type { DecisionResponse, LoginResponse, Operation, OperationKind, RequestStatus, SubmittedRequest } from '#libs/contracts';
export { assertUnreachable, FINAL_REQUEST_STATUSES, isFinalRequestStatus as isFinal, isOperationKind, REQUEST_STATUSES } from '#libs/contracts';
export type ApprovalView = Approval;
export type RequestView = RequestDetail;
export type MeView = Me;
export type CredentialView = Credential;
