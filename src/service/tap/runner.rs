//! Runs queued TAP jobs: each service instance claims QUEUED jobs from the database (one
//! instance per job: FOR UPDATE SKIP LOCKED), runs them as the read-only role with the job's
//! execution duration, stores the result document chunk by chunk, and keeps a heartbeat. An
//! ABORT or DELETE seen at the heartbeat cancels the query in the database. A reaper ends
//! orphaned jobs (instance killed) in ERROR and destroys expired ones.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Semaphore;

use super::jobs::query_request;
use super::run::{self, ExecError};
use super::upload::load;
use crate::service::AppState;
use crate::uws::{Job, JobError, Phase, ResultInfo};
use crate::votable::End;

/// Jobs one instance runs at once.
const CONCURRENT_JOBS: usize = 2;
const HEARTBEAT: Duration = Duration::from_secs(2);
/// A job whose heartbeat is older than this belongs to an instance that died.
const STALE: Duration = Duration::from_secs(10);
const REAP_EVERY: Duration = Duration::from_secs(5);

/// Starts the runner and the reaper on the current tokio runtime. Abort the handle to stop
/// them (jobs running then are recovered as orphans, like after a crash).
pub fn spawn(state: actix_web::web::Data<AppState>) -> tokio::task::JoinHandle<()> {
    let slots = Arc::new(Semaphore::new(CONCURRENT_JOBS));
    tokio::spawn(async move {
        let mut last_reap = tokio::time::Instant::now() - REAP_EVERY;
        loop {
            if last_reap.elapsed() >= REAP_EVERY {
                reap(&state).await;
                last_reap = tokio::time::Instant::now();
            }
            // Claim as many queued jobs as there are free slots.
            while let Ok(permit) = slots.clone().try_acquire_owned() {
                match state.jobs.claim_queued().await {
                    Ok(Some(job)) => {
                        let state = state.clone();
                        tokio::spawn(async move {
                            execute(&state, job).await;
                            drop(permit);
                        });
                    }
                    Ok(None) => break,
                    Err(error) => {
                        tracing::warn!(%error, "cannot claim queued jobs");
                        break;
                    }
                }
            }
            // Woken by a local PHASE=RUN, or polling for jobs queued through other instances.
            let _ = tokio::time::timeout(Duration::from_millis(500), state.job_signal.notified()).await;
        }
    })
}

async fn reap(state: &AppState) {
    match state.jobs.recover_orphans(chrono::Duration::from_std(STALE).unwrap_or(chrono::Duration::seconds(10))).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(jobs = n, "jobs of a stopped instance ended in ERROR"),
        Err(error) => tracing::warn!(%error, "cannot check for orphaned jobs"),
    }
    match state.jobs.destroy_expired().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(jobs = n, "destroyed expired jobs"),
        Err(error) => tracing::warn!(%error, "cannot destroy expired jobs"),
    }
}

async fn execute(state: &AppState, job: Job) {
    let job_id = job.job_id.clone();
    tracing::info!(job = %job_id, "job started");
    let outcome = run_job(state, &job).await;
    if let Err(error) = &outcome {
        tracing::info!(job = %job_id, message = %error.message, "job failed");
    }
    match state.jobs.finish(&job_id, outcome).await {
        Ok(true) => tracing::info!(job = %job_id, "job ended"),
        Ok(false) => tracing::info!(job = %job_id, "job was aborted or deleted while running"),
        Err(error) => tracing::warn!(job = %job_id, %error, "cannot record the end of a job"),
    }
}

fn fatal(message: impl Into<String>) -> JobError {
    JobError { fatal: true, message: message.into() }
}

async fn run_job(state: &AppState, job: &Job) -> Result<ResultInfo, JobError> {
    let request = query_request(job, state).map_err(fatal)?;
    let timeout = Duration::from_secs(job.execution_duration.max(1) as u64);
    let parts = state.jobs.uploads(&job.job_id).await.map_err(|e| JobError { fatal: false, message: e.to_string() })?;
    let uploads = load(&state.admin_pool, &request.uploads, &parts, &state.config.limits).await.map_err(fatal)?;
    let execution = request.execution(state, timeout, uploads).await.map_err(fatal)?;
    let started = match run::start(&state.query_pool, execution).await {
        Ok(s) => s,
        Err(ExecError::Query(m)) => return Err(fatal(m)),
        Err(ExecError::Service(m)) => return Err(JobError { fatal: false, message: m }),
    };
    let connection = state.jobs.connection().await.map_err(|e| JobError { fatal: false, message: e.to_string() })?;

    // Heartbeat, and cancellation when the job is aborted or deleted meanwhile.
    let heartbeat = {
        let jobs = state.jobs.clone();
        let job_id = job.job_id.clone();
        let cancel = started.cancel.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                match jobs.heartbeat(&job_id).await {
                    Ok(Some(Phase::Executing)) => {}
                    Ok(_) => {
                        let _ = cancel.cancel_query(tokio_postgres::NoTls).await;
                        return;
                    }
                    Err(error) => tracing::warn!(job = %job_id, %error, "heartbeat failed"),
                }
            }
        })
    };

    let mut body = Box::pin(started.body);
    let mut seq: i32 = 0;
    let mut bytes: i64 = 0;
    let mut stored = Ok(());
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else { break };
        if let Err(e) = state.jobs.append_result(&connection, &job.job_id, seq, &chunk).await {
            // Typically: the job was deleted meanwhile (its chunks cascade away).
            stored = Err(JobError { fatal: false, message: format!("cannot store the result: {e}") });
            let _ = started.cancel.cancel_query(tokio_postgres::NoTls).await;
            break;
        }
        seq += 1;
        bytes += chunk.len() as i64;
    }
    drop(body);
    heartbeat.abort();
    stored?;
    let outcome = started.outcome.await.map_err(|_| JobError { fatal: false, message: "the query ended without a result".into() })?;
    match outcome.end {
        End::Complete | End::Overflow => Ok(ResultInfo {
            mime_type: request.format.mime_type().to_string(),
            rows: outcome.rows as i64,
            bytes,
            overflow: outcome.end == End::Overflow,
        }),
        End::Error(message) => Err(fatal(message)),
    }
}
