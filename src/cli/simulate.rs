//! `dfbs-vo simulate`: the plate simulator from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// Directory for the plates (FITS), truth tables (CSV, VOTable) and defect lists.
    #[arg(long)]
    out: PathBuf,
    /// Number of plates.
    #[arg(long, default_value_t = 1)]
    plates: usize,
    /// Seed: the same arguments give byte-identical files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// `full` (9601 x 9602, a real DFBS scan) or WIDTHxHEIGHT in pixels.
    #[arg(long, default_value = "full")]
    size: String,
    /// Field centre RA,DEC in degrees (default: drawn in the survey's footprint).
    #[arg(long, allow_hyphen_values = true)]
    field: Option<String>,
    /// Emulsion of every plate: IIF, IIaF, IIAF or 103aF (default: drawn per plate).
    #[arg(long)]
    emulsion: Option<String>,
    /// Limiting B magnitude of every plate (default: drawn per plate between 16.8 and 18.8).
    #[arg(long)]
    limit: Option<f64>,
    /// Class mix: `realistic` (the survey's proportions) or `balanced` (for training).
    #[arg(long, default_value = "realistic")]
    mix: String,
    /// Objects per square degree (about 890 gives 15,000 on a full plate).
    #[arg(long, default_value_t = 890.0)]
    density: f64,
    /// Number of the first plate (ids fbsNNNN).
    #[arg(long, default_value_t = 5001)]
    first_plate: u32,
    /// Which end of the traces is red: +y or -y.
    #[arg(long, default_value = "+y", allow_hyphen_values = true)]
    red_end: String,
    /// Inject this many anomalies per plate: a hot continuum with one strong emission line at
    /// an odd wavelength, a kind absent from the classifier's classes (truth class `anomaly`).
    #[arg(long, default_value_t = 0)]
    anomalies: usize,
    /// Scale the emulsion's grain noise by this factor (default 1: the survey's). For studies
    /// only, such as the noise-free template bank of training/bayes_limit.py (0.02); the plates'
    /// headers do not record it.
    #[arg(long, default_value_t = 1.0)]
    grain_scale: f64,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn simulate(args: &SimulateArgs) -> Result<ExitCode> {
    use crate::sim::{plate::RedEnd, Mix, SimulateOptions};
    let size = if args.size == "full" {
        crate::sim::plate::FULL_SIZE
    } else {
        let parsed = args
            .size
            .split_once(['x', 'X'])
            .and_then(|(w, h)| Some((w.trim().parse::<usize>().ok()?, h.trim().parse::<usize>().ok()?)));
        parsed.ok_or_else(|| anyhow::anyhow!("--size must be `full` or WIDTHxHEIGHT, e.g. 2048x2048; got {:?}", args.size))?
    };
    let field = match &args.field {
        None => None,
        Some(text) => {
            let parsed = text
                .split_once(',')
                .and_then(|(ra, dec)| Some((ra.trim().parse::<f64>().ok()?, dec.trim().parse::<f64>().ok()?)))
                .filter(|(ra, dec)| (0.0..360.0).contains(ra) && (-90.0..=90.0).contains(dec));
            Some(parsed.ok_or_else(|| {
                anyhow::anyhow!("--field must be RA,DEC in degrees with 0 <= RA < 360 and -90 <= DEC <= 90; got {text:?}")
            })?)
        }
    };
    let mix = match args.mix.as_str() {
        "realistic" => Mix::Realistic,
        "balanced" => Mix::Balanced,
        other => anyhow::bail!("--mix must be `realistic` or `balanced`; got {other:?}"),
    };
    let red_end = RedEnd::parse(&args.red_end)
        .ok_or_else(|| anyhow::anyhow!("--red-end must be +y or -y; got {:?}", args.red_end))?;
    if !(0.0..=10.0).contains(&args.grain_scale) {
        anyhow::bail!("--grain-scale must be between 0 and 10; got {}", args.grain_scale);
    }
    let options = SimulateOptions {
        out: args.out.clone(),
        plates: args.plates,
        seed: args.seed,
        size,
        field,
        emulsion: args.emulsion.clone(),
        limiting_mag: args.limit,
        mix,
        density: args.density,
        first_plate: args.first_plate,
        red_end,
        anomalies: args.anomalies,
        grain_scale: args.grain_scale,
        progress: !args.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let started = std::time::Instant::now();
    let summaries = crate::sim::simulate(&options)?;
    eprint!("{}", crate::sim::summary_table(&summaries));
    eprintln!(
        "{} plate(s) written to {} in {:.1} s",
        summaries.len(),
        options.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Simulated plate scans (their `*.truth.csv` beside them).
    plates: Vec<PathBuf>,
    /// Directory for cutouts.npy, flux.npy and labels.csv.
    #[arg(long)]
    out: PathBuf,
    /// Also export the detections that match no truth object (class `none`): a whole plate as
    /// the classify stage sees it, for evaluating anomaly scores.
    #[arg(long)]
    all: bool,
}

/// `dfbs-vo export-cutouts`: a training set from simulated plates, through the pipeline's own
/// extraction.
pub fn export_cutouts(args: &ExportArgs) -> Result<ExitCode> {
    use crate::pipeline::dataset::TrainingSet;
    use crate::pipeline::params::PipelineParams;
    if args.plates.is_empty() {
        anyhow::bail!("give the simulated plate scans to export (PLATE.fits ...)");
    }
    let mut set = TrainingSet::create(&args.out)?;
    let params = PipelineParams::default();
    let bar = crate::progress::bar(args.plates.len() as u64, "export [{bar:40}] {pos}/{len} plates, eta {eta} {msg}", std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let mut failed = 0;
    for path in &args.plates {
        match set.add_plate(path, &params, args.all) {
            Ok(summary) => bar.set_message(format!("{}: {} of {} labelled", summary.plate, summary.labelled, summary.detections)),
            Err(error) => {
                failed += 1;
                bar.println(format!("{error}"));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let rows = set.finish()?;
    eprintln!("{rows} cutouts from {} plate(s) ({failed} failed) written to {}", args.plates.len() - failed, args.out.display());
    Ok(ExitCode::from(failed.min(100) as u8))
}
