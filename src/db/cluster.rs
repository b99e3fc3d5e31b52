//! The private PostgreSQL cluster: created with initdb and run with pg_ctl under a data
//! directory of the project's own, listening only on a Unix-domain socket in a directory that
//! only the cluster's user can open (mode 0700), so `trust` authentication is private to that
//! user (and root).
//!
//! PostgreSQL refuses to run as root. When dfbs-vo runs as root, the cluster runs as the
//! unprivileged system user `dfbsvo` (override with DFBS_PG_USER), created by
//! scripts/install.sh or, failing that, here with useradd; its files belong to that user.

use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::DbError;

/// The superuser of the private cluster (initdb -U).
pub const ADMIN_USER: &str = "dfbs_admin";
/// The catalogue database inside the cluster.
pub const DATABASE_NAME: &str = "dfbs";
/// Unix-domain socket paths are limited to 107 bytes (sun_path); ".s.PGSQL.NNNNN" needs 15.
const MAX_SOCKET_DIR_LEN: usize = 90;

/// The account the cluster runs as when dfbs-vo runs as root.
#[derive(Debug, Clone)]
pub struct ServiceUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterState {
    /// No cluster in the data directory yet.
    Uninitialised,
    Stopped,
    Running { pid: u32 },
}

#[derive(Debug, Clone)]
pub struct PrivateCluster {
    root: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    port: u16,
    bindir: PathBuf,
    owner: Option<ServiceUser>,
}

impl PrivateCluster {
    /// A cluster under `root` (its data in `root/data`, log in `root/postgres.log`).
    /// Nothing is created yet.
    pub fn new(root: &Path, port: u16, bindir: Option<&Path>) -> Result<PrivateCluster, DbError> {
        let bindir = match bindir {
            Some(dir) => dir.to_path_buf(),
            None => find_bindir()?,
        };
        let owner = if is_root() { Some(service_user()?) } else { None };
        let mut root = absolute(root);
        if let Some(user) = &owner {
            if !user_can_reach(user, &root) {
                // The user cannot traverse the parents of the data directory (e.g. under
                // /root, mode 0700): keep the cluster in a system location instead, a fixed
                // one per data directory so that it is found again next time.
                let fallback = Path::new("/var/lib/dfbs-vo").join(format!("pg-{:016x}", fnv1a(root.as_os_str().as_encoded_bytes())));
                tracing::info!(
                    data_dir = %root.display(),
                    actual = %fallback.display(),
                    "user {} cannot reach the data directory; the cluster lives in a system directory instead",
                    user.name
                );
                root = fallback;
            }
        }
        let pgdata = root.join("data");
        let log_file = root.join("postgres.log");
        let mut socket_dir = root.join("run");
        if socket_dir.as_os_str().len() > MAX_SOCKET_DIR_LEN {
            socket_dir = std::env::temp_dir().join(format!("dfbs-vo-{:016x}", fnv1a(root.as_os_str().as_encoded_bytes())));
        }
        Ok(PrivateCluster { root, pgdata, socket_dir, log_file, port, bindir, owner })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    pub fn owner(&self) -> Option<&ServiceUser> {
        self.owner.as_ref()
    }

    pub fn state(&self) -> ClusterState {
        if !self.pgdata.join("PG_VERSION").exists() {
            return ClusterState::Uninitialised;
        }
        // pg_ctl status: exit 0 when running, 3 when not (and it reads postmaster.pid
        // properly, stale files included).
        match self.pg_command("pg_ctl").arg("status").arg("-D").arg(&self.pgdata).output() {
            Ok(out) if out.status.success() => {
                let pid = std::fs::read_to_string(self.pgdata.join("postmaster.pid"))
                    .ok()
                    .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
                    .unwrap_or(0);
                ClusterState::Running { pid }
            }
            _ => ClusterState::Stopped,
        }
    }

    /// Runs initdb when the data directory holds no cluster yet. Returns whether it did.
    pub fn init(&self) -> Result<bool, DbError> {
        if self.pgdata.join("PG_VERSION").exists() {
            return Ok(false);
        }
        self.make_private_dir(&self.root)?;
        let out = self
            .pg_command("initdb")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-U", ADMIN_USER, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
            .arg("--no-instructions")
            .output()
            .map_err(|e| self.spawn_error("initdb", e))?;
        check_output("initdb", &out)?;
        let conf = self.pgdata.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).map_err(|e| DbError::io(&conf, e))?;
        text.push_str("\n# dfbs-vo: settings rewritten at every start\ninclude_if_exists = 'dfbs-vo.conf'\n");
        std::fs::write(&conf, text).map_err(|e| DbError::io(&conf, e))?;
        tracing::info!(pgdata = %self.pgdata.display(), "created the private PostgreSQL cluster");
        Ok(true)
    }

