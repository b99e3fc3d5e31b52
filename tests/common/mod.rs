//! Test support: one private PostgreSQL cluster per test binary, a fresh database per test,
//! and a tiny HTTP client. The cluster lives in a temporary directory and a watchdog stops
//! it and removes the directory once the test process has exited, so no server outlives
//! the tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use std::sync::OnceLock;

use dfbs_vo::catalog::Catalog;
use dfbs_vo::config::Config;
use dfbs_vo::db::{Database, PrivateCluster, ADMIN_USER};

pub fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn catalog() -> Catalog {
    Catalog::load_dir(&project_dir().join("tap")).expect("tap/ loads")
}

/// The cluster shared by the tests of this binary, started on first use.
pub fn cluster() -> &'static PrivateCluster {
    static CLUSTER: OnceLock<PrivateCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("dfbs-vo-test-{}", std::process::id()));
        let cluster = PrivateCluster::new(&root, 5432, None).expect("PostgreSQL is installed (scripts/install.sh)");
        cluster.start().expect("the test cluster starts");
        spawn_watchdog(cluster.root());
        cluster
    })
}

/// Stops the cluster under `root` (SIGINT to the postmaster: fast shutdown) and removes it
/// once this process is gone.
fn spawn_watchdog(root: &Path) {
    let script = r#"while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
pid=$(head -n1 "$2/data/postmaster.pid" 2>/dev/null)
[ -n "$pid" ] && kill -INT "$pid" 2>/dev/null
i=0; while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
rm -rf "$2""#;
    Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .arg("watchdog")
        .arg(std::process::id().to_string())
        .arg(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the watchdog starts");
}

/// Configuration pointing at database `dbname` of the test cluster.
pub fn config_for(dbname: &str) -> Config {
    let url = cluster().connection_params(ADMIN_USER, dbname);
    Config::load_with_env(&project_dir(), &[("DATABASE_URL".into(), url)]).expect("config loads")
}

/// A new, empty database on the test cluster (dropped first if a previous run left it).
pub async fn fresh_database(dbname: &str) -> Database {
    let admin = dfbs_vo::db::connect(
        &cluster().connection_params(ADMIN_USER, "postgres").parse().expect("params parse"),
    )
    .await
    .expect("connects to the test cluster");
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")).await.expect("drop");
    admin.batch_execute(&format!("CREATE DATABASE {dbname} TEMPLATE template0")).await.expect("create");
    Database::from_config(&config_for(dbname)).expect("database config")
}

/// A migrated and published catalogue database.
pub async fn catalogue_database(dbname: &str) -> Database {
    let database = fresh_database(dbname).await;
    database
        .migrate_and_publish(&project_dir().join("schema"), &catalog())
        .await
        .expect("migrations apply");
    database
}

pub struct HttpResponse {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// Splits a raw HTTP/1.1 response, de-chunking a chunked body.
fn parse_response(raw: &[u8]) -> HttpResponse {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4).unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let (status_line, headers) = head.trim_end().split_once("\r\n").unwrap_or((head.trim_end(), ""));
    let status = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut body = raw[split..].to_vec();
    let chunked = headers.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.to_ascii_lowercase().contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest: &[u8] = &body;
        while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..line_end]).trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            let start = line_end + 2;
            out.extend_from_slice(&rest[start..(start + size).min(rest.len())]);
            rest = &rest[(start + size + 2).min(rest.len())..];
        }
        body = out;
    }
    HttpResponse { status, headers: headers.to_string(), body: String::from_utf8_lossy(&body).into_owned() }
}

/// A plain HTTP/1.1 GET with Connection: close (enough for testing our own server without a
/// client library).
pub fn http_get(address: &str, path: &str) -> std::io::Result<HttpResponse> {
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    Ok(parse_response(&raw))
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Validates `document` with xmllint against `schema` from tests/data/xsd (offline catalog).
pub fn xmllint_validate(document: &str, schema: &str) -> Result<(), String> {
    let xsd = project_dir().join("tests/data/xsd");
    let file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    std::fs::write(file.path(), document).map_err(|e| e.to_string())?;
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(xsd.join(schema))
        .arg(file.path())
        .env("XML_CATALOG_FILES", xsd.join("catalog.xml"))
        .output()
        .map_err(|e| format!("cannot run xmllint (apt-get install libxml2-utils): {e}"))?;
    if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).into_owned()) }
}

/// The dfbs-vo binary with the test project directory and a private data directory.
pub fn dfbs_vo(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dfbs-vo"));
    command
        .arg("--project-dir")
        .arg(project_dir())
        .env("DFBS__DATABASE__DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn");
    command
}

/// A running `dfbs-vo serve` on a free loopback port.
pub struct Server {
    pub child: Child,
    pub address: String,
}

impl Server {
    pub fn start(data_dir: &Path) -> Server {
        Server::start_at(data_dir, &format!("127.0.0.1:{}", free_port()))
    }

    /// A server on a given address (to restart one where clients expect it).
    pub fn start_at(data_dir: &Path, address: &str) -> Server {
        let address = address.to_string();
        let child = dfbs_vo(data_dir)
            .args(["serve", "--listen", &address])
            .env("DFBS__SERVICE__BASE_URL", format!("http://{address}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        // Servers kept in statics are never dropped: when this test process exits, stop the
        // server (SIGTERM: it stops the cluster it started), then remove its data directory.
        let script = r#"while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
kill -TERM "$2" 2>/dev/null
i=0; while kill -0 "$2" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
kill -KILL "$2" 2>/dev/null
rm -rf "$3"; rmdir "$(dirname "$3")" 2>/dev/null"#;
        Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .arg("watchdog")
            .arg(std::process::id().to_string())
            .arg(child.id().to_string())
            .arg(data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server watchdog starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if http_get(&address, "/tap/availability").is_ok() {
                return Server { child, address };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the server did not answer on {address} within 30 s");
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        // SAFETY: kill with a valid pid of our own child and a valid signal number.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not stop within 30 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}


/// Percent-encodes a query-string value.
pub use dfbs_vo::db::percent_encode as url_encode;

/// A plain HTTP/1.1 POST of a form.
pub fn http_post_form(address: &str, path: &str, form: &[(&str, &str)]) -> std::io::Result<HttpResponse> {
    let body: Vec<String> = form.iter().map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v))).collect();
    let body = body.join("&");
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    Ok(parse_response(&raw))
}

/// Runs SQL on the private cluster of a running test server (as its administrator).
pub fn psql(data_dir: &Path, sql: &str) {
    let out = dfbs_vo(data_dir).args(["db", "psql", "-v", "ON_ERROR_STOP=1", "-qc", sql]).output().expect("psql runs");
    assert!(out.status.success(), "psql failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A temporary directory for a server's data. Made traversable (0755): as root the cluster
/// runs as `dfbsvo`, which must reach it; a private (0700) temporary directory would make the
/// cluster live in /var/lib/dfbs-vo instead, outside what the test removes.
pub fn test_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}
