/** The gateway's responses as the CLI reads them (PROTOCOL.md §4, §7); the wire types live in libs/contracts. */
import type { Approval, Credential, FinalRequestStatus, Me, RequestDetail, RequestStatus } from '#libs/contracts';

export type { DecisionResponse, LoginResponse, RequestStatus, SubmittedRequest } from '#libs/contracts';
export type ApprovalView = Approval;
export type RequestView = RequestDetail;
export type MeView = Me;
export type CredentialView = Credential;

export const FINAL_STATUSES = ['succeeded', 'failed', 'rejected', 'expired', 'cancelled'] as const satisfies readonly FinalRequestStatus[];
export const REQUEST_STATUSES = ['pending', 'approved', 'executing', ...FINAL_STATUSES] as const satisfies readonly RequestStatus[];

export function isFinal(status: string): boolean {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}
