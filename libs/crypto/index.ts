export { CryptoError, type CryptoErrorCode } from './errors.js';
export { canonicalJson, toB64u, fromB64u, sha256Hex, randomToken, hmacSha256Hex } from './encoding.js';
export { zeroize } from './zeroize.js';
export { computeRequestDigest, toRequestDigestInput, type RequestDigestInput } from './request-digest.js';
export { generateDataKey, sealSecret, openSealedSecret, type SealedSecretMeta } from './sealed-secret.js';
export { sealWithMasterKey, openWithMasterKey } from './master-key.js';
export { splitDataKey, shareIndex, combineShares } from './shamir.js';
export { computeShareCommitment, verifyShareCommitment, type ShareCommitmentInput } from './share-commitment.js';
export { parsePublicJwk, type KeyUse } from './public-jwk.js';
export {
  sealToPublicKey,
  sealShareToCustodian,
  generateRequestKeyPair,
  importRequestPrivateKey,
  openShareForRequest,
} from './envelopes.js';
export {
  verifyApprovalStatement,
  APPROVAL_STATEMENT_TYP,
  STATEMENT_MAX_SKEW_SECONDS,
  type ApprovalClaims,
} from './approval-statement.js';
export type { JWK } from 'jose';
