//! `dfbs-vo classify`: (re-)classify plates already in the catalogue with a model, without
//! changing their detections or spectra: the 1D spectra are the catalogue's, and the 2D cutouts
//! are the ones ingest gave the classifier. Detection is run again on the scan (it is
//! deterministic) and each catalogue row takes the cutout of the detection at its anchor, so
//! that a trace found on a deblended window keeps its neighbour-subtracted cutout; rows with no
//! such detection (seeded plates, another pipeline version) have theirs cut again from the scan
//! at the catalogued anchor, and the count is reported. The class columns are updated in one
//! transaction per plate.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::pipeline::classify::{find_runtime, ClassifyOptions, OnnxClassifier};
use crate::pipeline::extract::{cutouts_at, BOX_EXTRACTION, FLUX_EXTRACTION};
use crate::pipeline::fits::PlateScan;
use crate::pipeline::plate::{detect_scan, params_for, Classifier, ClassifierInput, ScanSource};

#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// Plates to classify (plate ids, e.g. fbs5001).
    #[arg(long = "plate", num_args = 1..)]
    plates: Vec<String>,
    /// Every plate in the catalogue that has a scan.
    #[arg(long, conflicts_with = "plates")]
    all: bool,
    /// Directory of the model (default: classify.model_dir).
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// Keep a label when the top probability reaches this (default: classify.threshold).
    #[arg(long)]
    threshold: Option<f32>,
}

/// Loads the configured classifier (used by ingest, demo and classify).
pub fn load_classifier(config: &Config, model_dir: Option<&Path>, threshold: Option<f32>) -> Result<OnnxClassifier> {
    let runtime = find_runtime(&config.classify.onnxruntime, &config.project_dir)?;
    let dir = model_dir.map(Path::to_path_buf).unwrap_or_else(|| config.resolve(&config.classify.model_dir));
    let options = ClassifyOptions {
        threshold: threshold.unwrap_or(config.classify.threshold),
        threads: config.classify.threads,
        batch: config.classify.batch,
        adapt_priors: config.classify.adapt_priors,
    };
    Ok(OnnxClassifier::load(&runtime, &dir, options)?)
}

/// The installed classifier, if the model directory holds one; an error (not a silent skip)
/// when the model is there but cannot be loaded.
pub fn installed_classifier(config: &Config) -> Result<Option<OnnxClassifier>> {
    let dir = config.resolve(&config.classify.model_dir);
    if !dir.join("dfbs-classifier.onnx").is_file() {
        return Ok(None);
    }
    let classifier = load_classifier(config, None, None)
        .context("the classifier in the model directory cannot be used (or pass --no-classify)")?;
    // Ingest extracts with this pipeline, so the model must have been trained on its spectra.
    classifier
        .info()
        .check_extraction(FLUX_EXTRACTION)
        .map_err(|e| anyhow::anyhow!("{e}: install a model trained on this extraction (training/README.md), or pass --no-classify"))
        .context("the classifier in the model directory cannot be used")?;
    Ok(Some(classifier))
}

pub async fn run(config: Config, args: ClassifyArgs) -> Result<ExitCode> {
    if args.plates.is_empty() && !args.all {
        anyhow::bail!("say which plates: --plate ID ... or --all");
    }
    let classifier = load_classifier(&config, args.model_dir.as_deref(), args.threshold)?;
    let open = super::open_database(&config).await?;
    let mut client = open.database.connect_as(crate::db::INGEST_ROLE).await?;
    // Plate, scan, and how its spectra were extracted (plates of dfbs-vo 0.1.0 record none).
    const PLATES: &str = "SELECT plateid, source_file, ingest_params->>'flux_extraction' FROM dfbs.plates";
    let plates: Vec<CataloguePlate> = if args.all {
        client.query(&format!("{PLATES} WHERE source_file IS NOT NULL ORDER BY plateid"), &[]).await?
    } else {
        client.query(&format!("{PLATES} WHERE plateid = ANY($1) ORDER BY plateid"), &[&args.plates]).await?
    }
    .iter()
    .map(|r| CataloguePlate { id: r.get(0), source: r.get(1), extraction: r.get(2) })
    .collect();
    for wanted in &args.plates {
        if !plates.iter().any(|p| &p.id == wanted) {
            eprintln!("{wanted}: not in the catalogue (ingest it first)");
        }
    }
    let mut failed = args.plates.len().saturating_sub(plates.len());
    for catalogued in &plates {
        let plate = &catalogued.id;
        let begun = std::time::Instant::now();
        match classify_plate(&mut client, &classifier, catalogued).await {
            Ok((n, 0)) => eprintln!("{plate}: {n} spectra classified in {:.1} s", begun.elapsed().as_secs_f64()),
            Ok((n, recut)) => eprintln!(
                "{plate}: {n} spectra classified in {:.1} s; {recut} of them had no detection at their anchor \
                 (a seeded plate, or ingested by another pipeline version), their cutouts cut again from the scan",
                begun.elapsed().as_secs_f64()
            ),
            Err(error) => {
                failed += 1;
                eprintln!("{plate}: {error:#}");
            }
        }
    }
    drop(client);
    open.close().await?;
    Ok(ExitCode::from(failed.min(100) as u8))
}

