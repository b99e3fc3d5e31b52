//! TAP /async (UWS 1.1) over HTTP: the job lifecycle, abort, destruction, and durability
//! when the server is killed with SIGKILL in the middle of a job.

mod common;

use std::time::{Duration, Instant};

use common::*;

const FIXTURE: &str = "INSERT INTO dfbs.plates (plateid) VALUES ('fbs0001');
     INSERT INTO dfbs.spectra (specid, objectid, plate, ra, dec, magb)
       SELECT 'fbs0001-' || i, 'o' || i, 'fbs0001', (i % 360)::float8, 0, 15 FROM generate_series(1, 3000) AS i;";

/// A query that runs for minutes: a triple cross join.
const SLOW: &str = "SELECT COUNT(*) AS n FROM dfbs.spectra AS a, dfbs.spectra AS b, dfbs.spectra AS c WHERE a.magb + b.magb + c.magb > 0";

fn location(response: &HttpResponse) -> String {
    response.header("location").unwrap_or_default().to_string()
}

fn path_of(url: &str) -> String {
    let without_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    without_scheme.find('/').map(|i| without_scheme[i..].to_string()).unwrap_or_default()
}

fn create(address: &str, query: &str, run: bool) -> String {
    let mut form = vec![("LANG", "ADQL"), ("QUERY", query), ("RUNID", "test-run")];
    if run {
        form.push(("PHASE", "RUN"));
    }
    let r = http_post_form(address, "/tap/async", &form).unwrap();
    assert_eq!(r.status, 303, "{}", r.body);
    let url = location(&r);
    assert!(url.starts_with(&format!("http://{address}/tap/async/")), "{url}");
    path_of(&url)
}

fn phase(address: &str, job: &str) -> String {
    http_get(address, &format!("{job}/phase")).unwrap().body.trim().to_string()
}

