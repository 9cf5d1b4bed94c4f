import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { RequestPreview } from '#libs/contracts';
import type { Response } from 'express';
import { Authenticated, CurrentPrincipal, Roles } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../http/app-error.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { DecisionDto, ListRequestsQuery, PreviewRequestDto, SubmitRequestDto, WaitQuery } from './requests.dto.js';
import { toApprovalResponse, toRequestResponse, toSubmittedResponse } from './requests.mapper.js';
import { RequestReader } from './request-reader.js';
import { RequestWaits } from './request-waits.js';
import { RequestsService } from './requests.service.js';

@ApiTags('requests')
@ApiBearerAuth()
@Controller('api/v1/requests')
export class RequestsController {
  constructor(
    private readonly requests: RequestsService,
    private readonly reader: RequestReader,
    private readonly waits: RequestWaits,
  ) {}

  @Post()
  @HttpCode(201)
  // Security leads submit custody requests (spec §4a) under the custody policy.
  @Roles('requester', 'security_lead')
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'retries with the same key and body return the same request' })
  async submit(@CurrentPrincipal() principal: Principal, @Body() body: SubmitRequestDto, @Headers('idempotency-key') idempotencyKey: string | undefined, @Res({ passthrough: true }) res: Response) {
    if (idempotencyKey !== undefined && !/^[A-Za-z0-9._:-]{1,128}$/.test(idempotencyKey)) {
      throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be 1-128 characters of letters, digits, dot, underscore, colon or dash');
    }
    const { view, replayed } = await this.requests.submit(principal, body, idempotencyKey);
    res.setHeader('Location', `/api/v1/requests/${view.request.id}`);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    return toSubmittedResponse(view);
  }

  /** Read-only: which policy a submission of this body would fall under and who would decide it; nothing is created. */
  @Post('preview')
  @HttpCode(200)
  @Roles('requester')
  @ApiOperation({ summary: 'preview a submission: the policy that would apply and who must approve (creates nothing)' })
  async preview(@CurrentPrincipal() principal: Principal, @Body() body: PreviewRequestDto): Promise<RequestPreview> {
    return this.requests.preview(principal, body);
  }

  @Get()
  @Authenticated()
  async list(@CurrentPrincipal() principal: Principal, @Query() query: ListRequestsQuery) {
    const afterId = query.cursor !== undefined ? decodeCursor(query.cursor, 'requests').afterId : undefined;
    const { views, more } = await this.reader.list(principal, { status: query.status, approvable: query.approvable === 'true', limit: query.limit ?? 100, afterId });
    const last = views[views.length - 1];
    return {
      requests: views.map((view) => toRequestResponse(view, principal)),
      nextCursor: more && last !== undefined ? encodeCursor({ list: 'requests', afterId: last.request.id }) : null,
    };
  }

  @Get(':id')
  @Authenticated()
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return toRequestResponse(await this.reader.get(principal, id), principal);
  }

  /**
   * Long poll: answers once the request is final, or as it is at the timeout. Capped per
   * caller and in all (429 TOO_MANY_OPEN with Retry-After); a client that goes away
   * ends its wait at once and frees its place.
   */
  @Get(':id/wait')
  @Authenticated()
  @ApiTooManyRequestsResponse({ description: 'too many long polls open, by this caller or in all; Retry-After gives the seconds to wait (problem+json)' })
  async wait(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: WaitQuery, @Res({ passthrough: true }) res: Response) {
    const release = this.waits.admit(principal);
    const gone = new AbortController();
    const onClose = () => gone.abort();
    res.on('close', onClose);
    try {
      const view = await this.reader.waitForFinal(principal, id, query.timeoutSeconds ?? 30, gone.signal);
      // Nobody is left to read an answer.
      if (view === undefined) return undefined;
      return toRequestResponse(view, principal);
    } finally {
      res.off('close', onClose);
      release();
    }
  }

  @Get(':id/share')
  @Roles('operator')
  async share(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    const share = await this.reader.share(principal, id);
    return { envelope: share.envelope, index: share.index, ...(share.group !== null ? { group: share.group } : {}), credentialVersion: share.version };
  }

  @Post(':id/approvals')
  @HttpCode(201)
  @Roles('operator')
  async decide(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: DecisionDto) {
    const { approval, view } = await this.requests.decide(principal, id, body);
    return { ...toApprovalResponse(approval, view.names), request: { id, status: view.request.status, approvalsReceived: toRequestResponse(view, principal).approvalsReceived, approvalsRequired: view.policy.approvals.min } };
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Authenticated()
  async cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return toRequestResponse(await this.requests.cancel(principal, id), principal);
  }
}
