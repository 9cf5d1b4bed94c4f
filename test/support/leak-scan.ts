import type { DataSource } from 'typeorm';

/** Every row of every table (all schemas but the catalogs), as JSON text. */
export async function dumpAllTables(dataSource: DataSource): Promise<string> {
  const tables: { schema: string; name: string }[] = await dataSource.query(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
     WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
  );
  const parts: string[] = [];
  for (const { schema, name } of tables) {
    const rows: { row: string }[] = await dataSource.query(`SELECT row_to_json(t)::text AS row FROM "${schema}"."${name}" t`);
    parts.push(`-- ${schema}.${name}\n` + rows.map((r) => r.row).join('\n'));
  }
  return parts.join('\n');
}

/** The forms a secret could leak in: as is, hex, base64 and base64url. */
export function encodings(secret: Uint8Array | string): string[] {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  const forms = [bytes.toString('hex'), bytes.toString('hex').toUpperCase(), bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('base64').replace(/=+$/, '')];
  if (typeof secret === 'string') forms.unshift(secret);
  else forms.unshift(bytes.toString('latin1'));
  return [...new Set(forms.filter((f) => f.length >= 8))];
}

/** Names of the secrets found anywhere in the haystack, in any of their encodings. */
export function findLeaks(haystack: string, secrets: Record<string, Uint8Array | string>): string[] {
  return Object.entries(secrets)
    .filter(([, secret]) => encodings(secret).some((form) => haystack.includes(form)))
    .map(([name]) => name);
}
