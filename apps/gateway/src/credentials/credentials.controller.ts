import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal, Roles } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../http/app-error.js';
import { CreateCredentialDto } from './credentials.dto.js';
import type { CredentialRow, ShareRow } from './credentials.repository.js';
import { CredentialsService } from './credentials.service.js';

export function toCredentialResponse(credential: CredentialRow, shares: ShareRow[]) {
  return {
    id: credential.id,
    name: credential.name,
    kind: credential.kind,
    config: credential.config,
    version: credential.version,
    threshold: credential.threshold,
    custodians: shares.map((s) => ({ userId: s.custodianId, index: s.index })),
    publicInfo: credential.publicInfo,
    createdAt: credential.createdAt.toISOString(),
  };
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
    if ((body.secret === undefined) === (body.secretBase64 === undefined)) {
      throw new AppError('VALIDATION_FAILED', 'send exactly one of secret or secretBase64');
    }
    const secret = body.secret !== undefined ? Buffer.from(body.secret, 'utf8') : Buffer.from(body.secretBase64 ?? '', 'base64');
    const { credential, shares } = await this.credentials.create(principal, {
      name: body.name,
      kind: body.kind,
      config: body.config ?? {},
      secret,
      custodians: body.custodians,
      threshold: body.threshold,
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