/// A plate of the catalogue to classify.
struct CataloguePlate {
    id: String,
    source: Option<String>,
    /// `ingest_params.flux_extraction`; None for plates of dfbs-vo 0.1.0 (box sums).
    extraction: Option<String>,
}

async fn classify_plate(
    client: &mut tokio_postgres::Client,
    classifier: &OnnxClassifier,
    catalogued: &CataloguePlate,
) -> Result<(usize, usize)> {
    let plate = catalogued.id.as_str();
    let source = catalogued.source.as_deref().context("the plate has no scan (it came from DFBS ASCII spectra): nothing to cut")?;
    // The catalogue's spectra are classified as they are: they must have been extracted as the
    // model's training spectra were.
    let extraction = catalogued.extraction.as_deref().unwrap_or(BOX_EXTRACTION);
    classifier.info().check_extraction(extraction).map_err(|e| {
        anyhow::anyhow!("{e}: re-ingest the plate with this pipeline (dfbs-vo ingest SCAN --replace), or classify it with a model trained on {extraction} weights")
    })?;
    let mut scan = PlateScan::open(Path::new(source)).with_context(|| format!("the plate's scan {source} is needed"))?;
    let params = params_for(&scan.header, &crate::pipeline::params::PipelineParams::default());
    let rows = client
        .query("SELECT specid, px_x, px_y, flux FROM dfbs.spectra WHERE plate = $1 AND px_x IS NOT NULL ORDER BY specid", &[&plate])
        .await?;
    let anchors: Vec<(f32, f32)> = rows.iter().map(|r| (r.get(1), r.get(2))).collect();
    let (cutouts, recut) =
        tokio::task::block_in_place(|| ingest_cutouts(&mut scan, &anchors, &params)).map_err(|e| anyhow::anyhow!(e))?;
    let fluxes: Vec<Vec<Option<f32>>> = rows.iter().map(|r| r.get::<_, Option<Vec<Option<f32>>>>(3).unwrap_or_else(|| vec![None; 136])).collect();
    let inputs: Vec<ClassifierInput> =
        cutouts.iter().zip(&fluxes).map(|(cutout, flux)| ClassifierInput { cutout, flux }).collect();
    let classes = tokio::task::block_in_place(|| classifier.classify(&inputs)).map_err(|e| anyhow::anyhow!(e))?;
    let specids: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    crate::pipeline::catalogue::update_classes(client, plate, &specids, &classes, &classifier.provenance(&classes)).await?;
    Ok((specids.len(), recut))
}

/// The cutout ingest gave each catalogued anchor (the catalogue stores anchors as float4, as
/// `plate.rs` writes `px_x`, `px_y`), and how many had to be cut again from the scan instead.
fn ingest_cutouts(
    scan: &mut PlateScan,
    anchors: &[(f32, f32)],
    params: &crate::pipeline::params::PipelineParams,
) -> Result<(Vec<Vec<f32>>, usize), String> {
    let key = |x: f32, y: f32| (x.to_bits(), y.to_bits());
    let mut by_anchor: HashMap<(u32, u32), Vec<f32>> =
        detect_scan(scan, params)?.into_iter().map(|d| (key(d.x as f32, d.y as f32), d.cutout)).collect();
    let found: Vec<Option<Vec<f32>>> = anchors.iter().map(|&(x, y)| by_anchor.remove(&key(x, y))).collect();
    drop(by_anchor);
    let missing: Vec<(f64, f64)> =
        anchors.iter().zip(&found).filter(|(_, c)| c.is_none()).map(|(&(x, y), _)| (x as f64, y as f64)).collect();
    let mut recut = cutouts_at(&mut ScanSource(scan), &missing, params)?.into_iter();
    Ok((found.into_iter().map(|c| c.unwrap_or_else(|| recut.next().unwrap_or_default())).collect(), missing.len()))
}
