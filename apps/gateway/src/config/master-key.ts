import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, parseMasterKey, type GatewayConfig } from './config.js';

const MASTER_KEY_FILE = 'master.key';

/**
 * The configured master key, or — only with the embedded database — the one kept in
 * the data directory, generated there (mode 0600) on first start.
 */
export async function resolveMasterKey(config: GatewayConfig): Promise<Buffer> {
  if (config.masterKey !== undefined) return config.masterKey;
  if (config.databaseUrl !== undefined) {
    throw new ConfigError('QG_MASTER_KEY', 'is required with an external database (QG_DATABASE_URL)');
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const path = join(config.dataDir, MASTER_KEY_FILE);
  try {
    const key = parseMasterKey((await readFile(path, 'utf8')).trim(), path);
    if (key === undefined) throw new ConfigError(path, 'is empty');
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  // 'wx' refuses to overwrite a key another process wrote in the meantime.
  await writeFile(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}
