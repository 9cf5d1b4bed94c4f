import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal, Roles } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import type { Credential, JWK } from '#libs/contracts';
import { AppError } from '../http/app-error.js';
import { CreateCredentialDto } from './credentials.dto.js';
import { sharingGroupsOf, type CredentialRow, type ShareRow } from './credentials.repository.js';
import { CredentialsService, FLAT_GROUP_NAME, type NewSharingGroup } from './credentials.service.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The credential (spec §4, §3a): `threshold` is Σtⱼ; `sharing` gives every group with its custodians' `grp` and `index`. */
export function toCredentialResponse(credential: CredentialRow, shares: ShareRow[]): Credential {
  const publicJwk = credential.kind === 'signing-key' ? credential.publicInfo.publicJwk : undefined;
  const groups = sharingGroupsOf(credential);
  return {
    id: credential.id,
    name: credential.name,
    kind: credential.kind,
    config: credential.config,
    version: credential.version,
    threshold: credential.threshold,
    custodians: shares.map((s) => ({ userId: s.custodianId, index: s.index, ...(s.group !== null ? { grp: s.group } : {}) })),
    sharing: {
      groups: groups.map((g, grp) => ({
        name: g.name,
        threshold: g.threshold,
        custodians: shares.filter((s) => (s.group ?? 0) === grp).map((s) => ({ userId: s.custodianId, grp, index: s.index })),
      })),
    },
    publicInfo: credential.publicInfo,
    ...(isRecord(publicJwk) ? { publicJwk: publicJwk as JWK } : {}),
    generated: credential.publicInfo.generated === true,
    checkInDays: credential.checkInDays,
    custodyPolicyId: credential.custodyPolicyId ?? null,
    createdAt: credential.createdAt.toISOString(),
  };
}

/** The flat form `{custodians, threshold}` or `sharing` (spec §3a), exactly one. */
function sharingOf(body: CreateCredentialDto): NewSharingGroup[] {
  const flat = body.custodians !== undefined || body.threshold !== undefined;
  if (flat === (body.sharing !== undefined)) throw new AppError('VALIDATION_FAILED', 'send either custodians and threshold, or sharing');
  if (body.sharing !== undefined) return body.sharing.groups.map((g) => ({ name: g.name, threshold: g.threshold, custodians: g.custodians }));
  if (body.custodians === undefined || body.threshold === undefined) throw new AppError('VALIDATION_FAILED', 'custodians and threshold go together');
  if (body.threshold > body.custodians.length) {
    throw new AppError('CREDENTIAL_INVALID', `threshold ${body.threshold} is more than the ${body.custodians.length} custodians`);
  }
  return [{ name: FLAT_GROUP_NAME, threshold: body.threshold, custodians: body.custodians }];
}

@ApiTags('credentials')
@ApiBearerAuth()
@Controller('api/v1/credentials')
export class CredentialsController {
  constructor(private readonly credentials: CredentialsService) {}

  @Post()
  @HttpCode(201)
  @Roles('security_lead')
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateCredentialDto) {
    if ([body.secret, body.secretBase64, body.generate].filter((v) => v !== undefined).length !== 1) {
      throw new AppError('VALIDATION_FAILED', 'send exactly one of secret, secretBase64 or generate');
    }
    const secret =
      body.generate !== undefined
        ? { generate: body.generate.alg }
        : body.secret !== undefined
          ? Buffer.from(body.secret, 'utf8')
          : Buffer.from(body.secretBase64 ?? '', 'base64');
    const { credential, shares } = await this.credentials.create(principal, {
      name: body.name,
      kind: body.kind,
      config: body.config ?? {},
      secret,
      groups: sharingOf(body),
      checkInDays: body.checkInDays ?? 90,
    });
    return toCredentialResponse(credential, shares);
  }

  @Get()
  @Authenticated()
  async list(@CurrentPrincipal() principal: Principal) {
    return { credentials: (await this.credentials.list(principal)).map(({ credential, shares }) => toCredentialResponse(credential, shares)) };
  }

  @Get(':idOrName')
  @Authenticated()
  async get(@CurrentPrincipal() principal: Principal, @Param('idOrName') idOrName: string) {
    const { credential, shares } = await this.credentials.get(principal, idOrName);
    return toCredentialResponse(credential, shares);
  }
}
