//! `dfbs-vo evaluate`: a plate's catalogue rows against the simulator's truth.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::pipeline::evaluate::{
    by_plate_table, catalogue_objects, class_report, evaluate, magnitude_error_line, plate_limits_table, read_defects_csv, read_truth_csv,
    recall_by_headroom_table, recall_by_measured_headroom_table, recall_by_snr_table,
};
use crate::pipeline::subclass::{Group, subclass_tables};

/// The faintest B of the classification tables beside the all-magnitude one (issue 7's
/// acceptance: B <= 17.5).
const BRIGHT_LIMIT: f64 = 17.5;

#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// The simulator's truth table of the plate (`*.truth.csv`); repeat with --plate for
    /// several plates (the classification tables are then over all of them).
    #[arg(long, required = true)]
    truth: Vec<PathBuf>,
    /// The plate id in the catalogue (e.g. fbs5001), one per --truth, in the same order.
    #[arg(long, required = true)]
    plate: Vec<String>,
    /// Plate limit in B for "completeness to the plate limit" (default: LIMMAG of the plate's
    /// header as recorded at ingest).
    #[arg(long)]
    limit: Option<f64>,
    /// Match radius in arcsec.
    #[arg(long, default_value_t = 3.0)]
    radius: f64,
}

pub async fn run(config: Config, args: EvaluateArgs) -> Result<ExitCode> {
    if args.truth.len() != args.plate.len() {
        anyhow::bail!("give one --truth per --plate ({} truth files, {} plates)", args.truth.len(), args.plate.len());
    }
    let open = super::open_database(&config).await?;
    let client = open.database.connect_admin().await?;
    let mut classified = Vec::new();
    // Each plate's spectra in `classified`.
    let mut plate_ranges = Vec::new();
    // (plate, LIMMAG, measured limit) for the plate-limits table.
    let mut limits = Vec::new();
    let (mut photometry, mut photometry_r) = (Vec::new(), Vec::new());
    // The subclass model's classes (from the first plate that records one).
    let mut groups: Vec<Group> = Vec::new();
    let mut result = Ok(());
    for (truth_path, plate) in args.truth.iter().zip(&args.plate) {
        match evaluate_plate(&client, truth_path, plate, args.limit, args.radius).await {
            Ok((evaluation, plate_groups)) => {
                if groups.is_empty() {
                    groups = plate_groups;
                }
                print!("{}\n", evaluation.table());
                limits.push((plate.clone(), evaluation.limit, evaluation.measured_limit));
                photometry.extend_from_slice(&evaluation.photometry);
                photometry_r.extend_from_slice(&evaluation.photometry_r);
                let start = classified.len();
                classified.extend(evaluation.classified);
                plate_ranges.push((plate.clone(), start..classified.len()));
            }
            Err(error) => {
                result = Err(error);
                break;
            }
        }
    }
    drop(client);
    open.close().await?;
    result?;
    if !classified.is_empty() {
        println!("{} plate(s): {}\n", args.plate.len(), args.plate.join(", "));
        for faintest in [BRIGHT_LIMIT, 99.0] {
            if let Some(report) = class_report(&classified, faintest, config.classify.threshold) {
                print!("{}\n", report.table(config.classify.threshold));
                if report.all_magnitudes() {
                    print!("{}\n", report.recall_by_magnitude_table());
                }
            }
        }
        if let Some(table) = recall_by_snr_table(&classified, config.classify.threshold) {
            print!("{table}\n");
        }
        if let Some(table) = recall_by_headroom_table(&classified, config.classify.threshold) {
            print!("{table}\n");
        }
        if let Some(table) = recall_by_measured_headroom_table(&classified, config.classify.threshold) {
            print!("{table}\n");
        }
        for faintest in [BRIGHT_LIMIT, 99.0] {
            if let Some(tables) = subclass_tables(&classified, &groups, faintest) {
                print!("{tables}");
            }
        }
        if plate_ranges.len() > 1 {
            let plates: Vec<(String, &[_])> = plate_ranges.iter().map(|(p, range)| (p.clone(), &classified[range.clone()])).collect();
            print!("{}\n", by_plate_table(&plates, BRIGHT_LIMIT, config.classify.threshold));
        }
    }
    if let Some(table) = plate_limits_table(&limits) {
        print!("{table}\n");
    }
    if args.plate.len() > 1 && !photometry.is_empty() {
        print!("all plates: {}", magnitude_error_line('B', &photometry));
        print!("all plates: {}\n", magnitude_error_line('R', &photometry_r));
    }
    Ok(ExitCode::SUCCESS)
}

async fn evaluate_plate(
    client: &tokio_postgres::Client,
    truth_path: &Path,
    plate: &str,
    limit: Option<f64>,
    radius: f64,
) -> Result<(crate::pipeline::evaluate::Evaluation, Vec<Group>)> {
    let text = std::fs::read_to_string(truth_path).with_context(|| format!("cannot read {}", truth_path.display()))?;
    let truth = read_truth_csv(&text).map_err(|e| anyhow::anyhow!("{}: {e}", truth_path.display()))?;
    let name = truth_path.file_name().map(|n| n.to_string_lossy().replace(".truth.csv", ".defects.csv")).unwrap_or_default();
    let defects_path = truth_path.with_file_name(name);
    let defects = match std::fs::read_to_string(&defects_path) {
        Ok(text) => read_defects_csv(&text).map_err(|e| anyhow::anyhow!("{}: {e}", defects_path.display()))?,
        Err(_) => Vec::new(),
    };
    let row = client
        .query_opt(
            "SELECT (ingest_params->'header'->>'LIMMAG')::float8, magb_limit::float8, \
             ingest_params->'classifier'->'subclass_model'->'groups' FROM dfbs.plates WHERE plateid = $1",
            &[&plate],
        )
        .await?;
    let Some(row) = row else {
        anyhow::bail!("plate {plate} is not in the catalogue: ingest it first (dfbs-vo ingest PLATE.fits)");
    };
    let limit = limit.or(row.get::<_, Option<f64>>(0)).unwrap_or(17.5);
    let measured_limit: Option<f64> = row.get(1);
    let groups = match row.get::<_, Option<serde_json::Value>>(2) {
        Some(value) => serde_json::from_value(value).with_context(|| format!("plate {plate}: ingest_params.classifier.subclass_model.groups"))?,
        None => Vec::new(),
    };
    let catalogue = catalogue_objects(client, plate).await?;
    Ok((evaluate(plate, &truth, &catalogue, &defects, limit, measured_limit, radius), groups))
}
