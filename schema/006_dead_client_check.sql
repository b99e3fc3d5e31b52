-- A query whose client is gone (a service instance killed, a user who closed the connection)
-- is cancelled within seconds instead of running on until its statement timeout
-- (PostgreSQL 14+, client_connection_check_interval).
DO $$
BEGIN
  EXECUTE format('ALTER ROLE dfbs_query IN DATABASE %I SET client_connection_check_interval = %L', current_database(), '2s');
END
$$;
