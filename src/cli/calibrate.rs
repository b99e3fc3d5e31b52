//! `dfbs-vo calibrate`: the photometric calibration of plates already in the catalogue against
//! a reference catalogue (`pipeline::recalibrate`), without re-ingesting them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::config::Config;
use crate::pipeline::plate::read_reference_file;
use crate::pipeline::recalibrate::recalibrate_plate;

#[derive(clap::Args)]
pub struct CalibrateArgs {
    /// Plates to calibrate (plate ids, e.g. fbs5001).
    #[arg(long = "plate", num_args = 1..)]
    plates: Vec<String>,
    /// Every plate in the catalogue that came from a scan.
    #[arg(long, conflicts_with = "plates")]
    all: bool,
    /// The reference catalogue: CSV with `ra`, `dec` (degrees, ICRS), `mag_b` and optionally
    /// `mag_r`, covering the plates.
    #[arg(long, required = true)]
    reference: PathBuf,
}

pub async fn run(config: Config, args: CalibrateArgs) -> Result<ExitCode> {
    if args.plates.is_empty() && !args.all {
        anyhow::bail!("say which plates: --plate ID ... or --all");
    }
    // Read before the database is opened, so that a bad file is reported at once.
    let references = read_reference_file(&args.reference).map_err(anyhow::Error::msg)?;
    let source = args.reference.display().to_string();
    let open = super::open_database(&config).await?;
    let mut client = open.database.connect_as(crate::db::INGEST_ROLE).await?;
    let plates: Vec<String> = if args.all {
        let rows = client.query("SELECT plateid FROM dfbs.plates WHERE source_file IS NOT NULL ORDER BY plateid", &[]).await?;
        rows.iter().map(|r| r.get(0)).collect()
    } else {
        args.plates.clone()
    };
    let mut failed = 0;
    for plate in &plates {
        match recalibrate_plate(&mut client, plate, &references, &source).await {
            Ok(done) => {
                let c = &done.calibration;
                let limit = c.limit.map_or("not measured (the catalogue does not reach it)".to_string(), |l| format!("{l:.2}"));
                eprintln!(
                    "{plate}: magb of {} spectra calibrated on {} reference pairs (robust sd {:.3} mag); limiting B {limit}",
                    done.updated, c.b_band.pairs, c.b_band.rms
                );
            }
            Err(error) => {
                failed += 1;
                eprintln!("{error}");
            }
        }
    }
    drop(client);
    open.close().await?;
    Ok(ExitCode::from(failed.min(100) as u8))
}
