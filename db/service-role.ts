import type { Sql } from "./connect";

/** Serialises two runners on one database: concurrent GRANTs on one object can fail. */
const LOCK_KEY = 7_264_010_531_855_401_224n;

/**
 * The login role a service connects as under docker-compose.yml. It may read and write the
 * service's tables and call its functions, and nothing else: not a superuser, the owner of
 * nothing, no CREATE in any schema, not even a temporary table, and no access to the migration
 * bookkeeping. The migrate job runs this as the database owner after every migration run, so
 * the tables a later migration adds are granted at once; default privileges cover tables that
 * the owner creates by hand in between.
 *
 * Idempotent: the role is created when missing, and its password and attributes are set every
 * time, which is how the password is rotated. Names and the password travel as bind parameters
 * and are quoted by `format()` in the server, never spliced into SQL here.
 */
export async function grantServiceRole(sql: Sql, role: string, password: string): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
    const [owner] = await tx<{ name: string }[]>`SELECT current_user AS name`;
    if (owner!.name === role) throw new Error(`the service's role must not be the owner who migrates (${role})`);
    await tx`SELECT set_config('service_role.name', ${role}, true), set_config('service_role.password', ${password}, true)`;
    await tx.unsafe(GRANT);
  });
}

const GRANT = `
DO $grant$
DECLARE
  r text := current_setting('service_role.name');
BEGIN
  BEGIN
    EXECUTE format('CREATE ROLE %I', r);
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  EXECUTE format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L',
                 r, current_setting('service_role.password'));
  -- PUBLIC may create temporary tables in a new database, and before PostgreSQL 15 objects in
  -- public: both are DDL that no service needs.
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), r);
  REVOKE CREATE ON SCHEMA public FROM PUBLIC;
  EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', r);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', r);
  EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', r);
  EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO %I', r);
  EXECUTE format('REVOKE ALL ON TABLE schema_migrations FROM %I', r);
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', r);
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO %I', r);
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO %I', r);
END
$grant$`;
