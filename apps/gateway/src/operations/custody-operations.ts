import type { EntityManager } from 'typeorm';
import { GENERATED_SIGNING_ALGS, type CustodyOperationKind, type GeneratedSigningAlg, type ReshareCustodian } from '#libs/contracts';
import { parsePublicJwk, zeroize, type JWK } from '#libs/crypto';
import { ExecutorError, generateSigningKey, validateCredentialConfig, validateCredentialSecret } from '#libs/executors';
import type { AuditWriter } from '../audit/audit-writer.js';
import type { Principal } from '../auth/principal.js';
import { commitVersion, sealVersion, VERSION_CHANGED_RESULT, type VersionChange, type VersionGroup, type SealedVersion } from '../credentials/credential-versions.js';
import { findCredential, sharingGroupsOf, type CredentialRow } from '../credentials/credentials.repository.js';
import { checkSharingStructure, FLAT_GROUP_NAME } from '../credentials/credentials.service.js';
import { claimIntakeKey, openClaimedIntake } from '../credentials/intake-keys.js';
import { checkedVersionShares } from '../credentials/share-assignments.js';
import type { SignedRequest } from '../executions/signed-request.js';
import type { GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import type { RequestLifecycle } from '../requests/request-lifecycle.js';
import { findUserWithCheckedKeys } from '../users/enrolled-keys.js';

/**
 * A custody execution's outcome before it is stored: the new version, sealed, made
 * current by `commit` in the very transaction that ends the request (spec §4a), or
 * nothing at all if that transaction does not commit.
 */
export class StagedVersion {
  constructor(readonly commit: (tx: EntityManager, deps: { audit: AuditWriter; lifecycle: RequestLifecycle; now: Date }) => Promise<Record<string, unknown>>) {}
}

function invalid(message: string): never {
  throw new AppError('VALIDATION_FAILED', `operation.params: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

function custodiansOf(value: unknown, at: string): ReshareCustodian[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 255) invalid(`${at}.custodians must be a list of 1..255 {userId, kid}`);
  return value.map((c: unknown, i) => {
    if (!isRecord(c) || Object.keys(c).some((k) => k !== 'userId' && k !== 'kid')) invalid(`${at}.custodians[${i}] must be {userId, kid}`);
    const { userId, kid } = c;
    if (typeof userId !== 'string' || userId.length > 64) invalid(`${at}.custodians[${i}].userId must be a user id`);
    if (typeof kid !== 'string' || !THUMBPRINT.test(kid)) invalid(`${at}.custodians[${i}].kid must be the RFC 7638 thumbprint of the custodian's encryption key`);
    return { userId, kid };
  });
}

function thresholdOf(value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 255) invalid(`${at}.threshold must be an integer in 1..255`);
  return value;
}

/** The groups a `credential.reshare`'s `sharing` names: the flat form is one group named `custodians` (spec §3a). */
export function reshareGroupsOf(sharing: unknown): { name: string; threshold: number; custodians: ReshareCustodian[] }[] {
  if (!isRecord(sharing)) invalid('sharing must be {threshold, custodians} or {groups}');
  if ('groups' in sharing) {
    if (Object.keys(sharing).length !== 1 || !Array.isArray(sharing['groups']) || sharing['groups'].length === 0 || sharing['groups'].length > 16) invalid('sharing.groups must be a list of 1..16 groups');
    return (sharing['groups'] as unknown[]).map((g, i) => {
      const at = `sharing.groups[${i}]`;
      if (!isRecord(g) || Object.keys(g).some((k) => !['name', 'threshold', 'custodians'].includes(k))) invalid(`${at} must be {name, threshold, custodians}`);
      if (typeof g['name'] !== 'string') invalid(`${at}.name must be a string`);
      return { name: g['name'], threshold: thresholdOf(g['threshold'], at), custodians: custodiansOf(g['custodians'], at) };
    });
  }
  if (Object.keys(sharing).some((k) => k !== 'threshold' && k !== 'custodians')) invalid('sharing must be {threshold, custodians} or {groups}');
  return [{ name: FLAT_GROUP_NAME, threshold: thresholdOf(sharing['threshold'], 'sharing'), custodians: custodiansOf(sharing['custodians'], 'sharing') }];
}

/** A user's enrolled encryption key, MAC-checked, with its thumbprint; null without one. */
async function encryptionKeyOf(ctx: GatewayContext, userId: string): Promise<{ jwk: JWK; kid: string } | null> {
  const user = await findUserWithCheckedKeys(ctx, userId);
  if (user?.encryptionKey == null) return null;
  return { jwk: user.encryptionKey, kid: (await parsePublicJwk(user.encryptionKey, 'encryption')).thumbprint };
}

