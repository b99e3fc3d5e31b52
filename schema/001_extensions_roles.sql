-- q3c for positional indexing (ADQL geometry is translated to q3c functions), and the two
-- non-owner roles of the service. Roles are cluster-wide, so they are created only when
-- missing; the grants on published objects are (re)made from tap/ by `dfbs-vo db migrate`.
CREATE EXTENSION IF NOT EXISTS q3c;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dfbs_query') THEN
    CREATE ROLE dfbs_query LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dfbs_ingest') THEN
    CREATE ROLE dfbs_ingest LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
END
$$;

-- User queries can never write, and never run unbounded (the service sets a per-job
-- statement_timeout below this ceiling).
ALTER ROLE dfbs_query SET default_transaction_read_only = on;
ALTER ROLE dfbs_query SET statement_timeout = '3600s';

-- Nobody but the owner creates objects or temporary tables in this database.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;
-- q3c's functions live in schema public.
GRANT USAGE ON SCHEMA public TO dfbs_query, dfbs_ingest;
