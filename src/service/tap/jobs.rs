//! /tap/async: TAP 1.1 asynchronous queries as UWS 1.1 jobs (TAP 1.1 section 2.3.2, UWS 1.1
//! section 2.2). Creation always succeeds for a well-formed request: a bad query is found when
//! the job runs and ends it in ERROR (taplint flags services that refuse the job instead).

use std::time::{Duration, Instant};

use actix_web::http::header::LOCATION;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;

use super::params::{read_request, Params};
use super::upload::parse_upload_param;
use super::{dali_error, QueryRequest};
use crate::service::State;
use crate::uws::{self, Job, NewJob, Phase};

/// Longest WAIT honoured (UWS 1.1 section 2.2.1.1 lets the service cap it; -1 asks for it).
const MAX_WAIT: Duration = Duration::from_secs(60);

fn list_url(state: &State) -> String {
    format!("{}/tap/async", state.config.base_url())
}

fn job_url(state: &State, job_id: &str) -> String {
    format!("{}/{job_id}", list_url(state))
}

fn see_other(url: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((LOCATION, url.to_string())).finish()
}

fn text(body: impl Into<String>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(body.into())
}

fn bad_request(message: impl Into<String>) -> HttpResponse {
    HttpResponse::BadRequest().content_type("text/plain; charset=utf-8").body(format!("{}\n", message.into()))
}

fn not_found(job_id: &str) -> HttpResponse {
    HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body(format!("there is no job {job_id} (it may have been destroyed)\n"))
}

fn service_error(error: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::ServiceUnavailable().content_type("text/plain; charset=utf-8").body(format!("{error}\n"))
}

fn xml(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/xml; charset=utf-8").body(body)
}

/// Loads a job or answers 404 / 503.
async fn load(state: &State, job_id: &str) -> Result<Job, HttpResponse> {
    match state.jobs.get(job_id).await {
        Ok(Some(job)) => Ok(job),
        Ok(None) => Err(not_found(job_id)),
        Err(e) => Err(service_error(e)),
    }
}

/// GET /tap/async: the job list, with PHASE, AFTER and LAST filters (UWS 1.1 section 2.2.2.1).
pub async fn list(state: State, request: HttpRequest) -> HttpResponse {
    let params = match Params::from_request(&request, &[]) {
        Ok(p) => p,
        Err(e) => return bad_request(e.0),
    };
    let mut phases = Vec::new();
    for (name, value) in params.pairs() {
        if name.eq_ignore_ascii_case("PHASE") {
            match Phase::parse(value) {
                Some(p) => phases.push(p),
                None => return bad_request(format!("PHASE={value} is not a UWS phase")),
            }
        }
    }
    let after = match params.get("AFTER") {
        Some(text) => match uws::parse_iso8601(text) {
            Some(t) => Some(t),
            None => return bad_request(format!("AFTER={text} is not an ISO 8601 date")),
        },
        None => None,
    };
    let last = match params.get("LAST") {
        Some(text) => match text.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return bad_request(format!("LAST={text} is not a non-negative integer")),
        },
        None => None,
    };
    match state.jobs.list(&phases, after, last).await {
        Ok(jobs) => xml(uws::job_list_document(&jobs, &list_url(&state))),
        Err(e) => service_error(e),
    }
}

/// POST /tap/async: creates a job; PHASE=RUN in the same request queues it at once.
pub async fn create(state: State, request: HttpRequest, payload: web::Payload) -> HttpResponse {
    let limits = &state.config.limits;
    let params = match read_request(&request, payload, limits.request_max_bytes, limits.upload_max_bytes + limits.request_max_bytes).await {
        Ok(p) => p,
        Err(e) => return dali_error(StatusCode::BAD_REQUEST, &e.0),
    };
    let mut execution_duration = limits.execution_duration_default_s as i64;
    let mut destruction = Utc::now() + chrono::Duration::days(limits.destruction_days as i64);
    let mut run = false;
    let mut run_id = None;
    let mut parameters = Vec::new();
    for (name, value) in params.pairs() {
        match name.to_ascii_uppercase().as_str() {
            "PHASE" => match value.trim().to_ascii_uppercase().as_str() {
                "RUN" => run = true,
                other => return bad_request(format!("PHASE={other} cannot be given when creating a job: use PHASE=RUN or nothing")),
            },
            "RUNID" => run_id = Some(value.clone()),
            "EXECUTIONDURATION" => match value.trim().parse::<i64>() {
                Ok(n) if n > 0 => execution_duration = n.min(limits.execution_duration_max_s as i64),
                _ => return bad_request(format!("EXECUTIONDURATION={value} is not a positive number of seconds")),
            },
            "DESTRUCTION" => match uws::parse_iso8601(value) {
                Some(t) => destruction = t.min(destruction),
                None => return bad_request(format!("DESTRUCTION={value} is not an ISO 8601 date")),
            },
            _ => parameters.push((name.clone(), value.clone())),
        }
    }
    let new = NewJob { run_id, execution_duration: execution_duration as i32, destruction, parameters };
    let job = match state.jobs.create(new).await {
        Ok(job) => job,
        Err(e) => return service_error(e),
    };
    // Inline uploads wait in the database until the job runs. A malformed UPLOAD is not an
    // error here: like a bad query, it ends the job in ERROR when it runs.
    if let Some(Ok(specs)) = params.get("UPLOAD").map(parse_upload_param) {
        for spec in specs {
            if let super::upload::UploadSource::Part(part) = &spec.source {
                if let Some(data) = params.part(part) {
                    if let Err(e) = state.jobs.save_upload(&job.job_id, part, data).await {
                        return service_error(e);
                    }
                }
            }
        }
    }
    if run {
        if let Err(e) = state.jobs.transition(&job.job_id, &[Phase::Pending], Phase::Queued).await {
            return service_error(e);
        }
        state.job_signal.notify_one();
    }
    see_other(&job_url(&state, &job.job_id))
}

