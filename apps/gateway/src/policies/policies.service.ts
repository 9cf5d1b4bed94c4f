import { Inject, Injectable } from '@nestjs/common';
import { isCustodyOperationKind, isOperationKind, OPERATION_KINDS } from '#libs/contracts';
import { executorFor } from '#libs/executors';
import { canSeePolicy, PolicyError, validatePolicyDefinition, type OperationRule, type PolicyDefinition } from '#libs/policy';
import { AuditWriter } from '../audit/audit-writer.js';
import type { Principal } from '../auth/principal.js';
import { custodianIdsOf, findCredential, listShares } from '../credentials/credentials.repository.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { fromPolicyError } from '../http/library-errors.js';
import { findUsersByIds, isUuid } from '../users/accounts.repository.js';
import { actorId } from '../users/users.service.js';
import type { CreatePolicyDto } from './policies.dto.js';
import { findPolicy, POLICY_COLUMNS, policyFromRow, type PolicyRow } from './policies.repository.js';

export const DEFAULT_REQUEST_TTL_SECONDS = 3600;

@Injectable()
export class PoliciesService {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
  ) {}

  async create(actor: Principal, input: CreatePolicyDto): Promise<PolicyDefinition> {
    const credential = await findCredential(this.ctx.dataSource, input.credentialId);
    if (credential === undefined) throw new AppError('POLICY_INVALID', `credentialId ${input.credentialId} names no credential`);
    const shares = await listShares(this.ctx.dataSource, credential.id, credential.version);
    const custodians = await findUsersByIds(this.ctx.dataSource, shares.map((s) => s.custodianId));
    const operations: OperationRule[] = [];
    for (const op of input.operations) {
      const kind = op.kind;
      if (isCustodyOperationKind(kind)) throw new AppError('POLICY_INVALID', `operation kind "${kind}" is governed by the credential's custody policy only`);
      if (!isOperationKind(kind)) throw new AppError('POLICY_INVALID', `operation kind "${kind}" is not one of ${OPERATION_KINDS.join(', ')}`);
      operations.push({ kind, ...(op.constraints !== undefined ? { constraints: op.constraints } : {}) });
      if (op.kind !== 'reveal' && !executorFor(op.kind).credentialKinds.includes(credential.kind)) {
        throw new AppError('POLICY_INVALID', `operation kind "${op.kind}" cannot use a ${credential.kind} credential`);
      }
    }
    const definition: Omit<PolicyDefinition, 'id'> = {
      name: input.name,
      credentialId: credential.id,
      operations,
      approvals: {
        min: input.approvals.min,
        ...(input.approvals.groups !== undefined ? { groups: input.approvals.groups.map((g) => ({ group: g.group, min: g.min })) } : {}),
        allowRequesterApproval: input.approvals.allowRequesterApproval ?? false,
      },
      ...(input.requesters !== undefined ? { requesters: { ...input.requesters } } : {}),
      requestTtlSeconds: input.requestTtlSeconds ?? DEFAULT_REQUEST_TTL_SECONDS,
      ...(input.operationTimeoutSeconds !== undefined ? { operationTimeoutSeconds: input.operationTimeoutSeconds } : {}),
    };
    const custodianGroups: Record<string, string[]> = {};
    for (const user of custodians) for (const group of user.groups) (custodianGroups[group] ??= []).push(user.id);
    try {
      validatePolicyDefinition({ id: 'new', ...definition }, { threshold: credential.threshold, custodianIds: shares.map((s) => s.custodianId), custodianGroups });
    } catch (error) {
      if (error instanceof PolicyError) throw fromPolicyError(error);
      throw error;
    }
    return this.audit.transaction(async (tx) => {
      const rows: { id: string }[] = await tx.query(
        `INSERT INTO policies (name, credential_id, operations, approvals, requesters, request_ttl_seconds, operation_timeout_seconds, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (name) WHERE deleted_at IS NULL DO NOTHING RETURNING id`,
        [definition.name, definition.credentialId, JSON.stringify(definition.operations), definition.approvals, definition.requesters ?? null, definition.requestTtlSeconds, definition.operationTimeoutSeconds ?? null, actor.kind === 'user' ? actor.id : null],
      );
      const id = rows[0]?.id;
      if (id === undefined) throw new AppError('NAME_TAKEN', `a policy named "${definition.name}" already exists`);
      await this.audit.append(tx, { actor: actorId(actor), action: 'policy.created', subject: `policy:${id}`, data: { ...definition } });
      return { id, ...definition };
    });
  }

  /**
   * Sets a policy's `approvals.min` (security leads). Enforces: the policy exists; Σtⱼ
   * of the credential's current version ≤ min ≤ its number of custodians (400
   * POLICY_INVALID otherwise, nothing changed). An outdated policy so edited is enabled
   * again. Requests already submitted keep the snapshot they were signed with.
   */
  async updateMin(actor: Principal, id: string, min: number): Promise<PolicyDefinition> {
    return this.audit.transaction(async (tx) => {
      const policy = await findPolicy(tx, id);
      if (policy === undefined) throw new AppError('NOT_FOUND', 'no such policy');
      const rows: { threshold: number; shareCount: number }[] = await tx.query(`SELECT threshold, share_count AS "shareCount" FROM credentials WHERE id = $1 FOR UPDATE`, [policy.credentialId]);
      const credential = rows[0];
      if (credential === undefined) throw new AppError('NOT_FOUND', 'no such policy');
      if (min < credential.threshold || min > credential.shareCount) {
        throw new AppError('POLICY_INVALID', `approvals.min must be between the credential's threshold ${credential.threshold} and its ${credential.shareCount} custodians`);
      }
      await tx.query(`UPDATE policies SET approvals = jsonb_set(approvals, '{min}', to_jsonb($2::integer)), disabled_reason = NULL WHERE id = $1`, [id, min]);
      await this.audit.append(tx, { actor: actorId(actor), action: 'policy.updated', subject: `policy:${id}`, data: { approvals: { min: { from: policy.approvals.min, to: min } } } });
      return { ...policy, approvals: { ...policy.approvals, min } };
    });
  }

  /** Per policy id: whether it is its credential's custody policy, and why it is disabled (`policy_outdated`) if it is (spec §4a). */
  async states(ids: string[]): Promise<Map<string, { custody: boolean; disabledReason: string | null }>> {
    const rows: { id: string; custody: boolean; disabledReason: string | null }[] =
      ids.length === 0 ? [] : await this.ctx.dataSource.query(`SELECT id, custody, disabled_reason AS "disabledReason" FROM policies WHERE id = ANY($1::uuid[])`, [ids]);
    return new Map(rows.map((r) => [r.id, { custody: r.custody, disabledReason: r.disabledReason }]));
  }

  /** The policies `viewer` may see (`canSeePolicy`). */
  async list(viewer: Principal): Promise<PolicyDefinition[]> {
    const rows: PolicyRow[] = await this.ctx.dataSource.query(`SELECT ${POLICY_COLUMNS} FROM policies WHERE deleted_at IS NULL ORDER BY name`);
    const policies = rows.map(policyFromRow);
    const visible = await Promise.all(policies.map((policy) => this.visible(viewer, policy)));
    return policies.filter((_, i) => visible[i]);
  }

  /** The policy if `viewer` may see it; 404 alike whether it is missing or hidden. */
  async get(viewer: Principal, id: string): Promise<PolicyDefinition> {
    const policy = await findPolicy(this.ctx.dataSource, id);
    if (policy === undefined || !(await this.visible(viewer, policy))) throw new AppError('NOT_FOUND', 'no such policy');
    return policy;
  }

  /**
   * Deletes a policy (security lead). Enforces: the policy exists and is not deleted
   * (404); it is not a credential's custody policy and no pending, approved or
   * executing request uses it (409 IN_USE, nothing
   * changed). The row is kept, marked deleted, because past requests and the audit
   * log name it; the row lock makes a concurrent delete wait and then find it gone.
   */
  async delete(actor: Principal, id: string): Promise<void> {
    if (!isUuid(id)) throw new AppError('NOT_FOUND', 'no such policy');
    await this.audit.transaction(async (tx) => {
      const rows: { name: string; credentialId: string; custody: boolean }[] = await tx.query(
        'SELECT name, credential_id AS "credentialId", custody FROM policies WHERE id = $1 AND deleted_at IS NULL FOR UPDATE',
        [id],
      );
      const policy = rows[0];
      if (policy === undefined) throw new AppError('NOT_FOUND', 'no such policy');
      // Without its custody policy a credential could never be re-shared or rotated again (spec §4a).
      if (policy.custody) throw new AppError('IN_USE', `policy "${policy.name}" is its credential's custody policy: it can be tightened, never deleted`, { activeRequests: 0 });
      const active: { count: string }[] = await tx.query(
        `SELECT count(*)::text AS count FROM requests WHERE policy_id = $1 AND status IN ('pending', 'approved', 'executing')`,
        [id],
      );
      const count = Number(active[0]?.count ?? 0);
      if (count > 0) {
        throw new AppError('IN_USE', `policy "${policy.name}" is used by ${count} pending, approved or executing request${count === 1 ? '' : 's'}: delete it once they have ended`, { activeRequests: count });
      }
      await tx.query('UPDATE policies SET deleted_at = now() WHERE id = $1', [id]);
      await this.audit.append(tx, { actor: actorId(actor), action: 'policy.deleted', subject: `policy:${id}`, data: { name: policy.name, credentialId: policy.credentialId } });
    });
  }

  private async visible(viewer: Principal, policy: PolicyDefinition): Promise<boolean> {
    return canSeePolicy(viewer, policy, await custodianIdsOf(this.ctx.dataSource, policy.credentialId));
  }
}
