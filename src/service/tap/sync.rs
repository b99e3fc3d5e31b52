//! /tap/sync (TAP 1.1 section 2.3.1): run the query and stream the result in the response.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::params::Params;
use super::run::{self, ExecError, Execution};
use super::{dali_error, QueryRequest};
use crate::adql::{compile, AdqlError, Context, Options};
use crate::service::State;
use crate::votable::DocumentInfo;

pub async fn sync(state: State, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    let params = match Params::from_request(&request, &body) {
        Ok(p) => p,
        Err(e) => return dali_error(StatusCode::BAD_REQUEST, &e.0),
    };
    let query = match QueryRequest::from_params(&params, &state.config.limits) {
        Ok(q) => q,
        Err(e) => return dali_error(StatusCode::BAD_REQUEST, &e.0),
    };
    let context = Context { catalog: &state.catalog, uploads: &[], functions: &state.functions };
    let options = Options { row_limit: Some(query.maxrec.saturating_add(1)) };
    let compiled = match compile(&query.query, query.version, &context, &options) {
        Ok(c) => c,
        Err(e @ AdqlError::Parse(_)) | Err(e @ AdqlError::Compile(_)) => {
            return dali_error(StatusCode::BAD_REQUEST, &format!("{e}"));
        }
    };
    let mut info = DocumentInfo { query: Some(query.query.clone()), infos: Vec::new(), table_name: Some("result".into()) };
    info.infos.push(("service_version".into(), format!("dfbs-vo {}", crate::VERSION)));
    if let Some(runid) = &query.runid {
        info.infos.push(("RUNID".into(), runid.clone()));
    }
    let execution = Execution {
        sql: compiled.sql,
        columns: compiled.columns,
        maxrec: query.maxrec,
        format: query.format,
        info,
        timeout: Duration::from_secs(state.config.limits.execution_duration_default_s),
    };
    match run::start(&state.query_pool, execution).await {
        Ok(stream) => HttpResponse::Ok().content_type(query.format.mime_type()).streaming(stream),
        Err(ExecError::Query(message)) => dali_error(StatusCode::BAD_REQUEST, &message),
        Err(ExecError::Service(message)) => dali_error(StatusCode::SERVICE_UNAVAILABLE, &message),
    }
}
