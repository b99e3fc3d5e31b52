//! `dfbs-vo demo`: the whole chain on simulated plates, then the service. On first run it
//! simulates three plates (under var/demo/), runs the pipeline on them, ingests the 30 real
//! DFBS spectra of plate fbs1163, and serves the catalogue; later runs find the catalogue filled
//! and go straight to serving.

use std::process::ExitCode;

use anyhow::Result;

use crate::config::Config;
use crate::pipeline::catalogue::{write_plate, WriteMode};
use crate::pipeline::ingest::spec_records;
use crate::pipeline::params::PipelineParams;
use crate::pipeline::plate::{ingest_plates, PlateRun};
use crate::sim::{simulate, SimulateOptions};

/// Plates the demo simulates: 3 plates of 3072 x 3072 pixels (1.3 x 1.3 deg, about 1,400
/// spectra each).
const DEMO_PLATES: usize = 3;
const DEMO_SIZE: (usize, usize) = (3072, 3072);

pub async fn run(config: Config, listen: Option<String>) -> Result<ExitCode> {
    let open = super::open_database(&config).await?;
    let mut client = open.database.connect_as(crate::db::INGEST_ROLE).await?;
    let plates: i64 = client.query_one("SELECT count(*) FROM dfbs.plates", &[]).await?.get(0);
    if plates == 0 {
        let out = config.resolve(std::path::Path::new("var/demo"));
        eprintln!("demo: simulating {DEMO_PLATES} plates into {}", out.display());
        let options = SimulateOptions {
            out: out.clone(),
            plates: DEMO_PLATES,
            seed: 2026,
            size: DEMO_SIZE,
            progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            ..SimulateOptions::default()
        };
        let summaries = tokio::task::block_in_place(|| simulate(&options))?;
        eprint!("{}", crate::sim::summary_table(&summaries));
        let scans: Vec<_> = summaries.iter().map(|s| s.files.scan.clone()).collect();
        eprintln!("demo: running the pipeline on them");
        let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let classifier = super::classify::installed_classifier(&config)?;
        if classifier.is_none() {
            eprintln!("demo: no classifier model in {}: the class columns stay empty", config.classify.model_dir.display());
        }
        let classifier = classifier.as_ref().map(|c| c as &dyn crate::pipeline::plate::Classifier);
        for outcome in ingest_plates(&mut client, &scans, 2, WriteMode::ReplacePlate, &PlateRun { params: &PipelineParams::default(), classifier, seeds: None, references: None }, progress).await {
            match outcome.error {
                Some(error) => eprintln!("demo: {}: {error}", outcome.input),
                None => eprintln!("demo: {} -> {} spectra in {:.1} s", outcome.plate, outcome.spectra, outcome.seconds),
            }
        }
        let real_dir = config.project_dir.join("tests/data/dfbs-spectra-fbs1163");
        let mut real: Vec<_> = std::fs::read_dir(&real_dir)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "spec")).collect())
            .unwrap_or_default();
        real.sort();
        let (groups, errors) = spec_records(&real);
        for error in errors {
            eprintln!("demo: {}: {}", error.path.display(), error.message);
        }
        for (plate, spectra) in groups {
            let outcome = write_plate(&mut client, &plate, &spectra, WriteMode::MergeSpectra).await?;
            eprintln!("demo: {} real DFBS spectra of plate {}", outcome.spectra, plate.plateid);
        }
    }
    drop(client);
    let result = super::serve(config, listen).await;
    // serve stops the cluster only if it started it; the demo may have started it here.
    open.close().await?;
    result
}
