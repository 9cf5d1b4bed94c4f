import type { EntityManager } from 'typeorm';
import type { CredentialKind, CredentialVersionEntry, CustodyOperationKind, VersionStructure } from '#libs/contracts';
import { computeShareCommitment, configDigest, generateDataKey, sealSecret, sealShareToCustodian, splitGroupedDataKey, zeroize, type GroupShare, type JWK } from '#libs/crypto';
import type { AuditWriter } from '../audit/audit-writer.js';
import type { GatewayContext } from '../gateway-context.js';
import type { RequestLifecycle, TransitionSubject } from '../requests/request-lifecycle.js';
import { destroyIntakeKeys } from './intake-keys.js';
import { insertShare, listShares, sharingGroupsOf, type CredentialRow, type SharingGroupRow, type ShareRow } from './credentials.repository.js';
import { sealedToKid, shareAssignmentMac } from './share-assignments.js';

/** One group of a version to seal: each custodian with the key their share goes to and that key's thumbprint. */
export interface VersionGroup {
  name: string;
  threshold: number;
  custodians: { userId: string; encryptionKey: JWK; kid: string }[];
}

/** A new credential version, sealed and split, not yet stored. Holds no plaintext. */
export interface SealedVersion {
  version: number;
  sealedSecret: string;
  config: Record<string, unknown>;
  publicInfo: Record<string, unknown>;
  sharingGroups: SharingGroupRow[];
  threshold: number;
  shares: ShareRow[];
}

/**
 * Seals `secret` under a fresh data key as `version` (header `cred`, `ver`, `kind`,
 * `cfg`), splits the data key by `groups` (spec §3a) and seals each share to its
 * custodian's key. Enforces: each envelope is sealed to exactly the key named by `kid`
 * (else throws, sealing nothing that is kept). The data key and every share are zeroed.
 */
export async function sealVersion(
  ctx: Pick<GatewayContext, 'masterKey' | 'now'>,
  input: { credentialId: string; version: number; kind: CredentialKind; config: Record<string, unknown>; publicInfo: Record<string, unknown>; secret: Buffer; groups: VersionGroup[] },
): Promise<SealedVersion> {
  const dataKey = generateDataKey();
  let split: GroupShare[] = [];
  try {
    const { credentialId: cred, version: ver } = input;
    const grouped = input.groups.length > 1;
    const sealedSecret = await sealSecret(input.secret, dataKey, { cred, ver, kind: input.kind, config: input.config });
    split = splitGroupedDataKey(dataKey, input.groups.map((g) => ({ shares: g.custodians.length, threshold: g.threshold })));
    const now = ctx.now();
    const shares: ShareRow[] = [];
    for (const { grp, idx, share } of split) {
      const custodian = input.groups[grp]?.custodians[idx - 1];
      if (custodian === undefined) throw new Error('split returned a share for nobody');
      const group = grouped ? grp : undefined;
      const envelope = await sealShareToCustodian(share, custodian.encryptionKey, { cred, ver, idx, grp: group });
      const kid = sealedToKid(envelope);
      if (kid !== custodian.kid) throw new Error('a share envelope is not sealed to the key its custodian was named with');
      const commitment = computeShareCommitment({ cred, ver, idx, grp: group, share });
      const assignmentMac = shareAssignmentMac(ctx.masterKey, { cred, ver, userId: custodian.userId, idx, ...(group !== undefined ? { grp: group } : {}), kid, commitment });
      shares.push({ credentialId: cred, version: ver, index: idx, custodianId: custodian.userId, envelope, commitment, group: group ?? null, assignmentMac, sealedAt: now });
    }
    const sharingGroups = input.groups.map((g) => ({ name: g.name, threshold: g.threshold }));
    return {
      version: ver,
      sealedSecret,
      config: input.config,
      publicInfo: input.publicInfo,
      sharingGroups,
      threshold: sharingGroups.reduce((sum, g) => sum + g.threshold, 0),
      shares,
    };
  } finally {
    zeroize(dataKey, ...split.map((s) => s.share));
  }
}

/** A version's structure as the history and the audit show it: groups, thresholds, custodians and the key each share is sealed to. */
export function structureOf(groups: readonly SharingGroupRow[], shares: readonly ShareRow[]): VersionStructure {
  return {
    groups: groups.map((g, grp) => ({
      name: g.name,
      threshold: g.threshold,
      custodians: shares.filter((s) => (s.group ?? 0) === grp).map((s) => ({ userId: s.custodianId, kid: sealedToKid(s.envelope) ?? null })),
    })),
  };
}

