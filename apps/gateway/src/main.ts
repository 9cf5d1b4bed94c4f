import { ConfigError, loadConfig } from './config/config.js';
import { startGateway } from './gateway.js';

async function main(): Promise<void> {
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
