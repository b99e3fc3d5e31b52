//! UWS 1.1 (IVOA Recommendation 2016-10-24): jobs kept in PostgreSQL. This module is the
//! generic part: the phases, the job store, the job documents; what a job does is the
//! caller's (TAP queries, see service::tap::jobs).

mod store;
mod xml;

pub use store::{JobStore, NewJob};
pub use xml::{job_document, job_list_document, parameters_document, results_document};

use chrono::{DateTime, Utc};

/// UWS 1.1 section 2.1.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Queued,
    Executing,
    Completed,
    Error,
    Aborted,
    Unknown,
    Held,
    Suspended,
    Archived,
}

impl Phase {
    pub const ALL: [Phase; 10] = [
        Phase::Pending,
        Phase::Queued,
        Phase::Executing,
        Phase::Completed,
        Phase::Error,
        Phase::Aborted,
        Phase::Unknown,
        Phase::Held,
        Phase::Suspended,
        Phase::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "PENDING",
            Phase::Queued => "QUEUED",
            Phase::Executing => "EXECUTING",
            Phase::Completed => "COMPLETED",
            Phase::Error => "ERROR",
            Phase::Aborted => "ABORTED",
            Phase::Unknown => "UNKNOWN",
            Phase::Held => "HELD",
            Phase::Suspended => "SUSPENDED",
            Phase::Archived => "ARCHIVED",
        }
    }

    pub fn parse(text: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// Phases a job can still leave on its own (UWS 1.1 section 2.2.1.1: WAIT blocks only in
    /// these).
    pub fn is_active(self) -> bool {
        matches!(self, Phase::Pending | Phase::Queued | Phase::Executing | Phase::Held | Phase::Suspended)
    }

    pub fn is_final(self) -> bool {
        matches!(self, Phase::Completed | Phase::Error | Phase::Aborted | Phase::Archived)
    }
}

/// A job as stored.
#[derive(Debug, Clone)]
pub struct Job {
    pub job_id: String,
    pub run_id: Option<String>,
    pub owner_id: Option<String>,
    pub phase: Phase,
    pub creation_time: DateTime<Utc>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    /// Seconds.
    pub execution_duration: i32,
    pub destruction: DateTime<Utc>,
    /// (name, value) as the client gave them.
    pub parameters: Vec<(String, String)>,
    pub error: Option<JobError>,
    pub result: Option<ResultInfo>,
}

impl Job {
    /// A parameter by name (case-insensitive, as DALI parameter names are).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// UWS errorSummary.
#[derive(Debug, Clone, PartialEq)]
pub struct JobError {
    pub fatal: bool,
    pub message: String,
}

/// The stored result of a completed job.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultInfo {
    pub mime_type: String,
    pub rows: i64,
    pub bytes: i64,
    pub overflow: bool,
}

/// ISO 8601 as UWS writes instants (UTC, seconds, 'Z').
pub fn iso8601(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Parses an ISO 8601 instant as clients send them for DESTRUCTION and AFTER: with a zone,
/// or without one (then UTC), with or without fractional seconds, or a date alone.
pub fn parse_iso8601(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_and_times() {
        assert_eq!(Phase::parse("executing"), Some(Phase::Executing));
        assert_eq!(Phase::parse("RUN"), None);
        assert!(Phase::Queued.is_active() && !Phase::Completed.is_active());
        let t = parse_iso8601("2026-11-22T10:00:00Z").unwrap();
        assert_eq!(iso8601(&t), "2026-11-22T10:00:00.000Z");
        assert_eq!(parse_iso8601("2026-11-22T10:00:00.5"), parse_iso8601("2026-11-22T10:00:00.500Z"));
        assert_eq!(parse_iso8601("2026-11-22"), parse_iso8601("2026-11-22T00:00:00Z"));
        assert!(parse_iso8601("tomorrow").is_none());
    }
}
