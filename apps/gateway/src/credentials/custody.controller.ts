import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import type { CheckInResponse, CredentialHealth, CredentialShare } from '#libs/contracts';
import { Authenticated, CurrentPrincipal, Roles } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { CheckInsService } from './check-ins.service.js';
import { CustodyHealthService } from './custody-health.service.js';

export class CheckInDto {
  @ApiProperty({ description: 'check-in statement: JWS ES256 by your signing key, typ qg-checkin+jwt, payload {cred, ver, idx, grp?, commitment, nonce, sub, iat}' })
  @IsString()
  @Length(1, 8192)
  statement!: string;
}

/** Check-ins and quorum health (spec §4a). */
@ApiTags('credentials')
@ApiBearerAuth()
@Controller('api/v1/credentials')
export class CustodyController {
  constructor(
    private readonly checkIns: CheckInsService,
    private readonly custodyHealth: CustodyHealthService,
  ) {}

  /** The caller's own share envelope of the current version and a one-time check-in challenge (403 for anyone holding no share). */
  @Get(':id/share')
  @Authenticated()
  async share(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<CredentialShare> {
    return this.checkIns.share(principal, id);
  }

  @Post(':id/check-ins')
  @HttpCode(201)
  @Authenticated()
  async checkIn(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: CheckInDto): Promise<CheckInResponse> {
    return this.checkIns.checkIn(principal, id, body.statement);
  }

  @Get(':id/health')
  @Roles('security_lead', 'admin', 'auditor', 'operator')
  async health(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<CredentialHealth> {
    return this.custodyHealth.health(principal, id);
  }
}
