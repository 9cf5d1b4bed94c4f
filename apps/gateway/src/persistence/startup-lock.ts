import pg from 'pg';

const STARTUP_LOCK = 727275;

/**
 * Replicas that start together take turns: key creation, the first admin and the job
 * queue's setup (pg-boss creates a table per queue) would otherwise race and can
 * deadlock. A session advisory lock on a connection of its own; the embedded
 * database has a single process and needs none.
 */
export async function acquireStartupLock(databaseUrl: string | undefined): Promise<() => Promise<void>> {
  if (databaseUrl === undefined) return async () => {};
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [STARTUP_LOCK]);
  } catch (error) {
    await client.end();
    throw error;
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    try {
      await client.query('SELECT pg_advisory_unlock($1)', [STARTUP_LOCK]);
    } finally {
      await client.end();
    }
  };
}
