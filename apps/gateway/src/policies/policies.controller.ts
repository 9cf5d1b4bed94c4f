import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { PolicyDefinition } from '#libs/policy';
import { Authenticated, CurrentPrincipal, Roles } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { CreatePolicyDto, UpdatePolicyDto } from './policies.dto.js';
import { PoliciesService } from './policies.service.js';

function toPolicyResponse(p: PolicyDefinition) {
  return {
    id: p.id,
    name: p.name,
    credentialId: p.credentialId,
    operations: p.operations,
    approvals: p.approvals,
    requesters: p.requesters ?? null,
    requestTtlSeconds: p.requestTtlSeconds,
    operationTimeoutSeconds: p.operationTimeoutSeconds ?? null,
  };
}

@ApiTags('policies')
@ApiBearerAuth()
@Controller('api/v1/policies')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Post()
  @HttpCode(201)
  @Roles('security_lead')
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreatePolicyDto) {
    return toPolicyResponse(await this.policies.create(principal, body));
  }

  /** Tightens (or, down to the threshold, loosens) `approvals.min`; re-enables a `policy_outdated` policy. */
  @Patch(':id')
  @Roles('security_lead')
  async update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: UpdatePolicyDto) {
    return toPolicyResponse(await this.policies.updateMin(principal, id, body.approvals.min));
  }

  @Get()
  @Authenticated()
  async list(@CurrentPrincipal() principal: Principal) {
    return { policies: (await this.policies.list(principal)).map(toPolicyResponse) };
  }

  @Get(':id')
  @Authenticated()
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return toPolicyResponse(await this.policies.get(principal, id));
  }
}
