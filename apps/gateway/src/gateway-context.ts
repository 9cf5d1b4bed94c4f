import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { GatewayConfig } from './config/config.js';
import type { GatewaySigningKey } from './keys/gateway-signing-key.js';

/** What the gateway builds before Nest starts, handed to every feature through DI. */
export interface GatewayContext {
  config: GatewayConfig;
  masterKey: Buffer;
  dataSource: DataSource;
  databaseKind: 'embedded' | 'postgres';
  signingKey: GatewaySigningKey;
  log: Logger;
  metrics: Registry;
  now: () => Date;
}

export const GATEWAY_CONTEXT = Symbol('GatewayContext');
