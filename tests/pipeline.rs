//! The plate pipeline end to end on simulated plates: FITS reading, detection and extraction,
//! the catalogue rows in PostgreSQL, the evaluation against the truth, and every kind of bad
//! input (each a clear per-plate error; the other plates go on).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use dfbs_vo::pipeline::catalogue::{write_plate, WriteMode};
use dfbs_vo::pipeline::evaluate::{catalogue_objects, evaluate, read_defects_csv, read_truth_csv};
use dfbs_vo::pipeline::fits::PlateScan;
use dfbs_vo::pipeline::params::PipelineParams;
use dfbs_vo::pipeline::plate::{ingest_plates, process_plate, PlateRun};
use dfbs_vo::sim::{simulate, SimulateOptions};

fn simulated(dir: &Path, seed: u64, size: (usize, usize)) -> PathBuf {
    let options = SimulateOptions { out: dir.to_path_buf(), seed, size, first_plate: 7000 + seed as u32, ..SimulateOptions::default() };
    let summaries = simulate(&options).unwrap();
    summaries[0].files.scan.clone()
}

#[test]
fn fits_reading_gives_the_simulators_header_and_pixels() {
    let dir = test_dir();
    let path = simulated(dir.path(), 1, (700, 900));
    let mut scan = PlateScan::open(&path).unwrap();
    assert_eq!((scan.width, scan.height), (700, 900));
    assert_eq!(scan.header.text("EMULSION").is_some(), true);
    assert_eq!(scan.header.text("REDEND").as_deref(), Some("+y"));
    let wcs = scan.wcs().unwrap();
    assert!((wcs.pixel_scale_arcsec() - 1.537).abs() < 0.02);
    let mut rows = Vec::new();
    scan.read_rows(100, 3, &mut rows).unwrap();
    assert_eq!(rows.len(), 3 * 700);
    assert!(rows.iter().all(|v| (0.0..=16383.0).contains(v)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_plate_is_found_placed_and_written() {
    let dir = test_dir();
    let path = simulated(dir.path(), 2, (1600, 1600));
    let processed = process_plate(&path, &PlateRun::detect(&PipelineParams::default())).unwrap();
    assert!(processed.spectra.len() > 200, "{} spectra", processed.spectra.len());
    let database = catalogue_database("t_pipeline_plate").await;
    let mut client = database.connect_as(dfbs_vo::db::INGEST_ROLE).await.unwrap();
    let outcome = write_plate(&mut client, &processed.plate, &processed.spectra, WriteMode::NewPlate).await.unwrap();
    assert_eq!(outcome.spectra as usize, processed.spectra.len());
    // Evaluate from the catalogue rows, as `dfbs-vo evaluate` does.
    let catalogue = catalogue_objects(&client, &processed.plate.plateid).await.unwrap();
    let truth = read_truth_csv(&std::fs::read_to_string(path.with_extension("truth.csv")).unwrap()).unwrap();
    let defects = read_defects_csv(&std::fs::read_to_string(path.with_extension("defects.csv")).unwrap()).unwrap();
    let limit: f64 = processed.plate.ingest_params["header"]["LIMMAG"].as_f64().unwrap();
    let e = evaluate(&processed.plate.plateid, &truth, &catalogue, &defects, limit, processed.plate.magb_limit.map(f64::from), 3.0);
    eprintln!("{}", e.table());
    assert!(e.bright.fraction().unwrap() > 0.95, "{}", e.table());
    assert!(e.to_limit.fraction().unwrap() > 0.85, "{}", e.table());
    assert!(e.purity().unwrap() > 0.95, "{}", e.table());
    assert!(e.error_percentile(50.0) < 1.0, "{}", e.table());
    // The simulator's reference catalogue beside the scan calibrated magb: unbiased and tight
    // for the stars well above the limit, and the plate's limit measured from it.
    let plate = &processed.plate;
    assert!(plate.magb_calib_pairs.unwrap() > 100, "{:?}", plate.ingest_params["photometry"]);
    assert!(plate.magb_calib_rms.unwrap() < 0.3, "{:?}", plate.magb_calib_rms);
    let bright: Vec<f64> = e.photometry.iter().filter(|(b, _)| (13.0..=16.5).contains(b)).map(|(b, m)| m - b).collect();
    let (median, sd) = dfbs_vo::pipeline::evaluate::robust_location_scale(&bright).unwrap();
    assert!(median.abs() < 0.1 && sd < 0.25, "magb - B at 13-16.5: {median:+.3} / {sd:.3}\n{}", e.table());
    let red: Vec<f64> = e.photometry_r.iter().filter(|(r, _)| (12.5..=15.5).contains(r)).map(|(r, m)| m - r).collect();
    let (median, sd) = dfbs_vo::pipeline::evaluate::robust_location_scale(&red).unwrap();
    assert!(median.abs() < 0.1 && sd < 0.25, "magr - R at 12.5-15.5: {median:+.3} / {sd:.3}\n{}", e.table());
    assert!(plate.ingest_params["photometry"]["calibration"]["r_band"]["pairs"].as_u64().unwrap() > 100);
    let measured = plate.magb_limit.expect("the catalogue reaches past the limit") as f64;
    assert!((measured - limit).abs() < 0.6, "magb_limit {measured} against LIMMAG {limit}");
    // The same catalogue given for all plates (--reference) calibrates the same way.
    let references = dfbs_vo::pipeline::plate::read_reference_file(&path.with_extension("ref.csv")).unwrap();
    std::fs::remove_file(path.with_extension("ref.csv")).unwrap();
    let params = PipelineParams::default();
    let given = process_plate(&path, &PlateRun { references: Some(&references), ..PlateRun::detect(&params) }).unwrap();
    assert_eq!((given.plate.magb_limit, given.plate.magb_calib_pairs), (plate.magb_limit, plate.magb_calib_pairs));
    // Without the catalogue the same plate's magb is instrumental and no limit is claimed.
    let uncalibrated = process_plate(&path, &PlateRun::detect(&PipelineParams::default())).unwrap();
    assert_eq!((uncalibrated.plate.magb_limit, uncalibrated.plate.magb_calib_pairs), (None, None));
    assert!(uncalibrated.plate.ingest_params.get("photometry").is_none());
    let both = uncalibrated.spectra.iter().zip(&processed.spectra).filter(|(u, c)| u.magb.is_some() && c.magb.is_some()).count();
    assert!(both > 100 && uncalibrated.spectra.iter().filter(|s| s.magb.is_some()).count() == both);
    // Every row is on the sky the plate covers and on the DFBS grid.
    for s in &processed.spectra {
        assert_eq!(s.flux.len(), 136);
        assert!(s.specid.starts_with(&processed.plate.plateid));
        assert!(matches!(s.sp_class.as_deref(), Some("OK" | "NL" | "U")));
    }
    // Re-ingest without --replace is refused; with it, the plate is replaced.
    assert!(write_plate(&mut client, &processed.plate, &processed.spectra, WriteMode::NewPlate).await.is_err());
    write_plate(&mut client, &processed.plate, &processed.spectra[..10], WriteMode::ReplacePlate).await.unwrap();
    let count: i64 = client.query_one("SELECT count(*) FROM dfbs.spectra", &[]).await.unwrap().get(0);
    assert_eq!(count, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalogued_plate_is_calibrated_later_as_at_ingest() {
    use dfbs_vo::pipeline::plate::read_reference_file;
    use dfbs_vo::pipeline::recalibrate::recalibrate_plate;
    let dir = test_dir();
    let path = simulated(dir.path(), 4, (1600, 1600));
    let params = PipelineParams::default();
    let at_ingest = process_plate(&path, &PlateRun::detect(&params)).unwrap();
    let reference = path.with_extension("ref.csv");
    let references = read_reference_file(&reference).unwrap();
    std::fs::remove_file(&reference).unwrap();
    let plain = process_plate(&path, &PlateRun::detect(&params)).unwrap();
    assert_eq!(plain.plate.magb_calib_pairs, None);
    let database = catalogue_database("t_pipeline_recalibrate").await;
    let mut client = database.connect_as(dfbs_vo::db::INGEST_ROLE).await.unwrap();
    write_plate(&mut client, &plain.plate, &plain.spectra, WriteMode::NewPlate).await.unwrap();
    let plateid = plain.plate.plateid.as_str();
    let done = recalibrate_plate(&mut client, plateid, &references, "ref.csv").await.unwrap();
    // The same pairs and curve as at ingest (the B-band sums come from the stored float4 flux).
    assert_eq!(done.calibration.b_band.pairs as i32, at_ingest.plate.magb_calib_pairs.unwrap());
    let (limit, ingest_limit) = (done.calibration.limit.unwrap(), at_ingest.plate.magb_limit.unwrap() as f64);
    assert!((limit - ingest_limit).abs() < 1e-3, "{limit} against {ingest_limit}");
    assert_eq!(done.updated as usize, plain.spectra.len());
    let rows = client
        .query("SELECT s.specid, s.magb, p.magb_limit, p.ingest_params->'photometry'->>'by' FROM dfbs.spectra s JOIN dfbs.plates p ON p.plateid = s.plate ORDER BY s.specid", &[])
        .await
        .unwrap();
    let ingest_magb: std::collections::HashMap<&str, Option<f32>> = at_ingest.spectra.iter().map(|s| (s.specid.as_str(), s.magb)).collect();
    for row in &rows {
        let (specid, magb): (&str, Option<f32>) = (row.get(0), row.get(1));
        let expected = ingest_magb[specid];
        assert_eq!(magb.is_some(), expected.is_some(), "{specid}");
        if let (Some(a), Some(b)) = (magb, expected) {
            assert!((a - b).abs() < 1e-3, "{specid}: {a} against {b} at ingest");
        }
    }
    assert_eq!(rows[0].get::<_, Option<&str>>(3), Some("dfbs-vo calibrate"));
    // A plate that is not there, or a catalogue for another field, changes nothing.
    assert!(recalibrate_plate(&mut client, "fbs9999", &references, "x").await.unwrap_err().contains("not in the catalogue"));
    let elsewhere: Vec<_> = references.iter().map(|r| dfbs_vo::pipeline::photometry::Reference { dec: -r.dec, ..*r }).collect();
    assert!(recalibrate_plate(&mut client, plateid, &elsewhere, "x").await.unwrap_err().contains("too few"));
    let limit_now: Option<f32> = client.query_one("SELECT magb_limit FROM dfbs.plates", &[]).await.unwrap().get(0);
    assert_eq!(limit_now, Some(limit as f32));
}

/// Writes a 16-bit image with the given header cards and pixel value.
fn write_fits(path: &Path, bitpix_float: bool, width: usize, height: usize, value: f64, cards: &[(&str, &str)], blank: bool) {
    use fitsio::images::{ImageDescription, ImageType};
    let description = ImageDescription {
        data_type: if bitpix_float { ImageType::Float } else { ImageType::Short },
        dimensions: &[height, width],
    };
    let mut file = fitsio::FitsFile::create(path).with_custom_primary(&description).open().unwrap();
    let hdu = file.primary_hdu().unwrap();
    for (key, text) in cards {
        match text.parse::<f64>() {
            Ok(number) => hdu.write_key(&mut file, key, number).unwrap(),
            Err(_) => hdu.write_key(&mut file, key, *text).unwrap(),
        }
    }
    if blank {
        hdu.write_key(&mut file, "BLANK", -32768i64).unwrap();
    }
    let pixels: Vec<f64> = vec![value; width * height];
    hdu.write_image(&mut file, &pixels).unwrap();
}

const WCS_CARDS: [(&str, &str); 10] = [
    ("CTYPE1", "RA---TAN"),
    ("CTYPE2", "DEC--TAN"),
    ("CRPIX1", "300"),
    ("CRPIX2", "300"),
    ("CRVAL1", "150"),
    ("CRVAL2", "30"),
    ("CD1_1", "-0.000427"),
    ("CD1_2", "0"),
    ("CD2_1", "0"),
    ("CD2_2", "0.000427"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_plates_are_reported_and_the_others_go_on() {
    let dir = test_dir();
    let good = simulated(dir.path(), 3, (900, 1200));
    let truncated = dir.path().join("fbs7901.fits");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let no_wcs = dir.path().join("fbs7902.fits");
    write_fits(&no_wcs, false, 600, 600, 14000.0, &[], false);
    let float = dir.path().join("fbs7903.fits");
    write_fits(&float, true, 600, 600, 14000.0, &WCS_CARDS, false);
    let blank = dir.path().join("fbs7904.fits");
    write_fits(&blank, false, 600, 600, -32768.0, &WCS_CARDS, true);
    let empty = dir.path().join("fbs7905.fits");
    write_fits(&empty, false, 600, 600, 14000.0, &WCS_CARDS, false);
    let missing = dir.path().join("fbs7906.fits");
    let paths = vec![truncated, no_wcs, float, good.clone(), blank, empty, missing];

    let database = catalogue_database("t_pipeline_bad").await;
    let mut client = database.connect_as(dfbs_vo::db::INGEST_ROLE).await.unwrap();
    let outcomes = ingest_plates(&mut client, &paths, 2, WriteMode::NewPlate, &PlateRun::detect(&PipelineParams::default()), false).await;
    assert_eq!(outcomes.len(), paths.len());
    let message = |i: usize| outcomes[i].error.clone().unwrap_or_default();
    assert!(message(0).contains("truncated") || message(0).contains("complete FITS"), "{}", message(0));
    assert!(message(1).contains("CTYPE1") && message(1).contains("WCS"), "{}", message(1));
    assert!(message(2).contains("BITPIX = -32"), "{}", message(2));
    assert!(outcomes[3].error.is_none(), "{:?}", outcomes[3].error);
    assert!(outcomes[3].spectra > 100);
    assert!(message(4).contains("no spectra") || message(4).contains("blank") || message(4).contains("undefined"), "{}", message(4));
    assert!(message(5).contains("no spectra"), "{}", message(5));
    assert!(message(6).contains("cannot open"), "{}", message(6));
    // Only the good plate is in the catalogue, whole.
    let plates: Vec<String> = client.query("SELECT plateid FROM dfbs.plates", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(plates, vec!["fbs7003".to_string()]);
    let count: i64 = client.query_one("SELECT count(*) FROM dfbs.spectra", &[]).await.unwrap().get(0);
    assert_eq!(count as u64, outcomes[3].spectra);
}

#[test]
fn seeded_mode_extracts_at_catalogue_positions() {
    let dir = test_dir();
    let path = simulated(dir.path(), 4, (1200, 1400));
    let truth = read_truth_csv(&std::fs::read_to_string(path.with_extension("truth.csv")).unwrap()).unwrap();
    let bright: Vec<_> = truth.iter().filter(|t| t.visible && !t.clipped && !t.overlaps && t.mag_b < 16.0).collect();
    assert!(bright.len() > 10);
    let mut seeds: Vec<(f64, f64)> = bright.iter().map(|t| (t.ra, t.dec)).collect();
    // A position off the plate is ignored.
    seeds.push((0.0, -89.0));
    let params = PipelineParams::default();
    let run = PlateRun { params: &params, classifier: None, seeds: Some(&seeds), references: None };
    let processed = process_plate(&path, &run).unwrap();
    assert!(processed.spectra.len() >= bright.len() * 9 / 10, "{} of {}", processed.spectra.len(), bright.len());
    for spectrum in &processed.spectra {
        let nearest = bright
            .iter()
            .map(|t| dfbs_vo::pipeline::evaluate::separation_arcsec(t.ra, t.dec, spectrum.ra, spectrum.dec))
            .fold(f64::INFINITY, f64::min);
        assert!(nearest < 3.0, "{} is {nearest}\" from its seed", spectrum.specid);
    }
}
