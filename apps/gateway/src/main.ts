import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConfigError, loadConfig } from './config/config.js';
import { startGateway } from './gateway.js';

/**
 * V8 lets the old generation grow to up to four times what survived the last full
 * collection while the gateway is busy; at 50 % the resident set under load stays
 * under 200 MiB at no measurable CPU cost, and unlike a heap cap it never ends the
 * process (docs/adr/0022). A flag given on the command line or in NODE_OPTIONS wins.
 */
function boundHeapGrowth(): void {
  const given = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)].some((arg) => arg.startsWith('--heap-growing-percent'));
  if (!given) setFlagsFromString('--heap-growing-percent=50');
}

/**
 * Start-up leaves tens of MiB of garbage (modules compiled, the OpenAPI document
 * built) and V8 sizes the old generation's first limit from the heap's size, not
 * from what is live: one full collection once the gateway listens bases the growth
 * above on what the gateway keeps.
 */
function collectStartUpGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

async function main(): Promise<void> {
  boundHeapGrowth();
  const config = loadConfig(process.env);
  const gateway = await startGateway({ config });
  const lines = [`quorumgate is listening on ${gateway.url} (database: ${gateway.ctx.databaseKind})`];
  if (gateway.bootstrap.created) {
    lines.push(`First start: open ${gateway.url}/ and log in as "${gateway.bootstrap.username}"`);
    lines.push(
      gateway.bootstrap.generatedPassword !== undefined
        ? `  with the generated password: ${gateway.bootstrap.generatedPassword}  (shown only this once; change it with PUT /api/v1/me/password)`
        : '  with the password from QG_BOOTSTRAP_ADMIN_PASSWORD',
    );
  } else {
    lines.push(`Open ${gateway.url}/ to log in. API docs: ${gateway.url}/api/docs`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  collectStartUpGarbage();
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`quorumgate: ${signal}: no new requests; finishing running operations…\n`);
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`quorumgate: unclean shutdown: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`quorumgate: configuration error: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`quorumgate: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
