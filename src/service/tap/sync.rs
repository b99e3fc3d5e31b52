//! /tap/sync (TAP 1.1 section 2.3.1): run the query and stream the result in the response.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::params::read_request;
use super::upload::load;
use super::run::{self, ExecError};
use super::{dali_error, QueryRequest};
use crate::service::State;

pub async fn sync(state: State, request: HttpRequest, payload: web::Payload) -> HttpResponse {
    let limits = &state.config.limits;
    let params = match read_request(&request, payload, limits.request_max_bytes, limits.upload_max_bytes + limits.request_max_bytes).await {
        Ok(p) => p,
        Err(e) => return dali_error(StatusCode::BAD_REQUEST, &e.0),
    };
    let query = match QueryRequest::from_params(&params, &state.config.limits) {
        Ok(q) => q,
        Err(e) => return dali_error(StatusCode::BAD_REQUEST, &e.0),
    };
    let timeout = Duration::from_secs(state.config.limits.execution_duration_default_s);
    let uploads = match load(&state.admin_pool, &query.uploads, params.parts(), &state.config.limits).await {
        Ok(u) => u,
        Err(message) => return dali_error(StatusCode::BAD_REQUEST, &message),
    };
    let execution = match query.execution(&state, timeout, uploads).await {
        Ok(e) => e,
        Err(message) => return dali_error(StatusCode::BAD_REQUEST, &message),
    };
    match run::start(&state.query_pool, execution).await {
        Ok(started) => HttpResponse::Ok().content_type(query.format.mime_type()).streaming(started.body),
        Err(ExecError::Query(message)) => dali_error(StatusCode::BAD_REQUEST, &message),
        Err(ExecError::Service(message)) => dali_error(StatusCode::SERVICE_UNAVAILABLE, &message),
    }
}