fn wait_for(address: &str, job: &str, wanted: &[&str], limit: Duration) -> String {
    let started = Instant::now();
    loop {
        let p = phase(address, job);
        if wanted.contains(&p.as_str()) || started.elapsed() > limit {
            return p;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn job_lifecycle_documents_and_results() {
    let dir = test_dir();
    let data = dir.path().join("pg");
    let server = Server::start(&data);
    psql(&data, FIXTURE);
    let address = server.address.clone();

    let job = create(&address, "SELECT TOP 5 specid, ra FROM dfbs.spectra ORDER BY specid", false);
    assert_eq!(phase(&address, &job), "PENDING");
    let document = http_get(&address, &job).unwrap();
    assert!(document.header("content-type").unwrap_or_default().starts_with("text/xml"));
    xmllint_validate(&document.body, "UWS.xsd").expect("job document is UWS-valid");
    assert!(document.body.contains("<uws:runId>test-run</uws:runId>"));
    assert!(document.body.contains("<uws:parameter id=\"QUERY\">"));
    // Resources agree with the document.
    let destruction = http_get(&address, &format!("{job}/destruction")).unwrap().body;
    assert!(document.body.contains(&format!("<uws:destruction>{}</uws:destruction>", destruction.trim())));
    let duration = http_get(&address, &format!("{job}/executionduration")).unwrap().body;
    assert!(document.body.contains(&format!("<uws:executionDuration>{}</uws:executionDuration>", duration.trim())));
    // Parameters can change while PENDING.
    let r = http_post_form(&address, &format!("{job}/parameters"), &[("MAXREC", "3")]).unwrap();
    assert_eq!(r.status, 303);
    let r = http_post_form(&address, &format!("{job}/phase"), &[("PHASE", "RUN")]).unwrap();
    assert_eq!(r.status, 303);
    // Blocking WAIT returns once the phase has moved on.
    let waited = http_get(&address, &format!("{job}?WAIT=30&PHASE=QUEUED")).unwrap();
    assert!(!waited.body.contains("<uws:phase>QUEUED</uws:phase>"));
    assert_eq!(wait_for(&address, &job, &["COMPLETED", "ERROR"], Duration::from_secs(30)), "COMPLETED");
    let document = http_get(&address, &job).unwrap().body;
    xmllint_validate(&document, "UWS.xsd").unwrap();
    assert!(document.contains(&format!("xlink:href=\"http://{address}{job}/results/result\"")), "{document}");
    let result = http_get(&address, &format!("{job}/results/result")).unwrap();
    assert_eq!(result.status, 200);
    assert_eq!(result.body.matches("<TR>").count(), 3, "MAXREC=3 set while pending");
    assert!(result.body.contains("OVERFLOW"));
    let results = http_get(&address, &format!("{job}/results")).unwrap().body;
    xmllint_validate(&results, "UWS.xsd").unwrap();

    // A bad query is accepted as a job and ends in ERROR with the message.
    let bad = create(&address, "SELECT mgb FROM dfbs.spectra", true);
    assert_eq!(wait_for(&address, &bad, &["COMPLETED", "ERROR"], Duration::from_secs(30)), "ERROR");
    let error = http_get(&address, &format!("{bad}/error")).unwrap();
    assert!(error.body.contains("did you mean magb"), "{}", error.body);
    let document = http_get(&address, &bad).unwrap().body;
    assert!(document.contains("<uws:errorSummary type=\"fatal\" hasDetail=\"true\">"));
    xmllint_validate(&document, "UWS.xsd").unwrap();

    // The job list, with filters.
    let list = http_get(&address, "/tap/async").unwrap().body;
    xmllint_validate(&list, "UWS.xsd").unwrap();
    assert!(list.contains(job.rsplit('/').next().unwrap()));
    let errors = http_get(&address, "/tap/async?PHASE=ERROR").unwrap().body;
    assert!(errors.contains(bad.rsplit('/').next().unwrap()) && !errors.contains(job.rsplit('/').next().unwrap()));
    assert_eq!(http_get(&address, "/tap/async?LAST=1").unwrap().body.matches("<uws:jobref").count(), 1);

    // DELETE, and POST ACTION=DELETE: 303 to a short listing, then the job is gone.
    let r = http_post_form(&address, &bad, &[("ACTION", "DELETE")]).unwrap();
    assert_eq!(r.status, 303);
    assert!(location(&r).contains("/tap/async"));
    assert_eq!(http_get(&address, &bad).unwrap().status, 404);
    server.terminate();
}

#[test]
fn abort_cancels_the_running_query() {
    let dir = test_dir();
    let data = dir.path().join("pg");
    let server = Server::start(&data);
    psql(&data, FIXTURE);
    let address = server.address.clone();
    let job = create(&address, SLOW, true);
    assert_eq!(wait_for(&address, &job, &["EXECUTING"], Duration::from_secs(20)), "EXECUTING");
    let r = http_post_form(&address, &format!("{job}/phase"), &[("PHASE", "ABORT")]).unwrap();
    assert_eq!(r.status, 303);
    assert_eq!(phase(&address, &job), "ABORTED");
    // The query stops in the database within a few seconds.
    let started = Instant::now();
    loop {
        let out = dfbs_vo(&data)
            .args(["db", "psql", "-tAc", "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%COUNT(%' AND usename = 'dfbs_query'"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&out.stdout).trim() == "0" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the aborted query is still running");
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(phase(&address, &job), "ABORTED");
    server.terminate();
}

#[test]
fn expired_jobs_are_destroyed() {
    let dir = test_dir();
    let data = dir.path().join("pg");
    let server = Server::start(&data);
    let address = server.address.clone();
    let job = create(&address, "SELECT TOP 1 plateid FROM dfbs.plates", false);
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let r = http_post_form(&address, &format!("{job}/destruction"), &[("DESTRUCTION", &soon)]).unwrap();
    assert_eq!(r.status, 303);
    let started = Instant::now();
    while http_get(&address, &job).unwrap().status != 404 {
        assert!(started.elapsed() < Duration::from_secs(30), "the job outlived its destruction time");
        std::thread::sleep(Duration::from_millis(500));
    }
    server.terminate();
}

/// kill -9 the server while a job executes, start it again: the job ends in ERROR saying
/// why, and no job record is lost.
#[test]
fn a_killed_server_loses_no_job() {
    let dir = test_dir();
    let data = dir.path().join("pg");
    let mut server = Server::start(&data);
    psql(&data, FIXTURE);
    let address = server.address.clone();
    let done = create(&address, "SELECT TOP 1 specid FROM dfbs.spectra", true);
    assert_eq!(wait_for(&address, &done, &["COMPLETED"], Duration::from_secs(30)), "COMPLETED");
    let pending = create(&address, "SELECT TOP 1 specid FROM dfbs.spectra", false);
    let running = create(&address, SLOW, true);
    assert_eq!(wait_for(&address, &running, &["EXECUTING"], Duration::from_secs(20)), "EXECUTING");

    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();

    let restarted = Server::start_at(&data, &address);
    let final_phase = wait_for(&address, &running, &["ERROR", "COMPLETED"], Duration::from_secs(60));
    assert_eq!(final_phase, "ERROR");
    let error = http_get(&address, &format!("{running}/error")).unwrap().body;
    assert!(error.contains("stopped while this job was executing"), "{error}");
    assert_eq!(phase(&address, &done), "COMPLETED");
    assert_eq!(phase(&address, &pending), "PENDING");
    assert_eq!(http_get(&address, &format!("{done}/results/result")).unwrap().status, 200);
    restarted.terminate();
    // The first server started the cluster and was killed: stop it here.
    assert!(dfbs_vo(&data).args(["db", "stop"]).status().unwrap().success());
}
