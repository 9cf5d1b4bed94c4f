import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 20: each replica keeps the users and service accounts it authenticated
 * (auth/principal-cache.ts). Any change to either table, by the gateway or written
 * directly in the database, NOTIFYs every replica with its commit, and they forget
 * what they kept (docs/adr/0023).
 */
export class SignalPrincipalChanges1763910000000 implements MigrationInterface {
  name = 'SignalPrincipalChanges1763910000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE FUNCTION qg_signal_principal_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('qg_principals', TG_TABLE_NAME);
        RETURN NULL;
      END $$`);
    for (const table of ['users', 'service_accounts']) {
      await q.query(`CREATE TRIGGER ${table}_signal_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION qg_signal_principal_change()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['users', 'service_accounts']) await q.query(`DROP TRIGGER ${table}_signal_change ON ${table}`);
    await q.query('DROP FUNCTION qg_signal_principal_change()');
  }
}
