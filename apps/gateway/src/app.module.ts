import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditController } from './audit/audit.controller.js';
import { AuditService } from './audit/audit.service.js';
import { AuditWriter } from './audit/audit-writer.js';
import { AuthController } from './auth/auth.controller.js';
import { AuthenticationGuard, RolesGuard } from './auth/guards.js';
import { PasswordChangeGuard } from './auth/password-change.guard.js';
import { SessionService } from './auth/session.service.js';
import { UnknownLoginTally } from './auth/unknown-login-tally.js';
import { BearerTokenStrategy, ServiceTokenStrategy, SessionCookieStrategy } from './auth/strategies.js';
import { CredentialsController } from './credentials/credentials.controller.js';
import { CredentialsService } from './credentials/credentials.service.js';
import { CheckInsService } from './credentials/check-ins.service.js';
import { CustodyController, CustodyOverviewController } from './credentials/custody.controller.js';
import { DirectoryController } from './directory/directory.controller.js';
import { CredentialVersionsController } from './credentials/credential-versions.controller.js';
import { CustodyHealthService } from './credentials/custody-health.service.js';
import { ExecutionQueue } from './executions/execution-queue.js';
import { ExecutionService } from './executions/execution.service.js';
import { MaintenanceService } from './executions/maintenance.service.js';
import { GATEWAY_CONTEXT, type GatewayContext } from './gateway-context.js';
import { ProblemFilter } from './http/problem.filter.js';
import { OpsController } from './ops/ops.controller.js';
import { PoliciesController } from './policies/policies.controller.js';
import { PoliciesService } from './policies/policies.service.js';
import { EventsController } from './requests/events.controller.js';
import { RequestEvents } from './requests/request-events.js';
import { RequestsController } from './requests/requests.controller.js';
import { RequestsService } from './requests/requests.service.js';
import { RequestLifecycle } from './requests/request-lifecycle.js';
import { RequestReader } from './requests/request-reader.js';
import { RequestWaits } from './requests/request-waits.js';
import { JobQueue } from './jobs/job-queue.js';
import { ChannelsController } from './notifications/channels.controller.js';
import { ChannelsService } from './notifications/channels.service.js';
import { NotificationDispatcher } from './notifications/notification-dispatcher.js';
import { NotificationOutbox } from './notifications/notification-outbox.js';
import { ChannelSubscriptions } from './notifications/channel-subscriptions.js';
import { PrincipalCache } from './auth/principal-cache.js';
import { MarginWatch } from './notifications/margin-watch.js';
import { AuditStream } from './notifications/audit-stream.js';
import { PreferencesController } from './notifications/preferences.controller.js';
import { KeysController } from './users/keys.controller.js';
import { UsersController } from './users/users.controller.js';
import { UsersService } from './users/users.service.js';

@Module({})
export class AppModule {
  static create(ctx: GatewayContext): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PassportModule,
        TypeOrmModule.forRootAsync({
          useFactory: () => ctx.dataSource.options,
          dataSourceFactory: () => Promise.resolve(ctx.dataSource),
        }),
      ],
      controllers: [
        OpsController,
        AuthController,
        UsersController,
        DirectoryController,
        KeysController,
        CredentialsController,
        CustodyController,
        CredentialVersionsController,
        CustodyOverviewController,
        PoliciesController,
        RequestsController,
        EventsController,
        AuditController,
        ChannelsController,
        PreferencesController,
      ],
      providers: [
        { provide: GATEWAY_CONTEXT, useValue: ctx },
        { provide: APP_FILTER, useValue: new ProblemFilter(ctx.log) },
        { provide: APP_GUARD, useClass: AuthenticationGuard },
        { provide: APP_GUARD, useClass: PasswordChangeGuard },
        { provide: APP_GUARD, useClass: RolesGuard },
        BearerTokenStrategy,
        SessionCookieStrategy,
        ServiceTokenStrategy,
        SessionService,
        UnknownLoginTally,
        AuditWriter,
        AuditService,
        UsersService,
        CredentialsService,
        CheckInsService,
        CustodyHealthService,
        PoliciesService,
        RequestEvents,
        JobQueue,
        NotificationOutbox,
        ChannelSubscriptions,
        PrincipalCache,
        NotificationDispatcher,
        MarginWatch,
        ChannelsService,
        AuditStream,
        RequestLifecycle,
        RequestReader,
        RequestWaits,
        RequestsService,
        ExecutionQueue,
        ExecutionService,
        MaintenanceService,
      ],
    };
  }
}
