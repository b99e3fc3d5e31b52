//! Jobs in PostgreSQL (schema/005_uws.sql): every change is one UPDATE guarded by the phase it
//! expects, so concurrent instances never step on each other.

use chrono::{DateTime, Duration, Utc};
use futures_util::{Stream, StreamExt};
use tokio_postgres::Row;

use super::{Job, JobError, Phase, ResultInfo};
use crate::db::DbError;

/// A job as created.
pub struct NewJob {
    pub run_id: Option<String>,
    pub execution_duration: i32,
    pub destruction: DateTime<Utc>,
    pub parameters: Vec<(String, String)>,
}

/// The job table, through the service's (owner) connection pool.
#[derive(Clone)]
pub struct JobStore {
    pool: deadpool_postgres::Pool,
}

const COLUMNS: &str = "job_id, run_id, owner_id, phase, creation_time, start_time, end_time, execution_duration, \
     destruction, parameters::text, error_type, error_message, result_mime, result_rows, result_bytes, result_overflow";

fn pool_error(e: deadpool_postgres::PoolError) -> DbError {
    DbError::Cluster(format!("the job database is not available: {e}"))
}

fn job_from_row(row: &Row) -> Job {
    let parameters: String = row.get(9);
    let parameters: Vec<(String, String)> = parse_parameters(&parameters);
    let phase: String = row.get(3);
    let error_type: Option<String> = row.get(10);
    let error_message: Option<String> = row.get(11);
    let result_mime: Option<String> = row.get(12);
    Job {
        job_id: row.get(0),
        run_id: row.get(1),
        owner_id: row.get(2),
        phase: Phase::parse(&phase).unwrap_or(Phase::Unknown),
        creation_time: row.get(4),
        start_time: row.get(5),
        end_time: row.get(6),
        execution_duration: row.get(7),
        destruction: row.get(8),
        parameters,
        error: error_message.map(|message| JobError { fatal: error_type.as_deref() != Some("transient"), message }),
        result: result_mime.map(|mime_type| ResultInfo {
            mime_type,
            rows: row.get::<_, Option<i64>>(13).unwrap_or(0),
            bytes: row.get::<_, Option<i64>>(14).unwrap_or(0),
            overflow: row.get::<_, Option<bool>>(15).unwrap_or(false),
        }),
    }
}

/// Parameters are stored as a JSON array of [name, value] pairs.
fn parse_parameters(json: &str) -> Vec<(String, String)> {
    serde_json::from_str(json).unwrap_or_default()
}

fn parameters_json(parameters: &[(String, String)]) -> String {
    serde_json::to_string(parameters).unwrap_or_else(|_| "[]".into())
}