/** What the custody policy of a credential is made with (spec §4a). */
export function custodyPolicyOf(credential: { id: string; threshold: number }) {
  return {
    name: `custody-${credential.id}`,
    operations: [{ kind: 'credential.reshare' }, { kind: 'credential.rotate' }],
    approvals: { min: credential.threshold, allowRequesterApproval: false },
    requesters: { roles: ['security_lead'] },
    requestTtlSeconds: 86400,
  };
}

/** Inserts the custody policy of a new credential, in the creating transaction, audited as `policy.created`. */
export async function insertCustodyPolicy(tx: EntityManager, audit: AuditWriter, actor: string, credential: { id: string; threshold: number }): Promise<string> {
  const p = custodyPolicyOf(credential);
  const rows: { id: string }[] = await tx.query(
    `INSERT INTO policies (name, credential_id, operations, approvals, requesters, request_ttl_seconds, custody) VALUES ($1, $2, $3, $4, $5, $6, true) RETURNING id`,
    [p.name, credential.id, JSON.stringify(p.operations), p.approvals, p.requesters, p.requestTtlSeconds],
  );
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('custody policy not inserted');
  await audit.append(tx, { actor, action: 'policy.created', subject: `policy:${id}`, data: { ...p, credentialId: credential.id, custody: true } });
  return id;
}

export async function custodyPolicyIdOf(db: Pick<EntityManager, 'query'>, credentialId: string): Promise<string | null> {
  const rows: { id: string }[] = await db.query(`SELECT id FROM policies WHERE credential_id = $1 AND custody`, [credentialId]);
  return rows[0]?.id ?? null;
}

/** The custody request whose version this is: who asked, which request, what changed. */
export interface VersionChange {
  requestId: string;
  requesterId: string;
  kind: CustodyOperationKind;
  fromVersion: number;
  secretChanged: boolean;
}

/** Why a custody execution made no version: another one made it first (spec §4a). */
export const VERSION_CHANGED_RESULT = {
  error: 'nothing changed: another custody request made a new version of this credential first',
  code: 'CREDENTIAL_VERSION_CHANGED',
  reason: 'credential_version_changed',
} as const;

/**
 * Makes `sealed` the credential's current version, in the transaction that ends the
 * custody request (spec §4a, §2 item 14). Enforces, under the credential's row lock:
 * - compare-and-set on the version the request bound: another version made first
 *   → VERSION_CHANGED_RESULT and nothing written;
 * - the old version's sealed secret (overwritten) and share envelopes (deleted) go;
 * - every pending or approved request of an older version ends `cancelled`, reason
 *   `credential_version_changed`;
 * - the custody policy's min becomes the new Σtⱼ (kept higher if tightened, never above n);
 *   other policies below Σtⱼ are raised to it, and those above the new n disabled
 *   (`policy_outdated`);
 * - the intake keys the request claimed are destroyed;
 * - all of it audited. Returns the request's result.
 */
