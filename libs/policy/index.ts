export { applyVote, type CastVote, type VotedRequest, type VoteResolution } from './apply-vote.js';
export { checkApprover } from './check-approver.js';
export { evaluatePolicy } from './evaluate-policy.js';
export { ANY_SEGMENTS, globToRegExp, matchesPathGlob } from './glob.js';
export { constraintNotes, matchesOperation, OVERRIDE_HEADERS, REST_ELEMENTS, SHELL_METACHARACTERS } from './match-operation.js';
export { PolicyError, type PolicyErrorCode } from './policy-error.js';
export { policyDigestSubject } from './policy-snapshot.js';
export { assertLegalTransition, isLegalTransition, REQUEST_TRANSITIONS } from './request-transitions.js';
export { canRequest, selectPolicy } from './select-policy.js';
export type {
  ApprovalRule,
  ConstraintValue,
  CredentialFacts,
  Operation,
  OperationRule,
  Outcome,
  PolicyDefinition,
  Principal,
  RequesterRule,
  RequestState,
  ShareGroup,
  Role,
  Vote,
} from './types.js';
export { MAX_REQUEST_TTL_SECONDS, MIN_REQUEST_TTL_SECONDS, validatePolicyDefinition } from './validate-policy.js';
export { canSeeCredential, canSeePolicy } from './catalog-visibility.js';
export { assessCustody, custodianLiveness, quorumMargin, type CustodianFacts, type CustodianLiveness, type CustodyGroupFacts, type CustodyHealth } from './custody-health.js';
