//! `dfbs-vo ingest`: plate scans or DFBS ASCII spectra into the catalogue, one plate per
//! transaction; bad inputs are reported and skipped, and the exit status counts them.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;

use crate::config::Config;
use crate::pipeline::catalogue::{write_plate, WriteMode};
use crate::pipeline::ingest::{display_name, spec_records};
use crate::pipeline::params::PipelineParams;
use crate::pipeline::plate::{ingest_plates, PlateRun};

#[derive(clap::Args)]
pub struct IngestArgs {
    /// Plate scans (FITS) to ingest.
    plates: Vec<PathBuf>,
    /// DFBS ASCII spectra (.spec files) to ingest instead of plate scans.
    #[arg(long, num_args = 1.., conflicts_with = "plates")]
    spec: Vec<PathBuf>,
    /// Plates processed at once.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Re-ingest plates already in the catalogue (their rows are replaced in one transaction).
    #[arg(long)]
    replace: bool,
    /// Seeded mode: extract at the positions of this catalogue (CSV with `ra` and `dec` columns
    /// in degrees) instead of detecting.
    #[arg(long, conflicts_with = "spec")]
    seeds: Option<PathBuf>,
    /// Photometric reference catalogue for every plate (CSV with `ra`, `dec` in degrees and
    /// `mag_b`): `magb` is calibrated against it and each plate's limiting magnitude measured.
    /// Default: the scan's sibling NAME.ref.csv when there is one (the simulator writes it),
    /// else `magb` stays instrumental.
    #[arg(long, conflicts_with = "spec")]
    reference: Option<PathBuf>,
    /// Leave the class columns empty even when a model is installed (classify later with
    /// `dfbs-vo classify`).
    #[arg(long)]
    no_classify: bool,
}

/// One line of the summary table.
struct Outcome {
    input: String,
    plate: String,
    spectra: u64,
    seconds: f64,
    error: Option<String>,
}

pub async fn ingest(config: Config, args: IngestArgs) -> Result<ExitCode> {
    if args.plates.is_empty() && args.spec.is_empty() {
        anyhow::bail!("nothing to ingest: give plate scans (FITS) or --spec FILE.spec ...");
    }
    if args.workers == 0 {
        anyhow::bail!("--workers must be at least 1");
    }
    // Read before the database is opened, so that a bad file is reported at once.
    let references = match &args.reference {
        Some(path) => Some(crate::pipeline::plate::read_reference_file(path).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let open = super::open_database(&config).await?;
    let mut client = open.database.connect_as(crate::db::INGEST_ROLE).await?;
    let mut outcomes = Vec::new();
    if !args.spec.is_empty() {
        let begun = Instant::now();
        let (plates, errors) = spec_records(&args.spec);
        for error in errors {
            outcomes.push(Outcome {
                input: display_name(&error.path),
                plate: "-".into(),
                spectra: 0,
                seconds: 0.0,
                error: Some(error.message),
            });
        }
        for (plate, spectra) in plates {
            let result = write_plate(&mut client, &plate, &spectra, WriteMode::MergeSpectra).await;
            outcomes.push(Outcome {
                input: format!("{} .spec file(s)", spectra.len()),
                plate: plate.plateid.clone(),
                spectra: result.as_ref().map_or(0, |o| o.spectra),
                seconds: begun.elapsed().as_secs_f64(),
                error: result.err().map(|e| e.to_string()),
            });
        }
    } else {
        let mode = if args.replace { WriteMode::ReplacePlate } else { WriteMode::NewPlate };
        let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let params = PipelineParams::default();
        let classifier = if args.no_classify { None } else { super::classify::installed_classifier(&config)? };
        let classifier = classifier.as_ref().map(|c| c as &dyn crate::pipeline::plate::Classifier);
        let seeds = match &args.seeds {
            Some(path) => Some(read_seeds(path)?),
            None => None,
        };
        let run = PlateRun { params: &params, classifier, seeds: seeds.as_deref(), references: references.as_deref() };
        for o in ingest_plates(&mut client, &args.plates, args.workers, mode, &run, progress).await {
            outcomes.push(Outcome { input: o.input, plate: o.plate, spectra: o.spectra, seconds: o.seconds, error: o.error });
        }
    }
    drop(client);
    open.close().await?;
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    eprintln!("{:<44} {:<10} {:>8} {:>8}  result", "input", "plate", "spectra", "seconds");
    for o in &outcomes {
        eprintln!(
            "{:<44} {:<10} {:>8} {:>8.2}  {}",
            o.input,
            o.plate,
            o.spectra,
            o.seconds,
            o.error.as_deref().unwrap_or("ingested")
        );
    }
    let total: u64 = outcomes.iter().map(|o| o.spectra).sum();
    eprintln!("{} input(s): {} ingested, {failed} failed; {total} spectra written", outcomes.len(), outcomes.len() - failed);
    // The exit status says how many failed (capped: exit statuses are one byte).
    Ok(ExitCode::from(failed.min(100) as u8))
}

/// Reads a seed catalogue: CSV with a header naming `ra` and `dec` (or `raj2000`/`dej2000`),
/// degrees.
fn read_seeds(path: &std::path::Path) -> Result<Vec<(f64, f64)>> {
    use anyhow::Context as _;
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    crate::pipeline::photometry::read_positions_csv(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
