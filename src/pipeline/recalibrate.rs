//! The photometric calibration of plates already in the catalogue (`dfbs-vo calibrate`):
//! against a reference catalogue that came after the ingest, or a better one, without the
//! scans. The B-band instrumental magnitudes come again from the catalogue's spectra (the sum
//! over [`B_BAND_BINS`](super::extract::B_BAND_BINS) plus the zero point the ingest used,
//! recorded in `ingest_params.params`) for the spectra that have a `magb` (the ingest's S/N test
//! needs the scan's noise, so which spectra have one stays as ingested), and the R band's
//! likewise for `magr`; the plate's footprint
//! comes from `wcs_header`, `naxis1` and `naxis2`. Everything else is the ingest's calibration
//! ([`super::photometry`]), and a plate is updated in one transaction.

use super::catalogue::{update_photometry, PlateRecord};
use super::extract::{band_instrumental, B_BAND_BINS, R_BAND_BINS};
use super::fits::Header;
use super::photometry::{calibrate, catalogue_magnitudes, Calibration, Measured, Reference};
use super::plate::references_on_plate;

/// What calibrating a plate did.
#[derive(Debug)]
pub struct Recalibrated {
    pub calibration: Calibration,
    /// Spectra whose `magb` and `magr` were rewritten.
    pub updated: u64,
}

/// Calibrates catalogued plate `plate` against `references` (`source` names them in the
/// provenance). Errors say what is missing and what to do; on error nothing changes.
pub async fn recalibrate_plate(
    client: &mut tokio_postgres::Client,
    plate: &str,
    references: &[Reference],
    source: &str,
) -> Result<Recalibrated, String> {
    let db = |e: tokio_postgres::Error| format!("{plate}: {e}");
    let row = client
        .query_opt(
            "SELECT wcs_header, naxis1, naxis2, (ingest_params->'params'->>'mag_zero_point_b')::float8, \
             (ingest_params->'params'->>'mag_zero_point_r')::float8 FROM dfbs.plates WHERE plateid = $1",
            &[&plate],
        )
        .await
        .map_err(db)?
        .ok_or_else(|| format!("{plate}: not in the catalogue (ingest it first)"))?;
    let (wcs_header, width, height, zero_point, zero_point_r): (String, Option<i32>, Option<i32>, Option<f64>, Option<f64>) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    let (Some(zero_point), Some(zero_point_r)) = (zero_point, zero_point_r) else {
        return Err(format!("{plate}: ingested before magb and magr were measured in the B and R bands: re-ingest it (dfbs-vo ingest SCAN --replace)"));
    };
    let (Some(width), Some(height)) = (width, height) else {
        return Err(format!("{plate}: no scan dimensions (it came from DFBS ASCII spectra): nothing to calibrate"));
    };
    let wcs = Header::parse(wcs_header.as_bytes()).wcs().map_err(|e| format!("{plate}: the stored plate solution: {e}"))?;
    let rows = client
        .query(
            "SELECT specid, ra, dec, sp_class, flux, magb IS NOT NULL, magr IS NOT NULL FROM dfbs.spectra WHERE plate = $1 \
             ORDER BY specid",
            &[&plate],
        )
        .await
        .map_err(db)?;
    let mut specids = Vec::with_capacity(rows.len());
    let mut measured = Vec::with_capacity(rows.len());
    for row in &rows {
        let flux: Option<Vec<Option<f32>>> = row.get(4);
        let (had_magb, had_magr): (bool, bool) = (row.get(5), row.get(6));
        let instrumental = |had: bool, bins: std::ops::RangeInclusive<usize>, zero_point: f64| {
            flux.as_deref().filter(|_| had).and_then(|f| band_instrumental(f, bins, zero_point))
        };
        let instrumental_b = instrumental(had_magb, B_BAND_BINS, zero_point);
        let instrumental_r = instrumental(had_magr, R_BAND_BINS, zero_point_r);
        specids.push(row.get::<_, String>(0));
        measured.push(Measured {
            ra: row.get(1),
            dec: row.get(2),
            instrumental_b,
            instrumental_r,
            clean: row.get::<_, Option<&str>>(3) == Some("OK"),
        });
    }
    let on_plate = references_on_plate(references, &wcs, width as f64, height as f64);
    let calibration = calibrate(&measured, &on_plate).map_err(|e| format!("{plate}: {e}"))?;
    let magnitudes: Vec<(String, Option<f32>, Option<f32>)> = specids
        .into_iter()
        .zip(&measured)
        .map(|(specid, m)| {
            let (magb, magr) = catalogue_magnitudes(Some(&calibration), m.instrumental_b, m.instrumental_r);
            (specid, magb, magr)
        })
        .collect();
    let mut record = PlateRecord {
        plateid: plate.to_string(),
        ingest_params: serde_json::json!({ "photometry": { "reference": source, "calibration": calibration, "by": "dfbs-vo calibrate" } }),
        ..PlateRecord::default()
    };
    record.set_calibration(&calibration);
    let updated = update_photometry(client, &record, &magnitudes).await.map_err(db)?;
    Ok(Recalibrated { calibration, updated })
}
