import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  computeShareCommitment,
  configDigest,
  generateDataKey,
  MAX_GROUP_CUSTODIANS,
  MAX_SHARING_GROUPS,
  sealSecret,
  sealShareToCustodian,
  splitGroupedDataKey,
  zeroize,
  type GroupShare,
} from '#libs/crypto';
import { canSeeCredential } from '#libs/policy';
import { ExecutorError, generateSigningKey, validateCredentialSecret, validateCredentialConfig, type GeneratedSigningAlg } from '#libs/executors';
import { AuditWriter } from '../audit/audit-writer.js';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { findUsersByIds } from '../users/accounts.repository.js';
import { checkedEnrolledKeys, EnrolledKeysIntegrityError } from '../users/enrolled-keys.js';
import { policiesOfCredential } from '../policies/policies.repository.js';
import { actorId } from '../users/users.service.js';
import type { CredentialKind } from './credentials.dto.js';
import { findCredential, insertCredential, insertShare, listCredentials, listShares, type CredentialRow, type ShareRow } from './credentials.repository.js';
import { sealedToKid, shareAssignmentMac } from './share-assignments.js';
import { insertCustodyPolicy } from './credential-versions.js';

/** One sharing group (spec §3a): any `threshold` of its `custodians` (user ids). */
export interface NewSharingGroup {
  name: string;
  threshold: number;
  custodians: string[];
}

export interface NewCredential {
  name: string;
  kind: CredentialKind;
  config: Record<string, unknown>;
  /** the secret as given; or, for a signing key born split, the algorithm of the key pair the gateway generates */
  secret: Buffer | { generate: GeneratedSigningAlg };
  /** the flat form `{custodians, threshold}` is one group named `custodians` */
  groups: NewSharingGroup[];
  checkInDays: number;
}

/** The flat form's single group (spec §3a). */
export const FLAT_GROUP_NAME = 'custodians';

/**
 * Refuses a sharing structure before anything is sealed (400 CREDENTIAL_INVALID each).
 * Enforces: 1..16 groups; names non-empty, at most 64 characters and unique; each group
 * 1..32 custodians (one group: up to 255, as the flat form always allowed) with
 * 1 ≤ tⱼ ≤ nⱼ; a user in at most one group, once.
 */
export function checkSharingStructure(groups: readonly NewSharingGroup[]): void {
  const invalid = (message: string): never => {
    throw new AppError('CREDENTIAL_INVALID', message);
  };
  if (groups.length < 1 || groups.length > MAX_SHARING_GROUPS) invalid(`sharing must have 1..${MAX_SHARING_GROUPS} groups, got ${groups.length}`);
  const names = new Set<string>();
  const members = new Map<string, string>();
  for (const group of groups) {
    if (group.name.trim() === '' || group.name.length > 64) invalid('a group name must be 1..64 characters');
    if (names.has(group.name)) invalid(`two groups are named "${group.name}"`);
    names.add(group.name);
    const most = groups.length === 1 ? 255 : MAX_GROUP_CUSTODIANS;
    if (group.custodians.length < 1 || group.custodians.length > most) invalid(`group "${group.name}" must have 1..${most} custodians, got ${group.custodians.length}`);
    if (!Number.isInteger(group.threshold) || group.threshold < 1 || group.threshold > group.custodians.length) {
      invalid(`group "${group.name}": threshold ${group.threshold} must be between 1 and its ${group.custodians.length} custodians`);
    }
    for (const userId of group.custodians) {
      const other = members.get(userId);
      if (other !== undefined) invalid(other === group.name ? `user ${userId} is listed twice in group "${group.name}"` : `user ${userId} is in groups "${other}" and "${group.name}": a user is in at most one group`);
      members.set(userId, group.name);
    }
  }
}

