import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import type { PolicyDefinition } from '#libs/policy';
import { Authenticated, CurrentPrincipal, Roles } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { CreatePolicyDto, UpdatePolicyDto } from './policies.dto.js';
import { PoliciesService } from './policies.service.js';

function toPolicyResponse(p: PolicyDefinition, state?: { custody: boolean; disabledReason: string | null }) {
  return {
    ...(state !== undefined ? { custody: state.custody, disabledReason: state.disabledReason } : {}),
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
    const policy = await this.policies.create(principal, body);
    return toPolicyResponse(policy, (await this.policies.states([policy.id])).get(policy.id));
  }

  /** Tightens (or, down to the threshold, loosens) `approvals.min`; re-enables a `policy_outdated` policy. */
  @Patch(':id')
  @Roles('security_lead')
  async update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: UpdatePolicyDto) {
    const policy = await this.policies.updateMin(principal, id, body.approvals.min);
    return toPolicyResponse(policy, (await this.policies.states([policy.id])).get(policy.id));
  }

  @Get()
  @Authenticated()
  async list(@CurrentPrincipal() principal: Principal) {
    const policies = await this.policies.list(principal);
    const states = await this.policies.states(policies.map((p) => p.id));
    return { policies: policies.map((p) => toPolicyResponse(p, states.get(p.id))) };
  }

  @Get(':id')
  @Authenticated()
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    const policy = await this.policies.get(principal, id);
    return toPolicyResponse(policy, (await this.policies.states([policy.id])).get(policy.id));
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles('security_lead')
  @ApiNoContentResponse({ description: 'deleted: no list, page or new request sees the policy again; past requests keep naming it' })
  @ApiNotFoundResponse({ description: 'no such policy, or already deleted (code NOT_FOUND)' })
  @ApiConflictResponse({ description: 'a pending, approved or executing request uses the policy (code IN_USE, `activeRequests`); nothing changed' })
  async delete(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    await this.policies.delete(principal, id);
  }
}