/** The credential as it is now, if still at the version the request signed. */
async function credentialAt(ctx: GatewayContext, request: SignedRequest): Promise<CredentialRow | undefined> {
  const credential = await findCredential(ctx.dataSource, request.credential.id);
  return credential?.version === request.credential.version ? credential : undefined;
}

function staged(ctx: GatewayContext, request: SignedRequest, kind: CustodyOperationKind, sealed: SealedVersion, secretChanged: boolean): StagedVersion {
  const change: VersionChange = { requestId: request.id, requesterId: request.requesterId, kind, fromVersion: request.credential.version, secretChanged };
  return new StagedVersion((tx, deps) => commitVersion(tx, deps, request.credential.id, change, sealed));
}

/**
 * `credential.reshare` (spec §4a). Admission enforces: params are exactly `{sharing}`
 * in the flat or grouped form, a valid structure (`checkSharingStructure`); every
 * custodian exists, is enabled, holds the operator role and has enrolled keys (MAC
 * checked) whose encryption key's thumbprint is the `kid` given. Execution seals the
 * current secret as version + 1 only to keys with exactly those thumbprints: one
 * differs (re-enrolled, or swapped in the database) and nothing is sealed at all.
 */
export const reshare = {
  servesCredentialKind: () => false,
  admit: async (ctx: GatewayContext, _principal: Principal, params: Record<string, unknown>): Promise<Record<string, unknown>> => {
    if (Object.keys(params).some((k) => k !== 'sharing')) invalid('credential.reshare takes only sharing');
    const groups = reshareGroupsOf(params['sharing']);
    checkSharingStructure(groups.map((g) => ({ name: g.name, threshold: g.threshold, custodians: g.custodians.map((c) => c.userId) })));
    for (const custodian of groups.flatMap((g) => g.custodians)) {
      const user = await findUserWithCheckedKeys(ctx, custodian.userId);
      if (user === undefined) invalid(`custodian ${custodian.userId} is not a user`);
      if (user.disabledAt !== null) invalid(`custodian ${user.username} is disabled`);
      if (!user.roles.includes('operator')) invalid(`custodian ${user.username} does not hold the operator role`);
      if (user.encryptionKey === null) throw new AppError('KEYS_NOT_ENROLLED', `custodian ${user.username} has no enrolled keys (or they fail their integrity check)`);
      const { thumbprint } = await parsePublicJwk(user.encryptionKey, 'encryption');
      if (thumbprint !== custodian.kid) invalid(`custodian ${user.username}'s kid is not the thumbprint of their enrolled encryption key`);
    }
    const sharing = params['sharing'] as Record<string, unknown>;
    return 'groups' in sharing ? { sharing: { groups } } : { sharing: { threshold: groups[0]?.threshold, custodians: groups[0]?.custodians } };
  },
  run: async (ctx: GatewayContext, request: SignedRequest, { secret }: { config: Record<string, unknown>; secret: Buffer }): Promise<Record<string, unknown> | StagedVersion> => {
    const credential = await credentialAt(ctx, request);
    if (credential === undefined) return { ...VERSION_CHANGED_RESULT };
    const groups: VersionGroup[] = [];
    for (const g of reshareGroupsOf(request.operation.params['sharing'])) {
      const custodians: VersionGroup['custodians'] = [];
      for (const c of g.custodians) {
        const key = await encryptionKeyOf(ctx, c.userId);
        if (key?.kid !== c.kid) return { error: `nothing was sealed: custodian ${c.userId}'s encryption key is not the one the approvers signed for`, code: 'CUSTODIAN_KEY_CHANGED', userId: c.userId };
        custodians.push({ userId: c.userId, encryptionKey: key.jwk, kid: key.kid });
      }
      groups.push({ name: g.name, threshold: g.threshold, custodians });
    }
    const sealed = await sealVersion(ctx, { credentialId: credential.id, version: credential.version + 1, kind: credential.kind, config: credential.config, publicInfo: credential.publicInfo, secret, groups });
    return staged(ctx, request, 'credential.reshare', sealed, false);
  },
  finalAuditData: { custody: true },
};

/**
 * `credential.rotate` (spec §4a). Admission enforces: params only `secret`, `generate`,
 * `config`, at least one, never `secret` with `generate`; `generate: {alg}` only for
 * signing keys; `config` valid for the credential's kind (which never changes);
 * `secret` a JWE to an unexpired, unused intake key of this credential and version,
 * claimed by this request at once. Execution opens the new secret with that key
 * (claimed by this very request, else nothing runs), or generates it, checks it and
 * the config for the kind, and seals it as version + 1 to the current custodians'
 * current keys with the current structure.
 */