@Injectable()
export class CredentialsService {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
  ) {}

  /**
   * Seals the secret under a fresh data key, splits the data key by the sharing
   * structure (one group: k-of-n as always; m ≥ 2 groups: spec §3a), seals each share
   * to its custodian's encryption key, and forgets the secret, the data key and every
   * share: from here on only a quorum of every group can bring them back. With
   * `generate`, the secret is a signing key pair made here and never shown to anyone
   * ("born split", spec §4): only its public half leaves, in `publicInfo`.
   */
  async create(actor: Principal, input: NewCredential): Promise<{ credential: CredentialRow; shares: ShareRow[] }> {
    const dataKey = generateDataKey();
    let shares: GroupShare[] = [];
    let secret: Buffer | undefined = Buffer.isBuffer(input.secret) ? input.secret : undefined;
    try {
      checkSharingStructure(input.groups);
      const grouped = input.groups.length > 1;
      const custodianIds = input.groups.flatMap((g) => g.custodians);
      const custodians = await this.loadCustodians(custodianIds);
      const keyOf = new Map(custodians.map((c) => [c.id, c.encryptionKey]));
      const generated = !Buffer.isBuffer(input.secret);
      if (!Buffer.isBuffer(input.secret)) {
        if (input.kind !== 'signing-key') throw new AppError('CREDENTIAL_INVALID', 'generate is only for signing-key credentials');
        secret = await generateSigningKey(input.secret.generate).catch(rethrowAsInvalid);
      }
      if (secret === undefined) throw new TypeError('no secret');
      const config = this.checkSecretAndConfig(input.kind, input.config, secret);
      const publicInfo: Record<string, unknown> = {
        ...(await validateCredentialSecret(input.kind, secret, config).catch(rethrowAsInvalid)).publicInfo,
        ...(generated ? { generated: true } : {}),
      };
      const id = randomUUID();
      const version = 1;
      const now = this.ctx.now();
      // Bound to its kind and config (spec §2 item 12): a config changed in the database no longer opens it.
      const sealedSecret = await sealSecret(secret, dataKey, { cred: id, ver: version, kind: input.kind, config });
      shares = splitGroupedDataKey(
        dataKey,
        input.groups.map((g) => ({ shares: g.custodians.length, threshold: g.threshold })),
      );
      const shareRows: ShareRow[] = [];
      for (const { grp, idx: index, share } of shares) {
        const userId = input.groups[grp]?.custodians[index - 1];
        const encryptionKey = userId === undefined ? undefined : keyOf.get(userId);
        if (userId === undefined || encryptionKey === undefined) throw new Error('split returned a share for nobody');
        // One group keeps the formats of §3 unchanged; grouped shares carry their group everywhere (§3a).
        const group = grouped ? grp : undefined;
        const envelope = await sealShareToCustodian(share, encryptionKey, { cred: id, ver: version, idx: index, grp: group });
        const commitment = computeShareCommitment({ cred: id, ver: version, idx: index, grp: group, share });
        const kid = sealedToKid(envelope);
        if (kid === undefined) throw new Error('a sealed share envelope names no key');
        // Who holds which share, to which key, with which commitment: used only while this MAC checks (spec §2 item 11).
        const assignmentMac = shareAssignmentMac(this.ctx.masterKey, { cred: id, ver: version, userId, idx: index, ...(group !== undefined ? { grp: group } : {}), kid, commitment });
        shareRows.push({ credentialId: id, version, index, custodianId: userId, envelope, commitment, group: group ?? null, assignmentMac, sealedAt: now });
      }
      const sharingGroups = input.groups.map((g) => ({ name: g.name, threshold: g.threshold }));
      const credential: CredentialRow = {
        id,
        name: input.name,
        kind: input.kind,
        config,
        publicInfo,
        version,
        // Σtⱼ: the least approvals.min a policy of it may ask (spec §3a).
        threshold: sharingGroups.reduce((sum, g) => sum + g.threshold, 0),
        shareCount: shareRows.length,
        sealedSecret,
        checkInDays: input.checkInDays,
        createdAt: now,
        sharingGroups,
      };
      credential.custodyPolicyId = await this.audit.transaction(async (tx) => {
        if (!(await insertCredential(tx, { ...credential, createdBy: actor.id }))) {
          throw new AppError('NAME_TAKEN', `a credential named "${input.name}" already exists`);
        }
        for (const row of shareRows) await insertShare(tx, row);
        await this.audit.append(tx, {
          actor: actorId(actor),
          action: 'credential.created',
          subject: `credential:${id}`,
          data: {
            name: input.name,
            kind: input.kind,
            version,
            threshold: credential.threshold,
            custodians: shareRows.map((s) => ({ userId: s.custodianId, index: s.index, ...(s.group !== null ? { grp: s.group } : {}) })),
            ...(grouped ? { groups: sharingGroups } : {}),
            ...(generated ? { generated: true, publicJwk: publicInfo.publicJwk } : {}),
            configSha256: configDigest(config),
          },
        });
        // Spec §4a: who may change the credential's custody, created with it.
        return insertCustodyPolicy(tx, this.audit, actorId(actor), { id, threshold: credential.threshold });
      });
      return { credential, shares: shareRows };
    } finally {
      zeroize(dataKey, ...(secret !== undefined ? [secret] : []), ...shares.map((s) => s.share));
    }
  }

  /** The credential if `viewer` may see it (`canSeeCredential`); 404 alike whether it is missing or hidden. */
  async get(viewer: Principal, idOrName: string): Promise<{ credential: CredentialRow; shares: ShareRow[] }> {
    const credential = await findCredential(this.ctx.dataSource, idOrName);
    const shares = credential === undefined ? [] : await listShares(this.ctx.dataSource, credential.id, credential.version);
    if (credential === undefined || !(await this.visible(viewer, credential, shares))) throw new AppError('NOT_FOUND', `no credential "${idOrName}"`);
    return { credential, shares };
  }

  /** The credentials `viewer` may see. */
  async list(viewer: Principal): Promise<{ credential: CredentialRow; shares: ShareRow[] }[]> {
    const credentials = await listCredentials(this.ctx.dataSource);
    const all = await Promise.all(credentials.map(async (credential) => ({ credential, shares: await listShares(this.ctx.dataSource, credential.id, credential.version) })));
    const visible = await Promise.all(all.map(({ credential, shares }) => this.visible(viewer, credential, shares)));
    return all.filter((_, i) => visible[i]);
  }

  private async visible(viewer: Principal, credential: CredentialRow, shares: ShareRow[]): Promise<boolean> {
    const custodianIds = shares.map((s) => s.custodianId);
    if (canSeeCredential(viewer, custodianIds, [])) return true;
    return canSeeCredential(viewer, custodianIds, await policiesOfCredential(this.ctx.dataSource, credential.id));
  }

  /**
   * The custodians with the encryption keys their shares are sealed to. Enforces:
   * each is an operator with enrolled keys whose MAC checks (`checkedEnrolledKeys`):
   * one key swapped in the database fails the whole creation before anything is
   * sealed, with an answer that names nobody.
   */
  private async loadCustodians(ids: string[]) {
    const users = await findUsersByIds(this.ctx.dataSource, ids);
    const found = ids.map((id) => {
      const user = users.find((u) => u.id === id);
      if (user === undefined) throw new AppError('CREDENTIAL_INVALID', `custodian ${id} is not a user`);
      if (!user.roles.includes('operator')) throw new AppError('CREDENTIAL_INVALID', `custodian ${user.username} does not hold the operator role`);
      if (user.encryptionKey === null) throw new AppError('KEYS_NOT_ENROLLED', `custodian ${user.username} has not enrolled keys yet (PUT /api/v1/me/keys)`);
      return user;
    });
    // Every custodian is checked (each failure logged) before the creation fails.
    const checked = found.map((user) => {
      try {
        return { id: user.id, encryptionKey: checkedEnrolledKeys(this.ctx, user)?.encryptionKey ?? null };
      } catch (error) {
        if (error instanceof EnrolledKeysIntegrityError) return undefined;
        throw error;
      }
    });
    return checked.map((custodian) => {
      if (custodian?.encryptionKey == null) throw new EnrolledKeysIntegrityError();
      return { id: custodian.id, encryptionKey: custodian.encryptionKey };
    });
  }

  private checkSecretAndConfig(kind: CredentialKind, config: Record<string, unknown>, secret: Buffer): Record<string, unknown> {
    if (secret.length === 0) throw new AppError('CREDENTIAL_INVALID', 'the secret is empty');
    try {
      return validateCredentialConfig(kind, config);
    } catch (error) {
      return rethrowAsInvalid(error);
    }
  }
}

function rethrowAsInvalid(error: unknown): never {
  if (error instanceof ExecutorError) throw new AppError('CREDENTIAL_INVALID', error.message);
  throw error;
}
