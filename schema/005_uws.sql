-- UWS 1.1 jobs (TAP 1.1 /async): state lives in the database so that any service instance can
-- answer for any job and a restart loses none. Not published (the query role cannot read it).
CREATE TABLE dfbs_service.jobs (
  job_id             text PRIMARY KEY,
  run_id             text,
  owner_id           text,
  phase              text NOT NULL CHECK (phase IN ('PENDING', 'QUEUED', 'EXECUTING', 'COMPLETED',
                       'ERROR', 'ABORTED', 'UNKNOWN', 'HELD', 'SUSPENDED', 'ARCHIVED')),
  creation_time      timestamptz NOT NULL DEFAULT now(),
  start_time         timestamptz,
  end_time           timestamptz,
  -- Seconds; 0 would mean unlimited, which this service does not grant.
  execution_duration integer NOT NULL CHECK (execution_duration > 0),
  destruction        timestamptz NOT NULL,
  -- The job parameters as received: [[name, value], ...], names as the client wrote them.
  parameters         jsonb NOT NULL DEFAULT '[]',
  error_type         text CHECK (error_type IN ('transient', 'fatal')),
  error_message      text,
  result_mime        text,
  result_rows        bigint,
  result_bytes       bigint,
  result_overflow    boolean,
  -- Crash recovery: the instance running the job refreshes heartbeat; a stale one means the
  -- instance died, and the job ends in ERROR with that reason.
  heartbeat          timestamptz
);
CREATE INDEX jobs_phase ON dfbs_service.jobs (phase);
CREATE INDEX jobs_creation_time ON dfbs_service.jobs (creation_time);
CREATE INDEX jobs_destruction ON dfbs_service.jobs (destruction);

-- The result document of a job, in order, chunk by chunk (streamed in and out).
CREATE TABLE dfbs_service.job_result_chunks (
  job_id  text NOT NULL REFERENCES dfbs_service.jobs (job_id) ON DELETE CASCADE,
  seq     integer NOT NULL,
  data    bytea NOT NULL,
  PRIMARY KEY (job_id, seq)
);
