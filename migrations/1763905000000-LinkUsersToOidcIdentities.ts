import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Single sign-on users: linked to their identity at the provider, `(iss, sub)`,
 * never to a name; they hold no password (a password user holds no link, so
 * neither way in can take the other's account). Usernames may be e-mail
 * addresses (`preferred_username` at Entra ID). `email` is shared with the
 * notifications work, hence IF NOT EXISTS.
 */
export class LinkUsersToOidcIdentities1763905000000 implements MigrationInterface {
  name = 'LinkUsersToOidcIdentities1763905000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN IF NOT EXISTS email text`);
    await q.query(`ALTER TABLE users ADD COLUMN oidc_issuer text, ADD COLUMN oidc_subject text`);
    await q.query(`ALTER TABLE users ADD CONSTRAINT users_oidc_identity_unique UNIQUE (oidc_issuer, oidc_subject)`);
    await q.query(`ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL`);
    await q.query(`
      ALTER TABLE users ADD CONSTRAINT users_password_xor_oidc CHECK (
        (oidc_issuer IS NULL) = (oidc_subject IS NULL) AND (password_hash IS NULL) <> (oidc_subject IS NULL))`);
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_username_check`);
    await q.query(`ALTER TABLE users ADD CONSTRAINT users_username_check CHECK (username ~ '^[a-z0-9][a-z0-9._@-]{1,63}$')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM users WHERE oidc_subject IS NOT NULL`);
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_username_check`);
    await q.query(`ALTER TABLE users ADD CONSTRAINT users_username_check CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$')`);
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_password_xor_oidc`);
    await q.query(`ALTER TABLE users ALTER COLUMN password_hash SET NOT NULL`);
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_oidc_identity_unique`);
    await q.query(`ALTER TABLE users DROP COLUMN oidc_subject, DROP COLUMN oidc_issuer`);
    // email stays: the notifications migration may own it too.
  }
}
