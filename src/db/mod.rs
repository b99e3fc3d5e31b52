//! The database: the private cluster or an external server (DATABASE_URL), connections and
//! pools per role, migrations, and publishing the catalogue metadata (TAP_SCHEMA, grants).

mod cluster;
mod migrate;
mod publish;
mod verify;

use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use cluster::{find_bindir, percent_encode, ClusterState, PrivateCluster, ServiceUser, ADMIN_USER, DATABASE_NAME};
pub use migrate::{load_migrations, migrate, Migration, MigrationReport};
pub use publish::publish_catalog;
pub use verify::verify_catalog;

use crate::config::Config;

/// The role of the service's ADQL queries: read-only, SELECT on published columns only.
pub const QUERY_ROLE: &str = "dfbs_query";
/// The role of the pipeline's writes.
pub const INGEST_ROLE: &str = "dfbs_ingest";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Cluster(String),
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("PostgreSQL: {}", migrate::postgres_message(.0))]
    Postgres(tokio_postgres::Error),
    #[error("{0}")]
    Migration(String),
    #[error("the database and the table metadata in tap/ disagree:\n  - {}", .0.join("\n  - "))]
    Disagreement(Vec<String>),
    #[error("database configuration: {0}")]
    Config(String),
}

// Not `#[from]`: that would make the error its own source and print it twice in chains.
impl From<tokio_postgres::Error> for DbError {
    fn from(error: tokio_postgres::Error) -> DbError {
        DbError::Postgres(error)
    }
}

impl DbError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> DbError {
        DbError::Io { path: path.to_path_buf(), error: source }
    }
}

/// Where the catalogue lives.
#[derive(Debug, Clone)]
pub enum Target {
    /// The private cluster under the configured data directory.
    Private(PrivateCluster),
    /// An existing server (DATABASE_URL / database.url).
    External(tokio_postgres::Config),
}

/// The catalogue database as configured.
#[derive(Debug, Clone)]
pub struct Database {
    target: Target,
    role_password: String,
    pool_size: usize,
}