    /// Starts the cluster (initialising it first if needed). Returns whether it was started
    /// by this call (false: it was already running).
    pub fn start(&self) -> Result<bool, DbError> {
        self.init()?;
        if let ClusterState::Running { .. } = self.state() {
            return Ok(false);
        }
        self.make_private_dir(&self.socket_dir)?;
        self.write_settings()?;
        let out = self
            .pg_command("pg_ctl")
            .arg("start")
            .arg("-D")
            .arg(&self.pgdata)
            .arg("-l")
            .arg(&self.log_file)
            .args(["-w", "-t", "60", "-s"])
            .stdout(Stdio::null())
            .output()
            .map_err(|e| self.spawn_error("pg_ctl", e))?;
        if !out.status.success() {
            return Err(DbError::Cluster(format!(
                "PostgreSQL did not start ({}). Last lines of {}:\n{}",
                String::from_utf8_lossy(&out.stderr).trim(),
                self.log_file.display(),
                tail(&self.log_file, 15)
            )));
        }
        tracing::info!(socket = %self.socket_dir.display(), "started the private PostgreSQL cluster");
        Ok(true)
    }

    /// Stops the cluster, waiting until every server process has exited. Returns whether
    /// it was running.
    pub fn stop(&self) -> Result<bool, DbError> {
        if !matches!(self.state(), ClusterState::Running { .. }) {
            return Ok(false);
        }
        let out = self
            .pg_command("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-m", "fast", "-w", "-t", "60", "-s"])
            .output()
            .map_err(|e| self.spawn_error("pg_ctl", e))?;
        check_output("pg_ctl stop", &out)?;
        tracing::info!("stopped the private PostgreSQL cluster");
        Ok(true)
    }

    /// libpq key/value connection parameters for `user` on `dbname`.
    pub fn connection_params(&self, user: &str, dbname: &str) -> String {
        format!(
            "host='{}' port={} user={} dbname={}",
            self.socket_dir.display().to_string().replace('\\', "\\\\").replace('\'', "\\'"),
            self.port,
            user,
            dbname
        )
    }

    /// A postgresql:// URL (libpq and tokio-postgres both read it) for `user` on `dbname`.
    pub fn url(&self, user: &str, dbname: &str) -> String {
        format!(
            "postgresql://{user}@/{dbname}?host={}&port={}",
            percent_encode(&self.socket_dir.display().to_string()),
            self.port
        )
    }

    /// Settings that depend on where the cluster is now: written before every start.
    fn write_settings(&self) -> Result<(), DbError> {
        let socket = self.socket_dir.display().to_string().replace('\'', "''");
        let text = format!(
            "# Written by dfbs-vo at every start; edit config/default.toml instead.\n\
             listen_addresses = ''\n\
             unix_socket_directories = '{socket}'\n\
             unix_socket_permissions = 0700\n\
             port = {port}\n\
             timezone = 'UTC'\n\
             max_connections = 100\n\
             shared_buffers = '256MB'\n\
             work_mem = '32MB'\n\
             log_line_prefix = '%m [%p] %u@%d '\n",
            port = self.port
        );
        let path = self.pgdata.join("dfbs-vo.conf");
        std::fs::write(&path, text).map_err(|e| DbError::io(&path, e))?;
        self.give_to_owner(&path)
    }

    /// Creates `dir` (and parents) with mode 0700, owned by the cluster's user.
    fn make_private_dir(&self, dir: &Path) -> Result<(), DbError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            DbError::Cluster(format!(
                "cannot create the database directory {}: {e}. Set database.data_dir \
                 (DFBS__DATABASE__DATA_DIR) to a directory you may write, or DATABASE_URL to use an existing server",
                dir.display()
            ))
        })?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| DbError::io(dir, e))?;
        self.give_to_owner(dir)
    }

    fn give_to_owner(&self, path: &Path) -> Result<(), DbError> {
        if let Some(user) = &self.owner {
            std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)).map_err(|e| DbError::io(path, e))?;
        }
        Ok(())
    }

    /// A PostgreSQL program, run as the cluster's user, from a directory it can read.
    fn pg_command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bindir.join(program));
        command.stdin(Stdio::null()).env("LC_ALL", "C.UTF-8").env_remove("PGDATA");
        let cwd = if self.root.exists() { self.root.clone() } else { PathBuf::from("/") };
        command.current_dir(cwd);
        if let Some(user) = &self.owner {
            command.uid(user.uid).gid(user.gid).env("HOME", &self.root).env("USER", &user.name);
        }
        command
    }

    fn spawn_error(&self, program: &str, error: std::io::Error) -> DbError {
        DbError::Cluster(format!(
            "cannot run {}: {error}. Install PostgreSQL 15 (scripts/install.sh) or set database.pg_bindir",
            self.bindir.join(program).display()
        ))
    }
}

