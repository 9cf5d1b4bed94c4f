export { AuditError, type AuditErrorCode } from './audit-error.js';
export { type AuditEntry, type AuditEntryInput, chainEntry, computeEntryHash, entryHashTemplate, GENESIS_HASH } from './audit-entry.js';
export {
  type Checkpoint,
  CHECKPOINT_TYP,
  checkCheckpointsAgainstChain,
  signCheckpoint,
  verifyCheckpoint,
} from './checkpoint.js';
export { type ChainVerification, verifyChain } from './verify-chain.js';
