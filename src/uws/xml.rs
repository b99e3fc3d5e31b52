//! UWS 1.1 documents (section 3, UWS.xsd): the job, the job list, parameters, results. Result
//! hrefs are absolute and the TAP result has id "result" (TAP 1.1 section 2.3.2;
//! VO-INTEROP mistake 1).

use super::{iso8601, Job, Phase};
use crate::xml::escape;

const NAMESPACES: &str = "xmlns:uws=\"http://www.ivoa.net/xml/UWS/v1.0\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
     xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";

fn optional_time(out: &mut String, tag: &str, time: Option<&chrono::DateTime<chrono::Utc>>) {
    match time {
        Some(t) => out.push_str(&format!("  <uws:{tag}>{}</uws:{tag}>\n", iso8601(t))),
        None => out.push_str(&format!("  <uws:{tag} xsi:nil=\"true\"/>\n")),
    }
}

/// The job document (GET /async/{id}). `job_url` is the job's absolute URL.
pub fn job_document(job: &Job, job_url: &str) -> String {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<uws:job {NAMESPACES} version=\"1.1\">\n");
    out.push_str(&format!("  <uws:jobId>{}</uws:jobId>\n", escape(&job.job_id)));
    if let Some(run_id) = &job.run_id {
        out.push_str(&format!("  <uws:runId>{}</uws:runId>\n", escape(run_id)));
    }
    match &job.owner_id {
        Some(owner) => out.push_str(&format!("  <uws:ownerId>{}</uws:ownerId>\n", escape(owner))),
        None => out.push_str("  <uws:ownerId xsi:nil=\"true\"/>\n"),
    }
    out.push_str(&format!("  <uws:phase>{}</uws:phase>\n", job.phase.as_str()));
    out.push_str("  <uws:quote xsi:nil=\"true\"/>\n");
    out.push_str(&format!("  <uws:creationTime>{}</uws:creationTime>\n", iso8601(&job.creation_time)));
    optional_time(&mut out, "startTime", job.start_time.as_ref());
    optional_time(&mut out, "endTime", job.end_time.as_ref());
    out.push_str(&format!("  <uws:executionDuration>{}</uws:executionDuration>\n", job.execution_duration));
    out.push_str(&format!("  <uws:destruction>{}</uws:destruction>\n", iso8601(&job.destruction)));
    out.push_str(&parameters_element(job));
    out.push_str(&results_element(job, job_url));
    if let (Phase::Error, Some(error)) = (job.phase, &job.error) {
        out.push_str(&format!(
            "  <uws:errorSummary type=\"{}\" hasDetail=\"true\">\n    <uws:message>{}</uws:message>\n  </uws:errorSummary>\n",
            if error.fatal { "fatal" } else { "transient" },
            escape(&error.message)
        ));
    }
    out.push_str("</uws:job>\n");
    out
}

fn parameters_element(job: &Job) -> String {
    let mut out = String::from("  <uws:parameters>\n");
    for (name, value) in &job.parameters {
        out.push_str(&format!("    <uws:parameter id=\"{}\">{}</uws:parameter>\n", escape(name), escape(value)));
    }
    out.push_str("  </uws:parameters>\n");
    out
}

fn results_element(job: &Job, job_url: &str) -> String {
    let mut out = String::from("  <uws:results>\n");
    if let (Phase::Completed, Some(result)) = (job.phase, &job.result) {
        out.push_str(&format!(
            "    <uws:result id=\"result\" xlink:type=\"simple\" xlink:href=\"{}/results/result\" mime-type=\"{}\" size=\"{}\"/>\n",
            escape(job_url),
            escape(&result.mime_type),
            result.bytes
        ));
    }
    out.push_str("  </uws:results>\n");
    out
}

/// GET /async/{id}/parameters
pub fn parameters_document(job: &Job) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        parameters_element(job).trim_start().replacen("<uws:parameters>", &format!("<uws:parameters {NAMESPACES}>"), 1)
    )
}

/// GET /async/{id}/results
pub fn results_document(job: &Job, job_url: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        results_element(job, job_url).trim_start().replacen("<uws:results>", &format!("<uws:results {NAMESPACES}>"), 1)
    )
}

/// GET /async: the job list. `list_url` is the absolute URL of the list.
pub fn job_list_document(jobs: &[Job], list_url: &str) -> String {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<uws:jobs {NAMESPACES} version=\"1.1\">\n");
    for job in jobs {
        out.push_str(&format!(
            "  <uws:jobref id=\"{}\" xlink:type=\"simple\" xlink:href=\"{}/{}\">\n    <uws:phase>{}</uws:phase>\n",
            escape(&job.job_id),
            escape(list_url),
            escape(&job.job_id),
            job.phase.as_str()
        ));
        if let Some(run_id) = &job.run_id {
            out.push_str(&format!("    <uws:runId>{}</uws:runId>\n", escape(run_id)));
        }
        out.push_str("    <uws:ownerId xsi:nil=\"true\"/>\n");
        out.push_str(&format!("    <uws:creationTime>{}</uws:creationTime>\n  </uws:jobref>\n", iso8601(&job.creation_time)));
    }
    out.push_str("</uws:jobs>\n");
    out
}
