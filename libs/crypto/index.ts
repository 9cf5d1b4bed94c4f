export { CryptoError, type CryptoErrorCode } from './errors.js';
export { canonicalJson, toB64u, fromB64u, sha256Hex, randomToken, hmacSha256Hex } from './encoding.js';
export { zeroize } from './zeroize.js';
export { computeRequestDigest, type RequestDigestInput } from './request-digest.js';
export { configDigest, generateDataKey, sealSecret, openSealedSecret } from './sealed-secret.js';
export { sealWithMasterKey, openWithMasterKey } from './master-key.js';
export { deriveMacKey, macHex, verifyMac } from './integrity-mac.js';
export { splitDataKey, shareIndex, combineShares } from './shamir.js';
export { splitGroupedDataKey, combineGroupedShares, MAX_SHARING_GROUPS, MAX_GROUP_CUSTODIANS, type GroupShape, type GroupShare } from './grouped-sharing.js';
export { computeShareCommitment, verifyShareCommitment } from './share-commitment.js';
export { parsePublicJwk } from './public-jwk.js';
export {
  sealToPublicKey,
  sealShareToCustodian,
  generateRequestKeyPair,
  requestPublicJwk,
  importRequestPrivateKey,
  openShareForRequest,
  openIntakeEnvelope,
  checkShareForRequestHeader,
} from './envelopes.js';
export { verifyApprovalStatement, type ApprovalClaims } from './approval-statement.js';
export type { JWK } from 'jose';
export { verifyCheckInStatement, type CheckInClaims } from './check-in-statement.js';
