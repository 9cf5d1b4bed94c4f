import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { CredentialVersionEntry, IntakeKey } from '#libs/contracts';
import { AuditWriter } from '../audit/audit-writer.js';
import { Authenticated, CurrentPrincipal, Roles } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { actorId } from '../users/users.service.js';
import { versionHistory } from './credential-versions.js';
import { findCredential } from './credentials.repository.js';
import { CredentialsService } from './credentials.service.js';
import { newIntakeKey } from './intake-keys.js';

/** Credential versions (spec §4a): the history, and the one-time intake keys a rotation seals its new secret to (§3). */
@ApiTags('credentials')
@ApiBearerAuth()
@Controller('api/v1/credentials')
export class CredentialVersionsController {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly credentials: CredentialsService,
    private readonly audit: AuditWriter,
  ) {}

  /** The version history from the audit log (ADR 0017), to whoever may see the credential (404 alike otherwise). */
  @Get(':id/versions')
  @Authenticated()
  @ApiOkResponse({ description: '`{versions: [{version, at, actor, requestId, change, structure: {groups: [{name, threshold, custodians: [{userId, kid}]}]}, configSha256, configChanged, secretChanged}]}`, oldest first' })
  async versions(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<{ versions: CredentialVersionEntry[] }> {
    const { credential } = await this.credentials.get(principal, id);
    return { versions: await versionHistory(this.ctx.dataSource, credential.id) };
  }

  /**
   * A one-time intake key for `credential.rotate` (security leads): seal the new secret's raw bytes
   * to it (JWE ECDH-ES+A256KW/A256GCM, header kid, cred, ver = the current version, purpose "rotate");
   * usable by one request, within an hour.
   */
  @Post(':id/intake-keys')
  @HttpCode(201)
  @Roles('security_lead')
  @ApiCreatedResponse({ description: '`{kid, publicJwk, expiresAt}`' })
  async intakeKey(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<IntakeKey> {
    const credential = await findCredential(this.ctx.dataSource, id);
    if (credential === undefined) throw new AppError('NOT_FOUND', `no credential "${id.slice(0, 64)}"`);
    return this.audit.transaction(async (tx) => {
      const key = await newIntakeKey(this.ctx, tx, credential, principal.id);
      await this.audit.append(tx, { actor: actorId(principal), action: 'credential.intake_key_created', subject: `credential:${credential.id}`, data: { kid: key.kid, version: credential.version, expiresAt: key.expiresAt } });
      return key;
    });
  }
}