impl Database {
    pub fn from_config(config: &Config) -> Result<Database, DbError> {
        let target = if config.database.url.trim().is_empty() {
            let bindir = (!config.database.pg_bindir.is_empty()).then(|| PathBuf::from(&config.database.pg_bindir));
            let root = config.resolve(&config.database.data_dir);
            Target::Private(PrivateCluster::new(&root, config.database.port, bindir.as_deref())?)
        } else {
            let pg = tokio_postgres::Config::from_str(config.database.url.trim())
                .map_err(|e| DbError::Config(format!("DATABASE_URL / database.url is not a PostgreSQL URL: {e}")))?;
            Target::External(pg)
        };
        Ok(Database { target, role_password: config.database.role_password.clone(), pool_size: config.database.pool_size })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn private_cluster(&self) -> Option<&PrivateCluster> {
        match &self.target {
            Target::Private(cluster) => Some(cluster),
            Target::External(_) => None,
        }
    }

    /// Makes sure the server runs and the catalogue database exists. Returns whether this
    /// call started the private cluster (so the caller knows whether to stop it).
    pub async fn ensure_running(&self) -> Result<bool, DbError> {
        match &self.target {
            Target::External(_) => {
                self.connect_admin().await?;
                Ok(false)
            }
            Target::Private(cluster) => {
                // A cluster that is still shutting down (a previous instance stopping it) or
                // starting up answers 57P03 for a moment: wait and try again, starting it
                // anew if it has stopped meanwhile.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
                let mut started_here = false;
                loop {
                    let c = cluster.clone();
                    started_here |= tokio::task::spawn_blocking(move || c.start())
                        .await
                        .map_err(|e| DbError::Cluster(e.to_string()))??;
                    match self.create_database_if_missing(cluster).await {
                        Err(DbError::Postgres(e))
                            if e.code().is_some_and(|c| c.code() == "57P03") && std::time::Instant::now() < deadline =>
                        {
                            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                        }
                        Err(e) => return Err(e),
                        Ok(()) => return Ok(started_here),
                    }
                }
            }
        }
    }

    async fn create_database_if_missing(&self, cluster: &PrivateCluster) -> Result<(), DbError> {
        let pg = tokio_postgres::Config::from_str(&cluster.connection_params(ADMIN_USER, "postgres"))?;
        let client = connect(&pg).await?;
        let exists = client.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&DATABASE_NAME]).await?;
        if exists.is_none() {
            client.batch_execute(&format!("CREATE DATABASE {DATABASE_NAME} TEMPLATE template0 ENCODING 'UTF8'")).await?;
        }
        Ok(())
    }

    /// Connection parameters of the owner/administrator.
    pub fn admin_config(&self) -> tokio_postgres::Config {
        match &self.target {
            Target::External(pg) => pg.clone(),
            Target::Private(cluster) => tokio_postgres::Config::from_str(&cluster.connection_params(ADMIN_USER, DATABASE_NAME))
                .expect("connection parameters built from a path and fixed names always parse"),
        }
    }

    /// Connection parameters for one of the service roles (QUERY_ROLE, INGEST_ROLE).
    pub fn role_config(&self, role: &str) -> tokio_postgres::Config {
        let mut pg = self.admin_config();
        pg.user(role);
        if !self.role_password.is_empty() {
            pg.password(self.role_password.clone());
        }
        pg
    }

    /// The admin connection URL (for `dfbs-vo db url` and psql).
    pub fn admin_url(&self) -> String {
        match &self.target {
            Target::Private(cluster) => cluster.url(ADMIN_USER, DATABASE_NAME),
            Target::External(pg) => describe(pg),
        }
    }

    pub async fn connect_admin(&self) -> Result<tokio_postgres::Client, DbError> {
        connect(&self.admin_config()).await
    }

    pub async fn connect_as(&self, role: &str) -> Result<tokio_postgres::Client, DbError> {
        connect(&self.role_config(role)).await
    }

    /// A connection pool for `role` (or the administrator when None).
    pub fn pool(&self, role: Option<&str>) -> Result<deadpool_postgres::Pool, DbError> {
        let pg = match role {
            Some(role) => self.role_config(role),
            None => self.admin_config(),
        };
        let manager = deadpool_postgres::Manager::from_config(
            pg,
            tokio_postgres::NoTls,
            deadpool_postgres::ManagerConfig { recycling_method: deadpool_postgres::RecyclingMethod::Fast },
        );
        deadpool_postgres::Pool::builder(manager)
            .max_size(self.pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Config(e.to_string()))
    }

    /// Applies the migrations of `schema_dir` and publishes `catalog` (TAP_SCHEMA, grants),
    /// refusing a catalogue that disagrees with the database.
    pub async fn migrate_and_publish(
        &self,
        schema_dir: &Path,
        catalog: &crate::catalog::Catalog,
    ) -> Result<MigrationReport, DbError> {
        let migrations = load_migrations(schema_dir)?;
        let mut client = self.connect_admin().await?;
        let report = migrate(&mut client, &migrations).await?;
        publish_catalog(&mut client, catalog).await?;
        if !self.role_password.is_empty() {
            // Servers that authenticate TCP clients by password (e.g. the PostgreSQL image of
            // compose.yaml) need one for the service roles too.
            for role in [QUERY_ROLE, INGEST_ROLE] {
                client
                    .batch_execute(&format!("ALTER ROLE {} PASSWORD {}", quote_ident(role), quote_literal(&self.role_password)))
                    .await?;
            }
        }
        Ok(report)
    }
}

/// Connects and drives the connection on the tokio runtime.
pub async fn connect(pg: &tokio_postgres::Config) -> Result<tokio_postgres::Client, DbError> {
    let (client, connection) = pg.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "database connection closed");
        }
    });
    Ok(client)
}

/// A URL for an external server, without its password.
fn describe(pg: &tokio_postgres::Config) -> String {
    let host = pg
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_default();
    let port = pg.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgresql://{}@{}:{}/{}",
        pg.get_user().unwrap_or(""),
        host,
        port,
        pg.get_dbname().unwrap_or("")
    )
}

/// Quotes an SQL string literal (standard_conforming_strings: quotes doubled, backslashes
/// literal).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Quotes an SQL identifier (PostgreSQL rules: double quotes, doubled inside).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
