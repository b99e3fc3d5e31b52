-- Re-classification (dfbs-vo classify) stages a plate's new class columns in a temporary table
-- and updates from it in one statement: the ingest role may create temporary tables. The query
-- role still may not (001 revoked TEMPORARY from PUBLIC).
DO $$
BEGIN
  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO dfbs_ingest', current_database());
END
$$;
