//! The HTTP service (actix-web): one module per IVOA standard.

pub mod tap;
mod vosi;
mod web;

use std::time::{Duration, Instant};

use actix_web::dev::Service;
use actix_web::{web as aw, App, HttpServer};
use chrono::{DateTime, Utc};

use crate::catalog::Catalog;
use crate::config::Config;
use crate::db::{Database, QUERY_ROLE};

/// What every request handler may use.
pub struct AppState {
    pub config: Config,
    pub catalog: Catalog,
    /// The user-defined ADQL functions (declared in the capabilities too).
    pub functions: crate::adql::FunctionRegistry,
    /// Connections as the owner: service bookkeeping (jobs, statistics).
    pub admin_pool: deadpool_postgres::Pool,
    /// Connections as the read-only query role: everything a user's query touches.
    pub query_pool: deadpool_postgres::Pool,
    pub up_since: DateTime<Utc>,
    /// The DALI examples (tap/examples/).
    pub examples: Vec<tap::examples::Example>,
    /// UWS jobs (TAP /async), in the database.
    pub jobs: crate::uws::JobStore,
    /// Wakes the job runner when a job is queued here.
    pub job_signal: std::sync::Arc<tokio::sync::Notify>,
}

impl AppState {
    pub fn new(config: Config, catalog: Catalog, database: &Database) -> anyhow::Result<AppState> {
        let admin_pool = database.pool(None)?;
        let examples = tap::examples::load(&config.tap_dir()).map_err(anyhow::Error::msg)?;
        Ok(AppState {
            jobs: crate::uws::JobStore::new(admin_pool.clone()),
            job_signal: std::sync::Arc::new(tokio::sync::Notify::new()),
            admin_pool,
            query_pool: database.pool(Some(QUERY_ROLE))?,
            config,
            catalog,
            functions: crate::adql::FunctionRegistry::standard(),
            examples,
            up_since: Utc::now(),
        })
    }
}

/// The routes of the service.
pub fn routes(cfg: &mut aw::ServiceConfig) {
    cfg.service(aw::resource("/").route(aw::get().to(web::landing_page)))
        .service(aw::resource("/tap/availability").route(aw::get().to(vosi::availability)))
        .configure(tap::routes);
}

/// Serves until SIGINT or SIGTERM, then lets running requests finish (up to
/// service.shutdown_timeout_s) and returns.
pub async fn serve(state: AppState) -> std::io::Result<()> {
    let listen = state.config.service.listen.clone();
    let shutdown_timeout = state.config.service.shutdown_timeout_s;
    let request_max_bytes = state.config.limits.request_max_bytes;
    let state = aw::Data::new(state);
    let runner = tap::runner::spawn(state.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(aw::PayloadConfig::new(request_max_bytes))
            .app_data(aw::FormConfig::default().limit(request_max_bytes))
            .wrap(actix_web::middleware::DefaultHeaders::new().add(("Server", concat!("dfbs-vo/", env!("CARGO_PKG_VERSION")))))
            .wrap_fn(|request, service| {
                let method = request.method().clone();
                let path = request.path().to_string();
                let started = Instant::now();
                let response = service.call(request);
                async move {
                    let response = response.await?;
                    tracing::info!(
                        %method,
                        %path,
                        status = response.status().as_u16(),
                        ms = started.elapsed().as_secs_f64() * 1e3,
                        "request"
                    );
                    Ok(response)
                }
            })
            .configure(routes)
    })
    .disable_signals()
    .shutdown_timeout(shutdown_timeout)
    .bind(&listen)
    .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {listen}: {e}")))?
    .run();
    tracing::info!(%listen, "serving");
    let handle = server.handle();
    tokio::spawn(async move {
        wait_for_shutdown_signal().await;
        tracing::info!("shutting down: finishing running requests");
        handle.stop(true).await;
    });
    let result = server.await;
    // The runner holds the state (and its connection pools): stop it, so that the pools close
    // their connections before the caller stops the database.
    runner.abort();
    let _ = runner.await;
    result
}

async fn wait_for_shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Runs a quick query as the query role; used by VOSI availability and the landing page.
pub(crate) async fn database_answers(pool: &deadpool_postgres::Pool) -> Result<(), String> {
    let check = async {
        let client = pool.get().await.map_err(|e| e.to_string())?;
        client.query_one("SELECT 1", &[]).await.map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    };
    tokio::time::timeout(Duration::from_secs(5), check)
        .await
        .unwrap_or_else(|_| Err("the database did not answer within 5 s".into()))
}

/// Shared state handle as handlers receive it.
pub type State = aw::Data<AppState>;