fn check_output(what: &str, out: &Output) -> Result<(), DbError> {
    if out.status.success() {
        Ok(())
    } else {
        Err(DbError::Cluster(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        )))
    }
}

/// Finds the PostgreSQL server programs: PostgreSQL 15 from Debian first, then any other
/// version under /usr/lib/postgresql, then `pg_config --bindir`.
pub fn find_bindir() -> Result<PathBuf, DbError> {
    let debian = Path::new("/usr/lib/postgresql");
    let mut candidates = vec![debian.join("15/bin")];
    if let Ok(entries) = std::fs::read_dir(debian) {
        let mut others: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).collect();
        others.sort();
        others.reverse();
        candidates.extend(others);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    candidates
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        .ok_or_else(|| {
            DbError::Cluster(
                "PostgreSQL server programs (initdb, pg_ctl) not found under /usr/lib/postgresql: \
                 run scripts/install.sh, set database.pg_bindir, or set DATABASE_URL to use an existing server"
                    .into(),
            )
        })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The unprivileged user that runs the cluster when we are root; created if missing.
fn service_user() -> Result<ServiceUser, DbError> {
    let name = std::env::var("DFBS_PG_USER").unwrap_or_else(|_| "dfbsvo".to_string());
    if let Some(user) = lookup_user(&name) {
        return Ok(user);
    }
    tracing::info!("creating system user {name} to run the private PostgreSQL cluster");
    let status = Command::new("useradd")
        .args(["--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin"])
        .arg(&name)
        .status();
    match (status, lookup_user(&name)) {
        (_, Some(user)) => Ok(user),
        (status, None) => Err(DbError::Cluster(format!(
            "PostgreSQL cannot run as root and the system user {name} does not exist ({status:?}): \
             run scripts/install.sh, or `useradd --system {name}`, or set DFBS_PG_USER to an unprivileged user"
        ))),
    }
}

fn lookup_user(name: &str) -> Option<ServiceUser> {
    let cname = CString::new(name).ok()?;
    // SAFETY: getpwnam returns a pointer to static storage or null; we copy out the ids
    // immediately and do not keep the pointer. dfbs-vo looks users up only from the main
    // thread during start-up.
    let entry = unsafe { libc::getpwnam(cname.as_ptr()) };
    if entry.is_null() {
        return None;
    }
    // SAFETY: non-null, points to a valid passwd record (see above).
    let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
    Some(ServiceUser { name: name.to_string(), uid, gid })
}

/// Whether `user` can create or enter `dir`: it must be able to traverse every existing
/// ancestor, and write to the nearest existing one if `dir` itself does not exist yet
/// (we chown what we create, so only traversal really matters).
fn user_can_reach(user: &ServiceUser, dir: &Path) -> bool {
    let existing = dir.ancestors().find(|p| p.exists()).unwrap_or(Path::new("/"));
    Command::new("/bin/sh")
        .arg("-c")
        .arg("cd \"$1\"")
        .arg("sh")
        .arg(existing)
        .current_dir("/")
        .uid(user.uid)
        .gid(user.gid)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    }
}

/// FNV-1a, 64 bit: a stable name for per-directory fallback locations.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// Percent-encodes everything but unreserved characters (RFC 3986 section 2.3).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_the_socket_directory() {
        assert_eq!(percent_encode("/a b/c"), "%2Fa%20b%2Fc");
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(fnv1a(b"/a"), fnv1a(b"/b"));
    }
}
