import { Body, Controller, Inject, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsObject } from 'class-validator';
import { CryptoError, parsePublicJwk } from '#libs/crypto';
import { AuditWriter } from '../audit/audit-writer.js';
import { Authenticated, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { findUserById, updateUserKeys } from './accounts.repository.js';
import { toMeResponse } from './users.mapper.js';

export class EnrolKeysDto {
  @ApiProperty({ description: 'public JWK, EC P-256, for ECDH-ES share envelopes' })
  @IsObject()
  encryptionKey!: Record<string, unknown>;

  @ApiProperty({ description: 'public JWK, EC P-256, for ES256 approval statements' })
  @IsObject()
  signingKey!: Record<string, unknown>;
}

@ApiTags('accounts')
@ApiBearerAuth()
@Controller('api/v1/me/keys')
export class KeysController {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
  ) {}

  /**
   * Enforces: only people enrol (keys are for custodians and reveal), only public
   * P-256 JWKs (a private member `d` is refused), two distinct keys, and no
   * silent re-enrolment of a custodian whose shares are sealed to the old key.
   */
  @Put()
  @Authenticated()
  async enrol(@CurrentPrincipal() principal: Principal, @Body() body: EnrolKeysDto) {
    if (principal.kind !== 'user') throw new AppError('FORBIDDEN', 'service accounts do not hold custodian keys');
    const encryption = await parseKey(body.encryptionKey, 'encryption', 'encryptionKey');
    const signing = await parseKey(body.signingKey, 'signing', 'signingKey');
    if (encryption.thumbprint === signing.thumbprint) throw new AppError('VALIDATION_FAILED', 'encryptionKey and signingKey must be two different key pairs');
    await this.audit.transaction(async (tx) => {
      const held: { n: string }[] = await tx.query('SELECT count(*) AS n FROM credential_shares WHERE custodian_id = $1', [principal.id]);
      const current = await findUserById(tx, principal.id);
      if (Number(held[0]?.n ?? 0) > 0 && current?.encryptionKid !== encryption.thumbprint) {
        throw new AppError('CONFLICT', 'you hold credential shares sealed to your current key; a security lead must rotate them before you enrol a new key');
      }
      await updateUserKeys(tx, principal.id, { encryptionKey: encryption.jwk, encryptionKid: encryption.thumbprint, signingKey: signing.jwk, signingKid: signing.thumbprint });
      await this.audit.append(tx, {
        actor: `user:${principal.id}`,
        action: 'keys.enrolled',
        subject: `user:${principal.id}`,
        data: { encryptionThumbprint: encryption.thumbprint, signingThumbprint: signing.thumbprint },
      });
    });
    const user = await findUserById(this.ctx.dataSource, principal.id);
    if (user === undefined) throw new AppError('NOT_FOUND', 'no such user');
    return toMeResponse(user);
  }
}

async function parseKey(jwk: unknown, use: 'encryption' | 'signing', field: string) {
  try {
    return await parsePublicJwk(jwk, use);
  } catch (error) {
    if (error instanceof CryptoError) {
      const why = error.code === 'JWK_PRIVATE_MEMBER' ? 'contains a private member: send only the public key' : error.message;
      throw new AppError('VALIDATION_FAILED', `${field}: ${why}`);
    }
    throw error;
  }
}
