export { AuditError, type AuditErrorCode } from './audit-error.js';
export { type AuditEntry, type AuditEntryInput, chainEntry, computeEntryHash, entryHashTemplate, GENESIS_HASH } from './audit-entry.js';
export { type Checkpoint, CHECKPOINT_TYP, checkpointLink, claimedCheckpointSeq, type SignedCheckpoint, signCheckpoint, verifyCheckpoint } from './checkpoint.js';
export {
  type AuditLogState,
  type AuditLogVerification,
  type ChainPoint,
  type CheckpointBasis,
  type CheckpointDecision,
  type CheckpointFailure,
  type CheckpointsVerification,
  extendsTrusted,
  verifyAuditLog,
  verifyBeforeCheckpoint,
  verifyCheckpoints,
} from './checkpoint-chain.js';
export { type ChainVerification, verifyChain } from './verify-chain.js';
