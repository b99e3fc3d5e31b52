-- The inline upload parts of async TAP jobs (TAP 1.1 section 2.5.6), kept until the job runs
-- (and deleted with the job): the tables are loaded when the job executes, on whichever
-- instance claims it.
CREATE TABLE dfbs_service.job_uploads (
  job_id text NOT NULL REFERENCES dfbs_service.jobs (job_id) ON DELETE CASCADE,
  part   text NOT NULL,
  data   bytea NOT NULL,
  PRIMARY KEY (job_id, part)
);
