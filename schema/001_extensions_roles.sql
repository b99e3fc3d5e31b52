-- q3c for positional indexing (ADQL geometry is translated to q3c functions), and the two
-- non-owner roles of the service. Roles are cluster-wide, so they are created only when
-- missing; the grants on published objects are (re)made from tap/ by `dfbs-vo db migrate`.
CREATE EXTENSION IF NOT EXISTS q3c;

-- Roles are cluster-wide: two databases of one cluster migrating at once both try to create
-- them, so a concurrent creation is not an error.
DO $$
BEGIN
  CREATE ROLE dfbs_query LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
DO $$
BEGIN
  CREATE ROLE dfbs_ingest LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

-- User queries can never write, and never run unbounded (the service sets a per-job
-- statement_timeout below this ceiling). Set for this database only (IN DATABASE), so other
-- databases of the cluster are unaffected and concurrent migrations do not collide.
DO $$
BEGIN
  EXECUTE format('ALTER ROLE dfbs_query IN DATABASE %I SET default_transaction_read_only = on', current_database());
  EXECUTE format('ALTER ROLE dfbs_query IN DATABASE %I SET statement_timeout = %L', current_database(), '3600s');
  -- The translator quotes string literals for standard-conforming strings (backslash is an
  -- ordinary character); pin that rather than trust the server's default.
  EXECUTE format('ALTER ROLE dfbs_query IN DATABASE %I SET standard_conforming_strings = on', current_database());
END
$$;

-- Nobody but the owner creates objects or temporary tables in this database.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;
-- q3c's functions live in schema public.
GRANT USAGE ON SCHEMA public TO dfbs_query, dfbs_ingest;
