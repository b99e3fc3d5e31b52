//! Ingest into a real PostgreSQL: the 30 real DFBS ASCII spectra of plate fbs1163 (their flux
//! must land on the right wavelength bins), and the one-transaction plate writes.

mod common;

use common::*;
use dfbs_vo::pipeline::catalogue::{write_plate, PlateRecord, SpectrumRecord, WriteError, WriteMode};
use dfbs_vo::pipeline::ingest::spec_records;
use dfbs_vo::pipeline::spec;
use dfbs_vo::pipeline::wavelength::wavelength_nm;

fn real_spectra() -> Vec<std::path::PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir(project_dir().join("tests/data/dfbs-spectra-fbs1163"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "spec"))
        .collect();
    paths.sort();
    paths
}

#[tokio::test]
async fn the_30_real_spectra_ingest_with_flux_on_the_right_bins() {
    let database = catalogue_database("t_ingest_spec").await;
    let mut client = database.connect_as(dfbs_vo::db::INGEST_ROLE).await.unwrap();
    let paths = real_spectra();
    assert_eq!(paths.len(), 30);
    let (plates, errors) = spec_records(&paths);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(plates.len(), 1);
    let (plate, spectra) = &plates[0];
    assert_eq!(plate.plateid, "fbs1163");
    let outcome = write_plate(&mut client, plate, spectra, WriteMode::MergeSpectra).await.unwrap();
    assert_eq!(outcome.spectra, 30);
    // Again: the same spectra are replaced, not duplicated.
    write_plate(&mut client, plate, spectra, WriteMode::MergeSpectra).await.unwrap();
    let rows = client
        .query("SELECT specid, flux, lam_min, lam_max, sp_class, magb FROM dfbs.spectra ORDER BY specid", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 30);
    let n_spectra: i32 = client.query_one("SELECT n_spectra FROM dfbs.plates WHERE plateid = 'fbs1163'", &[]).await.unwrap().get(0);
    assert_eq!(n_spectra, 30);
    for (row, path) in rows.iter().zip(&paths) {
        let parsed = spec::parse_file(path).unwrap();
        let specid: String = row.get(0);
        assert_eq!(specid, format!("fbs1163-{}", parsed.objectid));
        let flux: Vec<Option<f32>> = row.get(1);
        assert_eq!(flux.len(), 136);
        // Every sample of the file at or blueward of 690 nm is in the bin of its wavelength.
        let mut checked = 0;
        for sample in &parsed.samples {
            if sample.wavelength_nm > 690.5 {
                continue;
            }
            let bin = (0..136).min_by(|a, b| {
                (wavelength_nm(*a as f64) - sample.wavelength_nm).abs().total_cmp(&(wavelength_nm(*b as f64) - sample.wavelength_nm).abs())
            });
            let bin = bin.unwrap();
            assert!((wavelength_nm(bin as f64) - sample.wavelength_nm).abs() < 0.6, "{specid}: {} nm", sample.wavelength_nm);
            assert_eq!(flux[bin], Some(sample.intensity), "{specid}: bin {bin} ({} nm)", sample.wavelength_nm);
            checked += 1;
        }
        assert!(checked >= 100, "{specid}: only {checked} samples on the grid");
        let lam_max: f64 = row.get(3);
        assert!((lam_max - 690e-9).abs() < 1e-10);
        let lam_min: f64 = row.get(2);
        assert!(lam_min < 345e-9);
        let quality: String = row.get(4);
        assert_eq!(quality, parsed.quality);
    }
}

fn plate(id: &str) -> PlateRecord {
    PlateRecord { plateid: id.into(), ra_center: Some(10.0), dec_center: Some(20.0), ..PlateRecord::default() }
}

fn spectrum(plate: &str, n: usize, ra: f64) -> SpectrumRecord {
    SpectrumRecord {
        specid: format!("{plate}-{n}"),
        objectid: format!("obj{n}"),
        ra,
        dec: 20.0,
        flux: vec![Some(1.0); 136],
        ..SpectrumRecord::default()
    }
}

#[tokio::test]
async fn a_plate_is_written_whole_or_not_at_all() {
    let database = catalogue_database("t_ingest_atomic").await;
    let mut client = database.connect_as(dfbs_vo::db::INGEST_ROLE).await.unwrap();
    let good: Vec<_> = (0..50).map(|n| spectrum("fbs9001", n, 10.0 + n as f64 * 1e-3)).collect();
    write_plate(&mut client, &plate("fbs9001"), &good, WriteMode::NewPlate).await.unwrap();
    // A second time without replace: refused, nothing changes.
    let err = write_plate(&mut client, &plate("fbs9001"), &good[..10], WriteMode::NewPlate).await.unwrap_err();
    assert!(matches!(err, WriteError::Exists(_)), "{err}");
    assert!(err.to_string().contains("--replace"));
    // A replacement whose last row is bad (RA out of range) fails and leaves the old rows.
    let mut bad = good[..20].to_vec();
    bad.push(spectrum("fbs9001", 99, 400.0));
    assert!(write_plate(&mut client, &plate("fbs9001"), &bad, WriteMode::ReplacePlate).await.is_err());
    let count: i64 = client.query_one("SELECT count(*) FROM dfbs.spectra WHERE plate = 'fbs9001'", &[]).await.unwrap().get(0);
    assert_eq!(count, 50);
    // A good replacement replaces.
    write_plate(&mut client, &plate("fbs9001"), &good[..20], WriteMode::ReplacePlate).await.unwrap();
    let count: i64 = client.query_one("SELECT count(*) FROM dfbs.spectra WHERE plate = 'fbs9001'", &[]).await.unwrap().get(0);
    assert_eq!(count, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_going_away_mid_ingest_rolls_the_plate_back() {
    let database = catalogue_database("t_ingest_killed").await;
    let mut client = database.connect_as(dfbs_vo::db::INGEST_ROLE).await.unwrap();
    let admin = database.connect_admin().await.unwrap();
    let spectra: Vec<_> = (0..60_000).map(|n| spectrum("fbs9002", n, 10.0 + n as f64 * 1e-6)).collect();
    // Terminate the ingest connection while its COPY runs.
    let killer = tokio::spawn(async move {
        for _ in 0..200 {
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            let killed: i64 = admin
                .query_one(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                     WHERE usename = 'dfbs_ingest' AND query LIKE 'COPY dfbs.spectra%'",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            if killed > 0 {
                return (true, admin);
            }
        }
        (false, admin)
    });
    let result = write_plate(&mut client, &plate("fbs9002"), &spectra, WriteMode::NewPlate).await;
    let (killed, admin) = killer.await.unwrap();
    assert!(killed, "the COPY finished before it could be interrupted");
    assert!(result.is_err());
    // Nothing of the plate is left.
    let rows: i64 = admin.query_one("SELECT count(*) FROM dfbs.plates WHERE plateid = 'fbs9002'", &[]).await.unwrap().get(0);
    assert_eq!(rows, 0);
    // Running it again (a new connection) completes it.
    let mut client = database.connect_as(dfbs_vo::db::INGEST_ROLE).await.unwrap();
    let outcome = write_plate(&mut client, &plate("fbs9002"), &spectra, WriteMode::NewPlate).await.unwrap();
    assert_eq!(outcome.spectra, 60_000);
    let rows: i64 = admin.query_one("SELECT count(*) FROM dfbs.spectra WHERE plate = 'fbs9002'", &[]).await.unwrap().get(0);
    assert_eq!(rows, 60_000);
}
