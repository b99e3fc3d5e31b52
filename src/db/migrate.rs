//! Schema migrations: the files `schema/NNN_name.sql`, applied in order, each once, each in
//! its own transaction, recorded with a checksum so that an edited migration is noticed.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::DbError;

#[derive(Debug, Clone)]
pub struct Migration {
    /// The numeric prefix, e.g. "001".
    pub version: String,
    pub name: String,
    pub sql: String,
    pub checksum: String,
}

#[derive(Debug, Clone, Default)]
pub struct MigrationReport {
    pub applied: Vec<String>,
    pub already_applied: usize,
}

/// An arbitrary constant: the advisory lock that serialises concurrent migrators.
const MIGRATION_LOCK: i64 = 0x00df_b5f0_0001;

pub fn load_migrations(dir: &Path) -> Result<Vec<Migration>, DbError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DbError::io(dir, e))?;
    let mut migrations = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| DbError::io(dir, e))?.path();
        if path.extension().is_none_or(|e| e != "sql") {
            continue;
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let Some((version, name)) = stem.split_once('_').filter(|(v, _)| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())) else {
            return Err(DbError::Migration(format!(
                "{}: migration files are named NNN_description.sql",
                path.display()
            )));
        };
        let sql = std::fs::read_to_string(&path).map_err(|e| DbError::io(&path, e))?;
        let checksum = format!("{:x}", Sha256::digest(sql.as_bytes()));
        migrations.push(Migration { version: version.to_string(), name: name.to_string(), sql, checksum });
    }
    migrations.sort_by(|a, b| a.version.cmp(&b.version));
    for pair in migrations.windows(2) {
        if pair[0].version == pair[1].version {
            return Err(DbError::Migration(format!("two migrations are numbered {}", pair[0].version)));
        }
    }
    Ok(migrations)
}

/// Applies what is not applied yet. Safe to run concurrently (advisory lock) and repeatedly.
pub async fn migrate(client: &mut tokio_postgres::Client, migrations: &[Migration]) -> Result<MigrationReport, DbError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await?;
    let result = apply(client, migrations).await;
    client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await?;
    result
}

async fn apply(client: &mut tokio_postgres::Client, migrations: &[Migration]) -> Result<MigrationReport, DbError> {
    client
        .batch_execute(
            "CREATE SCHEMA IF NOT EXISTS dfbs_service;
             CREATE TABLE IF NOT EXISTS dfbs_service.schema_migrations (
               version    text PRIMARY KEY,
               name       text NOT NULL,
               checksum   text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now()
             );",
        )
        .await?;
    let done: Vec<(String, String)> = client
        .query("SELECT version, checksum FROM dfbs_service.schema_migrations", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut report = MigrationReport::default();
    for migration in migrations {
        if let Some((_, checksum)) = done.iter().find(|(v, _)| *v == migration.version) {
            if *checksum != migration.checksum {
                return Err(DbError::Migration(format!(
                    "migration {}_{} was changed after it was applied to this database; \
                     add a new migration instead of editing an applied one",
                    migration.version, migration.name
                )));
            }
            report.already_applied += 1;
            continue;
        }
        let tx = client.transaction().await?;
        tx.batch_execute(&migration.sql).await.map_err(|e| {
            DbError::Migration(format!("migration {}_{} failed: {}", migration.version, migration.name, postgres_message(&e)))
        })?;
        tx.execute(
            "INSERT INTO dfbs_service.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            &[&migration.version, &migration.name, &migration.checksum],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version = %migration.version, name = %migration.name, "applied migration");
        report.applied.push(format!("{}_{}", migration.version, migration.name));
    }
    Ok(report)
}

/// The server's own message for an error, which is what a person needs to read.
pub(crate) fn postgres_message(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}