export async function commitVersion(
  tx: EntityManager,
  deps: { audit: AuditWriter; lifecycle: RequestLifecycle; now: Date },
  credentialId: string,
  change: VersionChange,
  sealed: SealedVersion,
): Promise<Record<string, unknown>> {
  await destroyIntakeKeys(tx, change.requestId, deps.now);
  const locked: Pick<CredentialRow, 'version' | 'threshold' | 'sharingGroups' | 'config'>[] = await tx.query(
    `SELECT version, threshold, sharing_groups AS "sharingGroups", config FROM credentials WHERE id = $1 FOR UPDATE`,
    [credentialId],
  );
  const current = locked[0];
  if (current?.version !== change.fromVersion || sealed.version !== change.fromVersion + 1) return { ...VERSION_CHANGED_RESULT };
  const oldShares = await listShares(tx, credentialId, current.version);
  const previousStructure = structureOf(sharingGroupsOf(current), oldShares);
  await tx.query(
    `UPDATE credentials SET version = $2, sealed_secret = $3, config = $4, public_info = $5, threshold = $6, share_count = $7, sharing_groups = $8
      WHERE id = $1 AND version = $9`,
    [credentialId, sealed.version, sealed.sealedSecret, sealed.config, sealed.publicInfo, sealed.threshold, sealed.shares.length, JSON.stringify(sealed.sharingGroups), change.fromVersion],
  );
  await tx.query(`DELETE FROM credential_shares WHERE credential_id = $1 AND version <> $2`, [credentialId, sealed.version]);
  await tx.query(`DELETE FROM check_in_challenges WHERE credential_id = $1 AND version <> $2`, [credentialId, sealed.version]);
  for (const share of sealed.shares) await insertShare(tx, share);

  const stale: TransitionSubject[] = await tx.query(
    `SELECT id, credential_id AS "credentialId", requester_id AS "requesterId", status FROM requests
      WHERE credential_id = $1 AND credential_version < $2 AND status IN ('pending', 'approved') ORDER BY id FOR UPDATE`,
    [credentialId, sealed.version],
  );
  for (const request of stale) {
    await deps.lifecycle.transition(tx, request, 'cancelled', { actor: 'system', data: { reason: 'credential_version_changed', version: sealed.version } });
  }

  const n = sealed.shares.length;
  const policies: { id: string; custody: boolean; min: number; disabledReason: string | null }[] = await tx.query(
    `SELECT id, custody, (approvals->>'min')::integer AS min, disabled_reason AS "disabledReason" FROM policies WHERE credential_id = $1 AND deleted_at IS NULL ORDER BY id FOR UPDATE`,
    [credentialId],
  );
  for (const policy of policies) {
    const min = policy.custody ? Math.max(sealed.threshold, Math.min(policy.min, n)) : policy.min;
    if (!policy.custody && policy.min > n) {
      if (policy.disabledReason === null) {
        await tx.query(`UPDATE policies SET disabled_reason = 'policy_outdated' WHERE id = $1`, [policy.id]);
        await deps.audit.append(tx, { actor: 'system', action: 'policy.disabled', subject: `policy:${policy.id}`, data: { reason: 'policy_outdated', min: policy.min, custodians: n, version: sealed.version } });
      }
      continue;
    }
    const raised = Math.max(min, sealed.threshold);
    if (raised !== policy.min) {
      await tx.query(`UPDATE policies SET approvals = jsonb_set(approvals, '{min}', to_jsonb($2::integer)) WHERE id = $1`, [policy.id, raised]);
      await deps.audit.append(tx, { actor: 'system', action: 'policy.updated', subject: `policy:${policy.id}`, data: { approvals: { min: { from: policy.min, to: raised } }, reason: 'credential_version', version: sealed.version } });
    }
  }

  const publicJwk = change.kind === 'credential.rotate' ? sealed.publicInfo['publicJwk'] : undefined;
  await deps.audit.append(tx, {
    actor: change.requesterId,
    action: 'credential.version_created',
    subject: `credential:${credentialId}`,
    data: {
      version: sealed.version,
      fromVersion: change.fromVersion,
      requestId: change.requestId,
      change: change.kind,
      structure: structureOf(sealed.sharingGroups, sealed.shares),
      previousStructure,
      threshold: sealed.threshold,
      configSha256: configDigest(sealed.config),
      configChanged: configDigest(sealed.config) !== configDigest(current.config),
      secretChanged: change.secretChanged,
      requestsCancelled: stale.map((r) => r.id),
      oldSharesDeleted: oldShares.length,
      ...(publicJwk !== undefined ? { publicJwk } : {}),
    },
  });
  return { version: sealed.version, ...(publicJwk !== undefined && change.secretChanged ? { publicJwk } : {}) };
}

/** The version history of a credential, from its audit entries (ADR 0017), oldest first. */
export async function versionHistory(db: Pick<EntityManager, 'query'>, credentialId: string): Promise<CredentialVersionEntry[]> {
  const rows: { at: string; actor: string; action: string; data: Record<string, unknown> }[] = await db.query(
    `SELECT at, actor, action, data FROM audit_log WHERE subject = $1 AND action IN ('credential.created', 'credential.version_created') ORDER BY seq`,
    [`credential:${credentialId}`],
  );
  return rows.map((row): CredentialVersionEntry => {
    const d = row.data;
    if (row.action === 'credential.created') {
      const custodians = Array.isArray(d['custodians']) ? (d['custodians'] as { userId: string; grp?: number }[]) : [];
      const groups = Array.isArray(d['groups']) ? (d['groups'] as SharingGroupRow[]) : [{ name: 'custodians', threshold: Number(d['threshold']) }];
      return {
        version: Number(d['version'] ?? 1),
        at: row.at,
        actor: row.actor,
        requestId: null,
        change: 'credential.created',
        structure: { groups: groups.map((g, grp) => ({ name: g.name, threshold: g.threshold, custodians: custodians.filter((c) => (c.grp ?? 0) === grp).map((c) => ({ userId: c.userId, kid: null })) })) },
        configSha256: typeof d['configSha256'] === 'string' ? d['configSha256'] : '',
        configChanged: false,
        secretChanged: false,
      };
    }
    return {
      version: Number(d['version']),
      at: row.at,
      actor: row.actor,
      requestId: typeof d['requestId'] === 'string' ? d['requestId'] : null,
      change: d['change'] === 'credential.rotate' ? 'credential.rotate' : 'credential.reshare',
      structure: d['structure'] as VersionStructure,
      configSha256: String(d['configSha256']),
      configChanged: d['configChanged'] === true,
      secretChanged: d['secretChanged'] === true,
    };
  });
}
