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
        ? `  with the generated password: ${gateway.bootstrap.generatedPassword}  (shown only this once; change it or set QG_BOOTSTRAP_ADMIN_PASSWORD)`
        : '  with the password from QG_BOOTSTRAP_ADMIN_PASSWORD',
    );
  } else {
    lines.push(`Open ${gateway.url}/ to log in. API docs: ${gateway.url}/api/docs`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`quorumgate: configuration error: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`quorumgate: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
