import type { EntityManager } from 'typeorm';
import { isUuid } from '../users/accounts.repository.js';
import type { CredentialKind } from './credentials.dto.js';

type Db = Pick<EntityManager, 'query'>;

export interface CredentialRow {
  id: string;
  name: string;
  kind: CredentialKind;
  config: Record<string, unknown>;
  publicInfo: Record<string, unknown>;
  version: number;
  threshold: number;
  shareCount: number;
  sealedSecret: string;
  /** a custodian who has not checked in for this many days is not live (spec §4a) */
  checkInDays: number;
  /** the groups' names and thresholds in `grp` order (spec §3a); null on credentials made before groups: one group `custodians` */
  sharingGroups: SharingGroupRow[] | null;
  createdAt: Date;
  /** the policy governing its custody operations (spec §4a); read, never inserted from here */
  custodyPolicyId?: string | null;
}

export interface SharingGroupRow {
  name: string;
  threshold: number;
}

export interface ShareRow {
  credentialId: string;
  version: number;
  index: number;
  custodianId: string;
  envelope: string;
  commitment: string;
  /** the 0-based group of a grouped credential (spec §3a); null for one group */
  group: number | null;
  /** MAC over the assignment (share-assignments.ts); null on rows made before assignments carried one. */
  assignmentMac: string | null;
  /** when the share was sealed: the check-in window runs from here until its custodian checks in */
  sealedAt: Date;
}

const CREDENTIAL_COLUMNS = `id, name, kind, config, public_info AS "publicInfo", version, threshold, share_count AS "shareCount",
  sealed_secret AS "sealedSecret", check_in_days AS "checkInDays", sharing_groups AS "sharingGroups", created_at AS "createdAt",
  (SELECT p.id FROM policies p WHERE p.credential_id = credentials.id AND p.custody) AS "custodyPolicyId"`;
const SHARE_COLUMNS = `credential_id AS "credentialId", version, share_index AS "index", custodian_id AS "custodianId", envelope, commitment,
  share_group AS "group", assignment_mac AS "assignmentMac", sealed_at AS "sealedAt"`;

export async function findCredential(db: Db, idOrName: string): Promise<CredentialRow | undefined> {
  const rows: CredentialRow[] = isUuid(idOrName)
    ? await db.query(`SELECT ${CREDENTIAL_COLUMNS} FROM credentials WHERE id = $1`, [idOrName])
    : await db.query(`SELECT ${CREDENTIAL_COLUMNS} FROM credentials WHERE name = $1`, [idOrName]);
  return rows[0];
}

export async function listCredentials(db: Db): Promise<CredentialRow[]> {
  return db.query(`SELECT ${CREDENTIAL_COLUMNS} FROM credentials ORDER BY name`);
}

export async function insertCredential(db: Db, c: CredentialRow & { createdBy: string }): Promise<boolean> {
  const rows: unknown[] = await db.query(
    `INSERT INTO credentials (id, name, kind, config, public_info, version, threshold, share_count, sealed_secret, check_in_days, created_by, created_at, sharing_groups)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (name) DO NOTHING RETURNING id`,
    [c.id, c.name, c.kind, c.config, c.publicInfo, c.version, c.threshold, c.shareCount, c.sealedSecret, c.checkInDays, c.createdBy, c.createdAt, c.sharingGroups === null ? null : JSON.stringify(c.sharingGroups)],
  );
  return rows.length === 1;
}

export async function insertShare(db: Db, s: ShareRow): Promise<void> {
  await db.query(
    `INSERT INTO credential_shares (credential_id, version, share_index, custodian_id, envelope, commitment, assignment_mac, sealed_at, share_group) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [s.credentialId, s.version, s.index, s.custodianId, s.envelope, s.commitment, s.assignmentMac, s.sealedAt, s.group],
  );
}

/** The custodians of the credential's current version. */
export async function custodianIdsOf(db: Db, credentialId: string): Promise<string[]> {
  const rows: { custodianId: string }[] = await db.query(
    `SELECT s.custodian_id AS "custodianId" FROM credential_shares s JOIN credentials c ON c.id = s.credential_id AND c.version = s.version WHERE c.id = $1`,
    [credentialId],
  );
  return rows.map((r) => r.custodianId);
}

export async function listShares(db: Db, credentialId: string, version: number): Promise<ShareRow[]> {
  return db.query(`SELECT ${SHARE_COLUMNS} FROM credential_shares WHERE credential_id = $1 AND version = $2 ORDER BY share_group NULLS FIRST, share_index`, [credentialId, version]);
}

/**
 * The sharing structure as stored: each group's name and threshold, in `grp` order. A
 * credential made before groups is one group named `custodians` (spec §3a).
 */
export function sharingGroupsOf(credential: Pick<CredentialRow, 'sharingGroups' | 'threshold'>): SharingGroupRow[] {
  return credential.sharingGroups ?? [{ name: 'custodians', threshold: credential.threshold }];
}
