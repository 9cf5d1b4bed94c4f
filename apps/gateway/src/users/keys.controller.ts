import { Body, Controller, Inject, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiProperty, ApiPropertyOptional, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, Length } from 'class-validator';
import type { Response } from 'express';
import { CryptoError, parsePublicJwk } from '#libs/crypto';
import { AuditWriter } from '../audit/audit-writer.js';
import { Authenticated, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { MarginWatch } from '../notifications/margin-watch.js';
import { updateUserKeys } from './accounts.repository.js';
import { enrolledKeysMac, findUserWithCheckedKeys } from './enrolled-keys.js';
import { toMeResponse } from './users.mapper.js';
import { UsersService } from './users.service.js';

export class EnrolKeysDto {
  @ApiProperty({ description: 'public JWK, EC P-256, for ECDH-ES share envelopes' })
  @IsObject()
  encryptionKey!: Record<string, unknown>;

  @ApiProperty({ description: 'public JWK, EC P-256, for ES256 approval statements' })
  @IsObject()
  signingKey!: Record<string, unknown>;

  @ApiPropertyOptional({
    description:
      'the caller’s current password: a session alone cannot change where shares are sealed and whose signatures count. Required of password users; a single sign-on user has none and must have signed in within the last 5 minutes instead',
  })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  currentPassword?: string;
}

@ApiTags('accounts')
@ApiBearerAuth()
@Controller('api/v1/me/keys')
export class KeysController {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
    private readonly users: UsersService,
    private readonly margins: MarginWatch,
  ) {}

  /**
   * Enforces: only people enrol (keys are for custodians and reveal), only public
   * P-256 JWKs (a private member `d` is refused), two distinct keys, the caller's
   * current password (throttled like logins) or, for a single sign-on user, a sign-in
   * within the last 5 minutes (`UsersService.confirmIdentity`). A custodian holding
   * shares may re-enrol (spec §4a): their shares stay sealed to the old key, so health
   * counts them `keys_changed` at once (the margin drops) until a re-share. Stores the keys with their MAC
   * under the master key (spec §2 item 11), without which no key is ever used.
   */
  @Put()
  @Authenticated()
  @ApiUnauthorizedResponse({ description: 'the current password is wrong (code AUTH_INVALID_CREDENTIALS), or no session (problem+json)' })
  @ApiForbiddenResponse({ description: 'a service account; or a single sign-on user whose sign-in is older than 5 minutes (code FRESH_SIGN_IN_REQUIRED) (problem+json)' })
  @ApiTooManyRequestsResponse({ description: 'too many wrong passwords for this user from this address; Retry-After gives the seconds to wait (problem+json)' })
  async enrol(@CurrentPrincipal() principal: Principal, @Body() body: EnrolKeysDto, @Res({ passthrough: true }) res: Response) {
    if (principal.kind !== 'user') throw new AppError('FORBIDDEN', 'service accounts do not hold custodian keys');
    const encryption = await parseKey(body.encryptionKey, 'encryption', 'encryptionKey');
    const signing = await parseKey(body.signingKey, 'signing', 'signingKey');
    if (encryption.thumbprint === signing.thumbprint) throw new AppError('VALIDATION_FAILED', 'encryptionKey and signingKey must be two different key pairs');
    await this.users.confirmIdentity(principal, body.currentPassword, res);
    const keys = { encryptionKey: encryption.jwk, signingKey: signing.jwk };
    const keysMac = enrolledKeysMac(this.ctx.masterKey, principal.id, keys);
    await this.audit.transaction(async (tx) => {
      await updateUserKeys(tx, principal.id, { ...keys, encryptionKid: encryption.thumbprint, signingKid: signing.thumbprint, keysMac });
      await this.audit.append(tx, {
        actor: `user:${principal.id}`,
        action: 'keys.enrolled',
        subject: `user:${principal.id}`,
        data: { encryptionThumbprint: encryption.thumbprint, signingThumbprint: signing.thumbprint },
      });
      await this.margins.enqueue(tx, principal.id);
    });
    const user = await findUserWithCheckedKeys(this.ctx, principal.id);
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