/// GET /tap/async/{id}, with blocking WAIT (UWS 1.1 section 2.2.1.1).
pub async fn job(state: State, request: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let job_id = path.into_inner();
    let params = match Params::from_request(&request, &[]) {
        Ok(p) => p,
        Err(e) => return bad_request(e.0),
    };
    let wait = match params.get("WAIT") {
        None => None,
        Some(text) => match text.trim().parse::<i64>() {
            Ok(-1) => Some(MAX_WAIT),
            Ok(n) if n >= 0 => Some(Duration::from_secs(n as u64).min(MAX_WAIT)),
            _ => return bad_request(format!("WAIT={text} is not a number of seconds (or -1)")),
        },
    };
    let waiting_phase = match params.get("PHASE") {
        Some(text) => match Phase::parse(text) {
            Some(p) => Some(p),
            None => return bad_request(format!("PHASE={text} is not a UWS phase")),
        },
        None => None,
    };
    let mut job = match load(&state, &job_id).await {
        Ok(j) => j,
        Err(response) => return response,
    };
    if let Some(wait) = wait {
        let started = Instant::now();
        let initial = waiting_phase.unwrap_or(job.phase);
        while job.phase.is_active() && job.phase == initial && started.elapsed() < wait {
            tokio::time::sleep(Duration::from_millis(100)).await;
            job = match load(&state, &job_id).await {
                Ok(j) => j,
                Err(response) => return response,
            };
        }
    }
    xml(uws::job_document(&job, &job_url(&state, &job_id)))
}

/// POST /tap/async/{id}: ACTION=DELETE (UWS 1.1 section 2.2.3.5).
pub async fn post_job(state: State, request: HttpRequest, path: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let job_id = path.into_inner();
    let params = match Params::from_request(&request, &body) {
        Ok(p) => p,
        Err(e) => return bad_request(e.0),
    };
    match params.get("ACTION").map(|a| a.trim().to_ascii_uppercase()) {
        Some(action) if action == "DELETE" => delete_job(state, job_id).await,
        Some(other) => bad_request(format!("ACTION={other} is not supported: use ACTION=DELETE")),
        None => bad_request("POST to a job needs ACTION=DELETE; change phase, parameters or destruction at their own resources"),
    }
}

/// DELETE /tap/async/{id}.
pub async fn delete(state: State, path: web::Path<String>) -> HttpResponse {
    delete_job(state, path.into_inner()).await
}

async fn delete_job(state: State, job_id: String) -> HttpResponse {
    match state.jobs.delete(&job_id).await {
        // The 303 goes to a short listing, not to every job there is (VO-INTEROP mistake 2).
        Ok(true) => see_other(&format!("{}?LAST=20", list_url(&state))),
        Ok(false) => not_found(&job_id),
        Err(e) => service_error(e),
    }
}

/// GET /tap/async/{id}/{attribute}: phase, executionduration, destruction, quote, owner,
/// error, parameters, results.
pub async fn attribute(state: State, path: web::Path<(String, String)>) -> HttpResponse {
    let (job_id, attribute) = path.into_inner();
    let job = match load(&state, &job_id).await {
        Ok(j) => j,
        Err(response) => return response,
    };
    match attribute.as_str() {
        "phase" => text(job.phase.as_str()),
        "executionduration" => text(job.execution_duration.to_string()),
        "destruction" => text(uws::iso8601(&job.destruction)),
        // The job document's quote is nil: we give no estimate.
        "quote" => text(""),
        "owner" => text(job.owner_id.clone().unwrap_or_default()),
        "parameters" => xml(uws::parameters_document(&job)),
        "results" => xml(uws::results_document(&job, &job_url(&state, &job_id))),
        "error" => match (&job.phase, &job.error) {
            (Phase::Error, Some(error)) => dali_error(StatusCode::OK, &error.message),
            _ => HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body(format!("job {job_id} has no error: it is {}\n", job.phase.as_str())),
        },
        other => HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body(format!("a job has no resource {other}\n")),
    }
}

