export { CustodianError, type CustodianErrorCode } from './errors.js';
export { computeDigest, parseDigestInput, type DigestInput } from './digest.js';
export { DIGEST_DRIFT_FIELDS, findDigestDrift, type DigestDriftField, type DigestDriftSubject } from './digest-drift.js';
export {
  generateCustodianKeys,
  exportPublicJwks,
  type CustodianKeys,
  type CustodianPublicJwks,
} from './keys.js';
export { openOwnShare, sealShareToRequestKey, type OwnShareHeader } from './share-envelope.js';
export { signApprovalStatement, type ApprovalStatementClaims } from './approval-statement.js';
export {
  prepareDecision,
  type Decision,
  type PrepareDecisionInput,
  type PreparedDecision,
} from './prepare-decision.js';
export { encryptBackup, decryptBackup } from './key-backup.js';
export type { JWK } from 'jose';
export { prepareCheckIn, shareCommitment, type CheckInShare, type PrepareCheckInInput } from './check-in.js';
export {
  DESTINATION_CONFIG_KEYS,
  REVIEW_WARNING_CODES,
  fingerprint,
  reviewLines,
  reviewReshare,
  reviewRotate,
  type ConfigChange,
  type GroupReview,
  type ReshareReview,
  type ReshareReviewInput,
  type ReviewCustodian,
  type ReviewedCustodian,
  type ReviewGroup,
  type ReviewPerson,
  type ReviewWarning,
  type ReviewWarningCode,
  type RotateReview,
  type RotateReviewInput,
} from './custody-review.js';
