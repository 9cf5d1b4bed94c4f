import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Length } from 'class-validator';
import type { AffectedCredentials, CheckInResponse, CredentialHealth, CredentialShare } from '#libs/contracts';
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

export class AffectedQueryDto {
  @ApiPropertyOptional({ description: 'only the credentials where this user (a custodian who lost their keys, say) is not live' })
  @IsOptional()
  @IsUUID('all', { message: 'userId must be the id of a user' })
  userId?: string;
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

/** The lost-key runbook (issue 16 item 8): which credentials lost a live share, and whose. */
@ApiTags('credentials')
@ApiBearerAuth()
@Controller('api/v1/custody')
export class CustodyOverviewController {
  constructor(private readonly custodyHealth: CustodyHealthService) {}

  /** Every credential with a custodian who is not live (or, with `userId`, where that user is not), each with its health. */
  @Get('affected')
  @Roles('security_lead', 'admin', 'auditor')
  async affected(@Query() query: AffectedQueryDto): Promise<AffectedCredentials> {
    return this.custodyHealth.affected(query.userId);
  }
}
