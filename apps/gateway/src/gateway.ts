import 'reflect-metadata';
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import cookieParser from 'cookie-parser';
import express from 'express';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type DestinationStream, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { AppModule } from './app.module.js';
import type { GatewayConfig } from './config/config.js';
import { resolveMasterKey } from './config/master-key.js';
import type { GatewayContext } from './gateway-context.js';
import { loginQueueFull } from './auth/password-login.js';
import { AppError } from './http/app-error.js';
import { bulkPacing } from './http/bulk-pacing.js';
import { bodyErrorsAsProblems } from './http/body-errors.js';
import { jsonBodyParser, RefuseUnreadBodyInterceptor, refuseNonJsonBodies, refuseUnstorableBodies, RequestTextPipe } from './http/body-guard.js';
import { httpMetrics } from './http/http-metrics.js';
import { serveWebUi } from './http/web-ui.js';
import { API_DOCS_PATH, crossSiteGuard, securityHeaders } from './http/security-headers.js';
import { SESSION_COOKIE } from './auth/strategies.js';
import { PinoNestLogger } from './http/pino-nest-logger.js';
import { loadOrCreateSigningKey } from './keys/gateway-signing-key.js';
import { openDatabase, type Database } from './persistence/database.js';
import { acquireStartupLock } from './persistence/startup-lock.js';
import { bootstrapAdmin, type BootstrapResult } from './users/bootstrap-admin.js';

export interface GatewayOptions {
  config: GatewayConfig;
  /** Tests: an embedded database loaded from a migrated dump instead of `dataDir`. */
  pgliteDump?: Blob;
  /** Where JSON log lines go (default: stdout). */
  logDestination?: DestinationStream;
  now?: () => Date;
}

export interface RunningGateway {
  app: INestApplication;
  ctx: GatewayContext;
  url: string;
  bootstrap: BootstrapResult;
  close(): Promise<void>;
}

const REDACTED_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'password', '*.password', 'token', '*.token', 'secret', '*.secret'];

export function createLogger(level: GatewayConfig['logLevel'], destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'quorumgate' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
}

/** Builds and starts one gateway process: database, keys, HTTP server. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config } = options;
  const log = createLogger(config.logLevel, options.logDestination);
  const masterKey = await resolveMasterKey(config);
  const releaseStartupLock = await acquireStartupLock(config.databaseUrl);
  let database: Database | undefined;
  try {
    const opened = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, pgliteDump: options.pgliteDump });
    database = opened;
    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    const ctx: GatewayContext = {
      config,
      masterKey,
      dataSource: opened.dataSource,
      databaseKind: opened.kind,
      signingKey: await loadOrCreateSigningKey(opened.dataSource, masterKey),
      log,
      metrics,
      now: options.now ?? (() => new Date()),
    };
    const app = await NestFactory.create(AppModule.create(ctx), { bodyParser: false, logger: new PinoNestLogger(log), abortOnError: false });
    configureHttp(app, ctx);
    const bootstrap = await bootstrapAdmin(app, ctx);
    await app.init();
    inFrontOfExpress(app.getHttpServer() as Server, bulkPacing({ loginQueueFull, sessionCookie: SESSION_COOKIE, metrics: ctx.metrics }));
    await releaseStartupLock();
    await app.listen(config.port, config.host);
    const address = app.getHttpServer().address() as AddressInfo;
    const url = `http://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${address.port}`;
    return {
      app,
      ctx,
      url,
      bootstrap,
      close: async () => {
        // Stop accepting first, then drain in-flight executions (shutdown hooks), then the database.
        const server = app.getHttpServer() as Server;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await app.close();
        server.closeAllConnections();
        await stopped;
        await opened.close();
      },
    };
  } catch (error) {
    await releaseStartupLock().catch(() => undefined);
    await database?.close();
    throw error;
  }
}

function configureHttp(app: INestApplication, ctx: GatewayContext): void {
  const expressApp = app.getHttpAdapter().getInstance() as express.Express;
  expressApp.set('trust proxy', ctx.config.trustProxy);
  // Name no framework to a scanner; no caching, no sniffing, a CSP on every answer (security-headers.ts).
  expressApp.disable('x-powered-by');
  app.use(securityHeaders);
  app.use(
    pinoHttp({
      logger: ctx.log,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      // Under a flood, the line per refusal would be its costliest part: refusals (429, 503)
      // are counted in qg_http_request_duration_seconds, and a call whose client left before
      // its answer (a dropped long poll) is logged at debug only (docs/adr/0024).
      customLogLevel: (_req, res) => (res.statusCode === 429 || res.statusCode === 503 ? 'silent' : res.writableEnded ? 'info' : 'debug'),
      serializers: { req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url.split('?')[0] }) },
    }),
  );
  app.use(httpMetrics(ctx.metrics));
  app.use(cookieParser());
  app.use(crossSiteGuard(SESSION_COOKIE));
  app.use(refuseNonJsonBodies);
  app.use(jsonBodyParser());
  app.use(bodyErrorsAsProblems);
  app.use(refuseUnstorableBodies);
  app.useGlobalInterceptors(new RefuseUnreadBodyInterceptor());
  app.useGlobalPipes(
    new RequestTextPipe(),
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => new AppError('VALIDATION_FAILED', errors.flatMap((e) => describeValidationError(e)).join('; ')),
    }),
  );
  // Off by default in production (QG_API_DOCS): the UI and the document go together.
  if (ctx.config.apiDocs) setUpApiDocs(app);
  serveWebUi(app);
}

/** Runs `gate` on every call before Express sees it: what it answers or holds back costs no more than its parsing. */
function inFrontOfExpress(server: Server, gate: (req: IncomingMessage, res: ServerResponse, next: () => void) => void): void {
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => gate(req, res, () => handlers.forEach((handle) => handle.call(server, req, res))));
}

function setUpApiDocs(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('quorumgate')
      .setDescription('Multi-party approval gateway. Protocol: docs/protocol.md in the quorumgate repository')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup(API_DOCS_PATH.slice(1), app, document, { jsonDocumentUrl: 'api/docs-json' });
}

interface ValidationErrorLike {
  property: string;
  constraints?: Record<string, string>;
  children?: ValidationErrorLike[];
}

function describeValidationError(error: ValidationErrorLike, parent = ''): string[] {
  const path = parent === '' ? error.property : `${parent}.${error.property}`;
  const own = Object.values(error.constraints ?? {}).map((message) => (message.includes(error.property) ? message.replace(error.property, path) : `${path}: ${message}`));
  return [...own, ...(error.children ?? []).flatMap((child) => describeValidationError(child, path))];
}
