import type { EntityManager } from 'typeorm';
import type { PolicyDefinition } from '#libs/policy';
import { isUuid } from '../users/accounts.repository.js';

type Db = Pick<EntityManager, 'query'>;

export const POLICY_COLUMNS = `id, name, credential_id AS "credentialId", operations, approvals, requesters, request_ttl_seconds AS "requestTtlSeconds",
  operation_timeout_seconds AS "operationTimeoutSeconds"`;

export async function findPolicy(db: Db, id: string): Promise<PolicyDefinition | undefined> {
  if (!isUuid(id)) return undefined;
  const rows: PolicyRow[] = await db.query(`SELECT ${POLICY_COLUMNS} FROM policies WHERE id = $1 AND deleted_at IS NULL`, [id]);
  return rows[0] === undefined ? undefined : policyFromRow(rows[0]);
}

export async function policiesOfCredential(db: Db, credentialId: string): Promise<PolicyDefinition[]> {
  const rows: PolicyRow[] = await db.query(`SELECT ${POLICY_COLUMNS} FROM policies WHERE credential_id = $1 AND deleted_at IS NULL ORDER BY name`, [credentialId]);
  return rows.map(policyFromRow);
}

export interface PolicyRow extends Omit<PolicyDefinition, 'requesters' | 'operationTimeoutSeconds'> {
  requesters: PolicyDefinition['requesters'] | null;
  operationTimeoutSeconds: number | null;
}

export function policyFromRow(row: PolicyRow): PolicyDefinition {
  const { requesters, operationTimeoutSeconds, ...rest } = row;
  return { ...rest, ...(requesters !== null ? { requesters } : {}), ...(operationTimeoutSeconds !== null ? { operationTimeoutSeconds } : {}) };
}
