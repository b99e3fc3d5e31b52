//! `dfbs-vo evaluate`: a plate's catalogue rows against the simulator's truth.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::db::Database;
use crate::pipeline::evaluate::{evaluate, read_defects_csv, read_truth_csv, CatalogueObject};

#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// The simulator's truth table of the plate (`*.truth.csv`).
    #[arg(long)]
    truth: PathBuf,
    /// The plate id in the catalogue (e.g. fbs5001).
    #[arg(long)]
    plate: String,
    /// The plate's defect list (default: the `*.defects.csv` beside the truth file).
    #[arg(long)]
    defects: Option<PathBuf>,
    /// Plate limit in B for "completeness to the plate limit" (default: LIMMAG of the plate's
    /// header as recorded at ingest).
    #[arg(long)]
    limit: Option<f64>,
    /// Match radius in arcsec.
    #[arg(long, default_value_t = 3.0)]
    radius: f64,
}

pub async fn run(config: Config, args: EvaluateArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.truth).with_context(|| format!("cannot read {}", args.truth.display()))?;
    let truth = read_truth_csv(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.truth.display()))?;
    let defects_path = args.defects.clone().unwrap_or_else(|| {
        let name = args.truth.file_name().map(|n| n.to_string_lossy().replace(".truth.csv", ".defects.csv")).unwrap_or_default();
        args.truth.with_file_name(name)
    });
    let defects = match std::fs::read_to_string(&defects_path) {
        Ok(text) => read_defects_csv(&text).map_err(|e| anyhow::anyhow!("{}: {e}", defects_path.display()))?,
        Err(_) if args.defects.is_none() => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", defects_path.display())),
    };
    let database = Database::from_config(&config)?;
    let started = database.ensure_running().await?;
    let client = database.connect_admin().await?;
    let plate = client
        .query_opt("SELECT (ingest_params->'header'->>'LIMMAG')::float8 FROM dfbs.plates WHERE plateid = $1", &[&args.plate])
        .await?;
    let Some(plate) = plate else {
        anyhow::bail!("plate {} is not in the catalogue: ingest it first (dfbs-vo ingest PLATE.fits)", args.plate);
    };
    let limit = args.limit.or(plate.get::<_, Option<f64>>(0)).unwrap_or(17.5);
    let rows = client
        .query("SELECT specid, ra, dec, px_x, px_y, sp_class, class_label FROM dfbs.spectra WHERE plate = $1", &[&args.plate])
        .await?;
    let catalogue: Vec<CatalogueObject> = rows
        .iter()
        .map(|r| CatalogueObject {
            specid: r.get(0),
            ra: r.get(1),
            dec: r.get(2),
            px_x: r.get::<_, Option<f32>>(3).map(f64::from),
            px_y: r.get::<_, Option<f32>>(4).map(f64::from),
            quality: r.get(5),
            class_label: r.get(6),
        })
        .collect();
    drop(client);
    if started && let Some(cluster) = database.private_cluster() {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.stop()).await??;
    }
    let evaluation = evaluate(&args.plate, &truth, &catalogue, &defects, limit, args.radius);
    print!("{}", evaluation.table());
    Ok(ExitCode::SUCCESS)
}
