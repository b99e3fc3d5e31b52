//! The parameters of a TAP query (TAP 1.1 section 2.3), checked: LANG, QUERY, MAXREC,
//! RESPONSEFORMAT / FORMAT, RUNID, REQUEST.

use std::time::Duration;

use super::params::{ParamError, Params};
use super::run::Execution;
use super::upload::{parse_upload_param, LoadedUploads, UploadSpec};
use crate::adql::{compile, Context, Options, Version};
use crate::config::LimitsConfig;
use crate::service::AppState;
use crate::votable::{DocumentInfo, Format};

/// A checked query request.
#[derive(Debug, Clone)]
pub struct QueryRequest {
    pub version: Version,
    pub query: String,
    pub maxrec: u64,
    pub format: Format,
    pub runid: Option<String>,
    /// UPLOAD=name,param:part tables.
    pub uploads: Vec<UploadSpec>,
}

impl QueryRequest {
    pub fn from_params(params: &Params, limits: &LimitsConfig) -> Result<QueryRequest, ParamError> {
        // TAP 1.1 dropped REQUEST; clients of TAP 1.0 still send REQUEST=doQuery.
        if let Some(request) = params.get("REQUEST") {
            if !request.trim().eq_ignore_ascii_case("doQuery") {
                return Err(ParamError(format!("REQUEST={request} is not supported; this service answers queries (REQUEST=doQuery)")));
            }
        }
        let lang = params.get("LANG").ok_or_else(|| ParamError("missing LANG: use LANG=ADQL".into()))?;
        let version = Version::from_lang(lang)
            .ok_or_else(|| ParamError(format!("LANG={lang} is not supported: use ADQL, ADQL-2.0 or ADQL-2.1")))?;
        let query = params.get("QUERY").filter(|q| !q.trim().is_empty()).ok_or_else(|| ParamError("missing QUERY: give the ADQL query to run".into()))?;
        let maxrec = match params.get("MAXREC") {
            None => limits.maxrec_default,
            Some(text) => text
                .trim()
                .parse::<u64>()
                .map_err(|_| ParamError(format!("MAXREC={text} is not a non-negative integer")))?,
        }
        .min(limits.maxrec_hard);
        // RESPONSEFORMAT (DALI) wins over FORMAT (TAP 1.0 name, still accepted).
        let format = match params.get("RESPONSEFORMAT").or_else(|| params.get("FORMAT")) {
            None => Format::VotableTabledata,
            Some(text) => Format::from_param(text).ok_or_else(|| {
                ParamError(format!(
                    "RESPONSEFORMAT={text} is not supported; use one of: {}",
                    Format::ALL.iter().flat_map(|f| f.names().iter().copied()).collect::<Vec<_>>().join(", ")
                ))
            })?,
        };
        let uploads = match params.get("UPLOAD") {
            Some(value) => parse_upload_param(value)?,
            None => Vec::new(),
        };
        Ok(QueryRequest { version, query: query.to_string(), maxrec, format, runid: params.get("RUNID").map(str::to_string), uploads })
    }
}

impl QueryRequest {
    /// Checks and translates the query for running with the given execution duration; the
    /// error is the message for the user (ADQL syntax or semantics).
    /// The uploads, loaded, are dropped when the execution ends (or here, on an error).
    pub async fn execution(&self, state: &AppState, timeout: Duration, uploads: LoadedUploads) -> Result<Execution, String> {
        let context = Context { catalog: &state.catalog, uploads: &uploads.tables, functions: &state.functions };
        // One row more than MAXREC: its presence tells an overflow from an exact fit.
        let options = Options { row_limit: Some(self.maxrec.saturating_add(1)) };
        let compiled = match compile(&self.query, self.version, &context, &options) {
            Ok(c) => c,
            Err(e) => {
                uploads.drop_schema(&state.admin_pool).await;
                return Err(e.to_string());
            }
        };
        let mut info = DocumentInfo { query: Some(self.query.clone()), infos: Vec::new(), table_name: Some("result".into()) };
        info.infos.push(("service_version".into(), format!("dfbs-vo {}", crate::VERSION)));
        if let Some(runid) = &self.runid {
            info.infos.push(("RUNID".into(), runid.clone()));
        }
        Ok(Execution {
            sql: compiled.sql,
            columns: compiled.columns,
            maxrec: self.maxrec,
            format: self.format,
            info,
            timeout,
            uploads: Some((uploads, state.admin_pool.clone())),
        })
    }
}