/// POST /tap/async/{id}/{attribute}: phase (RUN, ABORT), executionduration, destruction,
/// parameters.
pub async fn set_attribute(state: State, request: HttpRequest, path: web::Path<(String, String)>, body: web::Bytes) -> HttpResponse {
    let (job_id, attribute) = path.into_inner();
    let params = match Params::from_request(&request, &body) {
        Ok(p) => p,
        Err(e) => return bad_request(e.0),
    };
    let job = match load(&state, &job_id).await {
        Ok(j) => j,
        Err(response) => return response,
    };
    let url = job_url(&state, &job_id);
    let limits = &state.config.limits;
    let result = match attribute.as_str() {
        "phase" => match params.get("PHASE").map(|p| p.trim().to_ascii_uppercase()) {
            Some(p) if p == "RUN" => {
                let moved = state.jobs.transition(&job_id, &[Phase::Pending], Phase::Queued).await;
                state.job_signal.notify_one();
                moved.map(|_| ())
            }
            Some(p) if p == "ABORT" => state.jobs.transition(&job_id, &[Phase::Pending, Phase::Queued, Phase::Executing], Phase::Aborted).await.map(|_| ()),
            Some(p) => return bad_request(format!("PHASE={p} is not an action: use PHASE=RUN or PHASE=ABORT")),
            None => return bad_request("give PHASE=RUN or PHASE=ABORT"),
        },
        "executionduration" => {
            let Some(value) = params.get("EXECUTIONDURATION") else { return bad_request("give EXECUTIONDURATION=seconds") };
            match value.trim().parse::<i64>() {
                Ok(n) if n > 0 => state.jobs.set_execution_duration(&job_id, n.min(limits.execution_duration_max_s as i64) as i32).await,
                _ => return bad_request(format!("EXECUTIONDURATION={value} is not a positive number of seconds")),
            }
        }
        "destruction" => {
            let Some(value) = params.get("DESTRUCTION") else { return bad_request("give DESTRUCTION=ISO 8601 date") };
            let latest = job.creation_time + chrono::Duration::days(limits.destruction_days as i64);
            match uws::parse_iso8601(value) {
                Some(t) => state.jobs.set_destruction(&job_id, t.min(latest)).await,
                None => return bad_request(format!("DESTRUCTION={value} is not an ISO 8601 date")),
            }
        }
        "parameters" => {
            if job.phase != Phase::Pending {
                return bad_request(format!("job {job_id} is {}: parameters can change only while it is PENDING", job.phase.as_str()));
            }
            let mut updates = Vec::new();
            for (name, value) in params.pairs() {
                if name.eq_ignore_ascii_case("RUNID") {
                    if let Err(e) = state.jobs.set_run_id(&job_id, value).await {
                        return service_error(e);
                    }
                } else {
                    updates.push((name.clone(), value.clone()));
                }
            }
            state.jobs.update_parameters(&job_id, &updates).await.map(|_| ())
        }
        other => return HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body(format!("a job has no resource {other} to change\n")),
    };
    match result {
        Ok(()) => see_other(&url),
        Err(e) => service_error(e),
    }
}

/// GET /tap/async/{id}/results/result: the stored result document, streamed.
pub async fn result(state: State, path: web::Path<String>) -> HttpResponse {
    let job_id = path.into_inner();
    let job = match load(&state, &job_id).await {
        Ok(j) => j,
        Err(response) => return response,
    };
    match (job.phase, &job.result) {
        (Phase::Completed, Some(info)) => match state.jobs.read_result(&job_id).await {
            Ok(stream) => HttpResponse::Ok().content_type(info.mime_type.clone()).streaming(stream),
            Err(e) => service_error(e),
        },
        (phase, _) => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body(format!("job {job_id} has no result: it is {}\n", phase.as_str())),
    }
}

/// The query parameters of a job as a checked TAP request.
pub fn query_request(job: &Job, state: &crate::service::AppState) -> Result<QueryRequest, String> {
    let params = Params::from_pairs(job.parameters.clone());
    let mut request = QueryRequest::from_params(&params, &state.config.limits).map_err(|e| e.0)?;
    request.runid = job.run_id.clone();
    Ok(request)
}
