//! The command line: `serve`, `db`, `demo`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use crate::catalog::Catalog;
use crate::config::Config;
use crate::db::{ClusterState, Database, Target};
use crate::service::{self, AppState};

mod calibrate;
mod classify;
mod demo;
mod evaluate;
mod ingest;
mod simulate;

use classify::ClassifyArgs;
use evaluate::EvaluateArgs;
use ingest::IngestArgs;
use simulate::{ExportArgs, SimulateArgs};

#[derive(Parser)]
#[command(name = "dfbs-vo", version, about = "Virtual Observatory service for the Digitized First Byurakan Survey")]
struct Cli {
    /// The project directory (holding config/, tap/ and schema/). Default: the nearest
    /// directory upwards from the current one that holds tap/ and schema/.
    #[arg(long, global = true, env = "DFBS_HOME")]
    project_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (starting the private database cluster if needed).
    Serve {
        /// Address to listen on (default: service.listen from the configuration).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Manage the catalogue database.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Parse or translate ADQL (no database needed).
    Adql {
        #[command(subcommand)]
        action: AdqlAction,
    },
    /// Ingest plate scans (FITS) or DFBS ASCII spectra into the catalogue.
    Ingest(IngestArgs),
    /// Classify plates already in the catalogue (again) with a model, without re-detecting.
    Classify(ClassifyArgs),
    /// Calibrate the magnitudes of plates already in the catalogue against a reference
    /// catalogue, and measure their limits, without re-ingesting.
    Calibrate(calibrate::CalibrateArgs),
    /// Compare a simulated plate's catalogue rows with the simulator's truth.
    Evaluate(EvaluateArgs),
    /// Write a classifier training set (cutouts, spectra, labels) from simulated plates.
    ExportCutouts(ExportArgs),
    /// Simulate DFBS plate scans with their truth tables (no database needed).
    Simulate(SimulateArgs),
    /// The demonstration: simulated plates through the pipeline into the catalogue (first run
    /// only), then the service.
    Demo {
        #[arg(long)]
        listen: Option<String>,
    },
}

#[derive(Subcommand)]
enum AdqlAction {
    /// Print the normalised query, or the error with its position (exit status 1).
    Parse {
        /// The query; `-` or nothing reads standard input.
        query: Option<String>,
        /// ADQL version: 2.0 or 2.1.
        #[arg(long, default_value = "2.1")]
        version: String,
    },
    /// Print the PostgreSQL the query becomes on this service's catalogue, with the result
    /// columns' metadata as SQL comments.
    Translate {
        query: Option<String>,
        #[arg(long, default_value = "2.1")]
        version: String,
        /// Row limit to apply (as the TAP service does with MAXREC + 1).
        #[arg(long)]
        limit: Option<u64>,
    },
}

#[derive(Subcommand)]
enum DbAction {
    /// Create (if needed) and start the private cluster, then apply migrations.
    Start,
    /// Stop the private cluster.
    Stop,
    /// Tell whether the private cluster runs.
    Status,
    /// Print the connection URL of the catalogue database.
    Url,
    /// Apply the migrations in schema/ and publish tap/ (TAP_SCHEMA, grants).
    Migrate,
    /// Open psql on the catalogue database.
    Psql {
        /// Arguments passed to psql.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("dfbs-vo: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tokio_postgres=warn,actix_server=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("DFBS_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    // The simulator needs neither the project's configuration nor a database.
    match &cli.command {
        Command::Simulate(args) => return simulate::simulate(args),
        Command::ExportCutouts(args) => return simulate::export_cutouts(args),
        _ => {}
    }
    let project_dir = match cli.project_dir {
        Some(dir) => dir,
        None => find_project_dir()?,
    };
    let config = Config::load(&project_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Command::Serve { listen } => runtime.block_on(serve(config, listen)),
        Command::Demo { listen } => runtime.block_on(demo::run(config, listen)),
        Command::Db { action } => runtime.block_on(db(config, action)),
        Command::Adql { action } => adql(&config, action),
        Command::Simulate(args) => simulate::simulate(&args),
        Command::ExportCutouts(args) => simulate::export_cutouts(&args),
        Command::Ingest(args) => runtime.block_on(ingest::ingest(config, args)),
        Command::Evaluate(args) => runtime.block_on(evaluate::run(config, args)),
        Command::Classify(args) => runtime.block_on(classify::run(config, args)),
        Command::Calibrate(args) => runtime.block_on(calibrate::run(config, args)),
    }
}


/// The nearest directory upwards from the current one holding tap/ and schema/.
fn find_project_dir() -> Result<PathBuf> {
    let cwd = std::env::current_dir()?;
    let found = cwd.ancestors().find(|d| d.join("tap").is_dir() && d.join("schema").is_dir());
    match found {
        Some(dir) => Ok(dir.to_path_buf()),
        None => bail!(
            "no project directory (with tap/ and schema/) at or above {}: run from the dfbs-vo checkout or pass --project-dir",
            cwd.display()
        ),
    }
}

fn load_catalog(config: &Config) -> Result<Catalog> {
    let dir = config.tap_dir();
    Catalog::load_dir(&dir).with_context(|| format!("loading the table metadata of {}", dir.display()))
}

fn read_query(query: Option<String>) -> Result<String> {
    match query.as_deref() {
        None | Some("-") => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("reading the query from standard input")?;
            Ok(text)
        }
        Some(text) => Ok(text.to_string()),
    }
}

fn adql_version(version: &str) -> Result<crate::adql::Version> {
    match version {
        "2.0" => Ok(crate::adql::Version::V2_0),
        "2.1" => Ok(crate::adql::Version::V2_1),
        other => bail!("unknown ADQL version {other}: use 2.0 or 2.1"),
    }
}

fn adql(config: &Config, action: AdqlAction) -> Result<ExitCode> {
    match action {
        AdqlAction::Parse { query, version } => {
            let text = read_query(query)?;
            match crate::adql::parse(&text, adql_version(&version)?) {
                Ok(parsed) => {
                    println!("{parsed}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    eprintln!("{error}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AdqlAction::Translate { query, version, limit } => {
            let text = read_query(query)?;
            let catalog = load_catalog(config)?;
            let functions = crate::adql::FunctionRegistry::standard();
            let context = crate::adql::Context { catalog: &catalog, uploads: &[], functions: &functions };
            let options = crate::adql::Options { row_limit: limit };
            match crate::adql::compile(&text, adql_version(&version)?, &context, &options) {
                Ok(compiled) => {
                    for column in &compiled.columns {
                        println!(
                            "-- {}: {}{}{}{}{}",
                            column.name,
                            column.datatype,
                            column.arraysize.map(|a| format!("[{a}]")).unwrap_or_default(),
                            column.xtype.as_deref().map(|x| format!(" xtype={x}")).unwrap_or_default(),
                            column.unit.as_deref().map(|x| format!(" unit={x}")).unwrap_or_default(),
                            column.ucd.as_deref().map(|x| format!(" ucd={x}")).unwrap_or_default(),
                        );
                    }
                    println!("{}", compiled.sql);
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    eprintln!("{error}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// The catalogue database as a command uses it: running (the private cluster started if
/// needed), migrated and published. `close` stops the private cluster if, and only if, this
/// command started it.
struct OpenDatabase {
    database: Database,
    catalog: Catalog,
    started: bool,
}

async fn open_database(config: &Config) -> Result<OpenDatabase> {
    let catalog = load_catalog(config)?;
    let database = Database::from_config(config)?;
    let started = database.ensure_running().await?;
    let report = database.migrate_and_publish(&config.schema_dir(), &catalog).await?;
    if !report.applied.is_empty() {
        tracing::info!(applied = ?report.applied, "database migrated");
    }
    Ok(OpenDatabase { database, catalog, started })
}

impl OpenDatabase {
    async fn close(self) -> Result<()> {
        if self.started
            && let Some(cluster) = self.database.private_cluster()
        {
            let cluster = cluster.clone();
            tokio::task::spawn_blocking(move || cluster.stop()).await??;
        }
        Ok(())
    }
}

async fn serve(mut config: Config, listen: Option<String>) -> Result<ExitCode> {
    if let Some(listen) = listen {
        config.service.listen = listen;
    }
    let open = open_database(&config).await?;
    let state = AppState::new(config, open.catalog.clone(), &open.database)?;
    let result = service::serve(state).await;
    open.close().await?;
    result?;
    Ok(ExitCode::SUCCESS)
}

async fn db(config: Config, action: DbAction) -> Result<ExitCode> {
    let database = Database::from_config(&config)?;
    match action {
        DbAction::Start => {
            let started_at = std::time::Instant::now();
            let catalog = load_catalog(&config)?;
            let started = database.ensure_running().await?;
            let report = database.migrate_and_publish(&config.schema_dir(), &catalog).await?;
            println!(
                "database {} in {:.2} s; migrations applied: {}, already applied: {}",
                if started { "started" } else { "already running" },
                started_at.elapsed().as_secs_f64(),
                report.applied.len(),
                report.already_applied
            );
        }
        DbAction::Stop => match database.target() {
            Target::Private(cluster) => {
                let cluster = cluster.clone();
                let stopped = tokio::task::spawn_blocking(move || cluster.stop()).await??;
                println!("{}", if stopped { "database stopped" } else { "database was not running" });
            }
            Target::External(_) => bail!("DATABASE_URL names an external server: dfbs-vo does not stop it"),
        },
        DbAction::Status => match database.target() {
            Target::Private(cluster) => {
                let state = cluster.state();
                match state {
                    ClusterState::Running { pid } => {
                        println!("running (pid {pid}) in {}, socket in {}", cluster.root().display(), cluster.socket_dir().display())
                    }
                    ClusterState::Stopped => println!("stopped ({})", cluster.root().display()),
                    ClusterState::Uninitialised => println!("not created yet ({})", cluster.root().display()),
                }
                return Ok(if matches!(state, ClusterState::Running { .. }) { ExitCode::SUCCESS } else { ExitCode::from(3) });
            }
            Target::External(_) => {
                database.connect_admin().await.context("the external database does not answer")?;
                println!("external database answers: {}", database.admin_url());
            }
        },
        DbAction::Url => println!("{}", database.admin_url()),
        DbAction::Migrate => {
            let catalog = load_catalog(&config)?;
            if let Target::Private(cluster) = database.target() {
                if !matches!(cluster.state(), ClusterState::Running { .. }) {
                    bail!("the private database is not running: run `dfbs-vo db start` first");
                }
            }
            let report = database.migrate_and_publish(&config.schema_dir(), &catalog).await?;
            println!(
                "migrations applied: {} {:?}, already applied: {}; TAP_SCHEMA and grants published from {}",
                report.applied.len(),
                report.applied,
                report.already_applied,
                config.tap_dir().display()
            );
        }
        DbAction::Psql { args } => {
            let status = psql(&database, &args)?;
            return Ok(if status { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn psql(database: &Database, args: &[String]) -> Result<bool> {
    let mut command = std::process::Command::new(psql_program());
    command.arg(database.admin_url()).args(args);
    let status = command.status().context("cannot run psql (install postgresql-client-15)")?;
    Ok(status.success())
}

fn psql_program() -> PathBuf {
    let debian = Path::new("/usr/lib/postgresql/15/bin/psql");
    if debian.exists() { debian.to_path_buf() } else { PathBuf::from("psql") }
}