impl JobStore {
    pub fn new(pool: deadpool_postgres::Pool) -> JobStore {
        JobStore { pool }
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, DbError> {
        self.pool.get().await.map_err(pool_error)
    }

    pub async fn create(&self, job: NewJob) -> Result<Job, DbError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                &format!(
                    "INSERT INTO dfbs_service.jobs (job_id, run_id, phase, execution_duration, destruction, parameters)
                     VALUES (replace(gen_random_uuid()::text, '-', ''), $1, 'PENDING', $2, $3, $4::text::jsonb)
                     RETURNING {COLUMNS}"
                ),
                &[&job.run_id, &job.execution_duration, &job.destruction, &parameters_json(&job.parameters)],
            )
            .await?;
        Ok(job_from_row(&row))
    }

    pub async fn get(&self, job_id: &str) -> Result<Option<Job>, DbError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(&format!("SELECT {COLUMNS} FROM dfbs_service.jobs WHERE job_id = $1")).await?;
        let row = client.query_opt(&statement, &[&job_id]).await?;
        Ok(row.as_ref().map(job_from_row))
    }

    /// UWS 1.1 section 2.2.2.1: PHASE filters (any of), AFTER (created after), LAST (the n
    /// most recent, newest first). ARCHIVED jobs are listed only when asked for by PHASE.
    pub async fn list(&self, phases: &[Phase], after: Option<DateTime<Utc>>, last: Option<i64>) -> Result<Vec<Job>, DbError> {
        let client = self.client().await?;
        let phases: Vec<String> = if phases.is_empty() {
            Phase::ALL.iter().filter(|p| **p != Phase::Archived).map(|p| p.as_str().to_string()).collect()
        } else {
            phases.iter().map(|p| p.as_str().to_string()).collect()
        };
        // Without LAST, the listing is capped: job lists are for humans and clients that
        // filter; nobody needs a million references in one document.
        let limit = last.unwrap_or(1000).clamp(0, 10_000);
        let rows = client
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM dfbs_service.jobs
                      WHERE phase = ANY($1) AND ($2::timestamptz IS NULL OR creation_time > $2)
                      ORDER BY creation_time DESC, job_id LIMIT $3"
                ),
                &[&phases, &after, &limit],
            )
            .await?;
        Ok(rows.iter().map(job_from_row).collect())
    }

    /// Moves a job from one of `from` to `to`; returns the job if it moved.
    pub async fn transition(&self, job_id: &str, from: &[Phase], to: Phase) -> Result<Option<Job>, DbError> {
        let client = self.client().await?;
        let from: Vec<String> = from.iter().map(|p| p.as_str().to_string()).collect();
        let ends = to.is_final();
        let row = client
            .query_opt(
                &format!(
                    "UPDATE dfbs_service.jobs SET phase = $3,
                            end_time = CASE WHEN $4 THEN now() ELSE end_time END
                      WHERE job_id = $1 AND phase = ANY($2) RETURNING {COLUMNS}"
                ),
                &[&job_id, &from, &to.as_str(), &ends],
            )
            .await?;
        Ok(row.as_ref().map(job_from_row))
    }

    /// Claims the oldest QUEUED job for execution (FOR UPDATE SKIP LOCKED: one instance
    /// gets it).
    pub async fn claim_queued(&self) -> Result<Option<Job>, DbError> {
        let client = self.client().await?;
        // Polled twice a second by every instance: prepared once per connection.
        let statement = client
            .prepare_cached(&format!(
                "UPDATE dfbs_service.jobs SET phase = 'EXECUTING', start_time = now(), heartbeat = now()
                  WHERE job_id = (SELECT job_id FROM dfbs_service.jobs WHERE phase = 'QUEUED'
                                   ORDER BY creation_time FOR UPDATE SKIP LOCKED LIMIT 1)
                  RETURNING {COLUMNS}"
            ))
            .await?;
        let row = client.query_opt(&statement, &[]).await?;
        Ok(row.as_ref().map(job_from_row))
    }

    /// Refreshes the heartbeat of an executing job; returns its phase now (None: deleted).
    pub async fn heartbeat(&self, job_id: &str) -> Result<Option<Phase>, DbError> {
        let client = self.client().await?;
        let statement = client.prepare_cached("UPDATE dfbs_service.jobs SET heartbeat = now() WHERE job_id = $1 RETURNING phase").await?;
        let row = client.query_opt(&statement, &[&job_id]).await?;
        Ok(row.map(|r| Phase::parse(r.get::<_, &str>(0)).unwrap_or(Phase::Unknown)))
    }

    /// Ends an executing job (only if it is still EXECUTING: an abort wins).
    pub async fn finish(&self, job_id: &str, outcome: Result<ResultInfo, JobError>) -> Result<bool, DbError> {
        let client = self.client().await?;
        let n = match outcome {
            Ok(result) => {
                client
                    .execute(
                        "UPDATE dfbs_service.jobs SET phase = 'COMPLETED', end_time = now(), result_mime = $2,
                                result_rows = $3, result_bytes = $4, result_overflow = $5
                          WHERE job_id = $1 AND phase = 'EXECUTING'",
                        &[&job_id, &result.mime_type, &result.rows, &result.bytes, &result.overflow],
                    )
                    .await?
            }
            Err(error) => {
                client
                    .execute(
                        "UPDATE dfbs_service.jobs SET phase = 'ERROR', end_time = now(), error_type = $2, error_message = $3
                          WHERE job_id = $1 AND phase IN ('EXECUTING', 'QUEUED')",
                        &[&job_id, &if error.fatal { "fatal" } else { "transient" }, &error.message],
                    )
                    .await?
            }
        };
        Ok(n == 1)
    }

    /// Sets parameters of a PENDING job (later values of a name replace earlier ones).
    pub async fn update_parameters(&self, job_id: &str, updates: &[(String, String)]) -> Result<Option<Job>, DbError> {
        let Some(job) = self.get(job_id).await? else { return Ok(None) };
        if job.phase != Phase::Pending {
            return Ok(Some(job));
        }
        let mut parameters = job.parameters.clone();
        for (name, value) in updates {
            parameters.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
            parameters.push((name.clone(), value.clone()));
        }
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("UPDATE dfbs_service.jobs SET parameters = $2::text::jsonb WHERE job_id = $1 AND phase = 'PENDING' RETURNING {COLUMNS}"),
                &[&job_id, &parameters_json(&parameters)],
            )
            .await?;
        Ok(row.as_ref().map(job_from_row))
    }

    pub async fn set_run_id(&self, job_id: &str, run_id: &str) -> Result<(), DbError> {
        let client = self.client().await?;
        client.execute("UPDATE dfbs_service.jobs SET run_id = $2 WHERE job_id = $1", &[&job_id, &run_id]).await?;
        Ok(())
    }

    pub async fn set_execution_duration(&self, job_id: &str, seconds: i32) -> Result<(), DbError> {
        let client = self.client().await?;
        client
            .execute("UPDATE dfbs_service.jobs SET execution_duration = $2 WHERE job_id = $1 AND phase = 'PENDING'", &[&job_id, &seconds])
            .await?;
        Ok(())
    }

    pub async fn set_destruction(&self, job_id: &str, destruction: DateTime<Utc>) -> Result<(), DbError> {
        let client = self.client().await?;
        client.execute("UPDATE dfbs_service.jobs SET destruction = $2 WHERE job_id = $1", &[&job_id, &destruction]).await?;
        Ok(())
    }

    pub async fn delete(&self, job_id: &str) -> Result<bool, DbError> {
        let client = self.client().await?;
        Ok(client.execute("DELETE FROM dfbs_service.jobs WHERE job_id = $1", &[&job_id]).await? == 1)
    }

    /// Keeps an inline upload part of a job until it runs.
    pub async fn save_upload(&self, job_id: &str, part: &str, data: &[u8]) -> Result<(), DbError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO dfbs_service.job_uploads (job_id, part, data) VALUES ($1, $2, $3)
                 ON CONFLICT (job_id, part) DO UPDATE SET data = EXCLUDED.data",
                &[&job_id, &part, &data],
            )
            .await?;
        Ok(())
    }

    /// The upload parts of a job, by part name.
    pub async fn uploads(&self, job_id: &str) -> Result<Vec<(String, bytes_like::Bytes)>, DbError> {
        let client = self.client().await?;
        let rows = client.query("SELECT part, data FROM dfbs_service.job_uploads WHERE job_id = $1", &[&job_id]).await?;
        Ok(rows.iter().map(|r| (r.get::<_, String>(0), bytes_like::Bytes::from(r.get::<_, Vec<u8>>(1)))).collect())
    }

    /// Appends a chunk of the result document.
    pub async fn append_result(&self, client: &tokio_postgres::Client, job_id: &str, seq: i32, data: &[u8]) -> Result<(), DbError> {
        client
            .execute("INSERT INTO dfbs_service.job_result_chunks (job_id, seq, data) VALUES ($1, $2, $3)", &[&job_id, &seq, &data])
            .await?;
        Ok(())
    }

    /// A connection of the store's pool, for a run of appends.
    pub async fn connection(&self) -> Result<deadpool_postgres::Object, DbError> {
        self.client().await
    }

    /// The result document, chunk by chunk, as it is read from the database.
    pub async fn read_result(&self, job_id: &str) -> Result<impl Stream<Item = Result<bytes_like::Bytes, std::io::Error>> + use<>, DbError> {
        let client = self.client().await?;
        let job_id = job_id.to_string();
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes_like::Bytes, std::io::Error>>(4);
        tokio::spawn(async move {
            let rows = client
                .query_raw("SELECT data FROM dfbs_service.job_result_chunks WHERE job_id = $1 ORDER BY seq", [&job_id])
                .await;
            let mut rows = match rows {
                Ok(r) => Box::pin(r),
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            };
            while let Some(row) = rows.next().await {
                let item = row.map(|r| bytes_like::Bytes::from(r.get::<_, Vec<u8>>(0))).map_err(|e| std::io::Error::other(e.to_string()));
                if tx.send(item).await.is_err() {
                    return;
                }
            }
        });
        Ok(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) }))
    }

    /// Jobs whose instance stopped beating (killed, crashed, restarted): they end in ERROR,
    /// saying why. Returns how many.
    pub async fn recover_orphans(&self, stale_after: Duration) -> Result<u64, DbError> {
        let client = self.client().await?;
        let seconds = stale_after.num_seconds() as f64;
        Ok(client
            .execute(
                "UPDATE dfbs_service.jobs SET phase = 'ERROR', end_time = now(), error_type = 'transient',
                        error_message = 'the service stopped while this job was executing (it was restarted or failed); run the job again'
                  WHERE phase = 'EXECUTING' AND (heartbeat IS NULL OR heartbeat < now() - make_interval(secs => $1))",
                &[&seconds],
            )
            .await?)
    }

    /// Deletes jobs past their destruction time (UWS 1.1 section 2.2.3.3). Returns how many.
    pub async fn destroy_expired(&self) -> Result<u64, DbError> {
        let client = self.client().await?;
        Ok(client.execute("DELETE FROM dfbs_service.jobs WHERE destruction < now()", &[]).await?)
    }
}

/// Bytes for response bodies (actix re-exports the bytes crate's type).
pub mod bytes_like {
    pub use actix_web::web::Bytes;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_round_trip_through_json() {
        let p = vec![
            ("QUERY".to_string(), "SELECT \"a\\b\" FROM t WHERE x = 'é'\n\t🚀".to_string()),
            ("LANG".to_string(), "ADQL".to_string()),
            ("empty".to_string(), String::new()),
        ];
        assert_eq!(parse_parameters(&parameters_json(&p)), p);
    }
}