export const rotate = {
  servesCredentialKind: () => false,
  admit: async (ctx: GatewayContext, _principal: Principal, params: Record<string, unknown>, credential: Pick<CredentialRow, 'id' | 'version' | 'kind'>, requestId: string): Promise<Record<string, unknown>> => {
    if (Object.keys(params).some((k) => !['secret', 'generate', 'config'].includes(k))) invalid('credential.rotate takes only secret, generate and config');
    const { secret, generate, config } = params;
    if (secret === undefined && generate === undefined && config === undefined) invalid('credential.rotate needs secret, generate or config');
    if (secret !== undefined && generate !== undefined) invalid('send secret or generate, not both');
    const out: Record<string, unknown> = {};
    if (generate !== undefined) {
      if (credential.kind !== 'signing-key') invalid('generate is only for signing-key credentials');
      if (!isRecord(generate) || Object.keys(generate).length !== 1 || !GENERATED_SIGNING_ALGS.includes(generate['alg'] as GeneratedSigningAlg)) invalid(`generate must be {alg: ${GENERATED_SIGNING_ALGS.join(' | ')}}`);
      out['generate'] = { alg: generate['alg'] };
    }
    if (config !== undefined) {
      try {
        out['config'] = validateCredentialConfig(credential.kind, config);
      } catch (error) {
        if (error instanceof ExecutorError) invalid(`config: ${error.message}`);
        throw error;
      }
    }
    if (secret !== undefined) {
      if (typeof secret !== 'string' || secret.length > 65536) invalid('secret must be a JWE compact to an intake key');
      await claimIntakeKey(ctx, ctx.dataSource, secret, credential, requestId);
      out['secret'] = secret;
    }
    return out;
  },
  run: async (ctx: GatewayContext, request: SignedRequest, { secret: current }: { config: Record<string, unknown>; secret: Buffer }): Promise<Record<string, unknown> | StagedVersion> => {
    const credential = await credentialAt(ctx, request);
    if (credential === undefined) return { ...VERSION_CHANGED_RESULT };
    const params = request.operation.params;
    let secret: Buffer | null = null;
    try {
      const generate = isRecord(params['generate']) ? (params['generate']['alg'] as GeneratedSigningAlg) : undefined;
      if (typeof params['secret'] === 'string') {
        secret = await openClaimedIntake(ctx, params['secret'], { requestId: request.id, cred: credential.id, ver: credential.version });
        if (secret === null) return { error: 'nothing changed: the new secret does not open with an intake key this request claimed (expired, used, or not sealed for this credential version)', code: 'INTAKE_KEY_REFUSED' };
      } else if (generate !== undefined) {
        secret = await generateSigningKey(generate);
      } else {
        secret = Buffer.from(current);
      }
      const config = isRecord(params['config']) ? validateCredentialConfig(credential.kind, params['config']) : credential.config;
      const secretChanged = params['secret'] !== undefined || generate !== undefined;
      const checked = (await validateCredentialSecret(credential.kind, secret, config)).publicInfo;
      const publicInfo = { ...checked, ...(generate !== undefined || (!secretChanged && credential.publicInfo['generated'] === true) ? { generated: true } : {}) };
      const shares = await checkedVersionShares(ctx, ctx.dataSource, credential.id, credential.version);
      const groups: VersionGroup[] = [];
      for (const [grp, g] of sharingGroupsOf(credential).entries()) {
        const custodians: VersionGroup['custodians'] = [];
        for (const share of shares.filter((s) => (s.group ?? 0) === grp).sort((a, b) => a.index - b.index)) {
          const key = await encryptionKeyOf(ctx, share.custodianId);
          if (key === null) return { error: `nothing changed: custodian ${share.custodianId} has no enrolled keys`, code: 'KEYS_NOT_ENROLLED' };
          custodians.push({ userId: share.custodianId, encryptionKey: key.jwk, kid: key.kid });
        }
        groups.push({ name: g.name, threshold: g.threshold, custodians });
      }
      const sealed = await sealVersion(ctx, { credentialId: credential.id, version: credential.version + 1, kind: credential.kind, config, publicInfo, secret, groups });
      return staged(ctx, request, 'credential.rotate', sealed, secretChanged);
    } catch (error) {
      if (error instanceof ExecutorError) return { error: `nothing changed: ${error.message}`, code: error.code };
      throw error;
    } finally {
      zeroize(secret);
    }
  },
  finalAuditData: { custody: true },
};
