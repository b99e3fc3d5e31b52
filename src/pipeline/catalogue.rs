//! Catalogue rows as the pipeline produces them, and writing a plate with all its spectra to
//! PostgreSQL in one transaction (COPY, binary format).
//!
//! A plate is all or nothing: its row and every spectrum row are written in one transaction,
//! so a failure (bad data, the database going away) leaves the catalogue as it was, and
//! running the command again completes it. With `replace`, an existing plate's rows are
//! deleted in the same transaction (ON DELETE CASCADE removes its spectra).

use chrono::NaiveDateTime;
use futures_util::pin_mut;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

/// One row of dfbs.plates.
#[derive(Debug, Clone, Default)]
pub struct PlateRecord {
    pub plateid: String,
    pub epoch: Option<f64>,
    pub date_obs: Option<NaiveDateTime>,
    pub exptime: Option<f32>,
    pub emulsion: Option<String>,
    pub ra_center: Option<f64>,
    pub dec_center: Option<f64>,
    pub field_name: Option<String>,
    pub plate_number: Option<String>,
    pub wfpdb_id: Option<String>,
    pub naxis1: Option<i32>,
    pub naxis2: Option<i32>,
    pub wcs_header: String,
    pub source_file: Option<String>,
    pub checksum: Option<String>,
    pub pipeline_version: Option<String>,
    pub ingest_params: serde_json::Value,
    /// The photometric calibration against a reference catalogue (`photometry`): the 50 %
    /// completeness limit in B, the pairs the curve was fitted to, and its robust scatter.
    pub magb_limit: Option<f32>,
    pub magb_calib_pairs: Option<i32>,
    pub magb_calib_rms: Option<f32>,
}

impl PlateRecord {
    /// The plate's columns of a photometric calibration (`magb_limit`, `magb_calib_pairs`,
    /// `magb_calib_rms`).
    pub fn set_calibration(&mut self, calibration: &super::photometry::Calibration) {
        self.magb_limit = calibration.limit.map(|l| l as f32);
        self.magb_calib_pairs = Some(calibration.b_band.pairs.min(i32::MAX as usize) as i32);
        self.magb_calib_rms = Some(calibration.b_band.rms as f32);
    }
}

/// Class columns filled by the classify stage (issue 7); all None until then.
#[derive(Debug, Clone, Default)]
pub struct Classification {
    pub label: Option<String>,
    pub probability: Option<f32>,
    /// One per class, in the order of `sim::templates::ObjectClass::ALL`.
    pub class_probabilities: Option<[f32; 10]>,
    /// The most probable subclass within `label`'s class and its probability (pipeline::subclass).
    pub subclass: Option<String>,
    pub subclass_probability: Option<f32>,
    pub classifier: Option<String>,
    pub classifier_version: Option<String>,
    pub anomaly_score: Option<f32>,
}

/// One row of dfbs.spectra.
#[derive(Debug, Clone, Default)]
pub struct SpectrumRecord {
    pub specid: String,
    pub objectid: String,
    pub ra: f64,
    pub dec: f64,
    pub magb: Option<f32>,
    pub magr: Option<f32>,
    pub snr: Option<f32>,
    pub sky: Option<f32>,
    pub px_x: Option<f32>,
    pub px_y: Option<f32>,
    pub pos_ang: Option<f32>,
    pub px_length: Option<i16>,
    pub sp_class: Option<String>,
    /// Metres, as published.
    pub lam_min: Option<f64>,
    pub lam_max: Option<f64>,
    pub flux: Vec<Option<f32>>,
    pub classification: Classification,
    pub pipeline_version: Option<String>,
}

/// The DFBS object name of a position: `DFBSJhhmmss.ss+ddmmss.s` (truncated, not rounded,
/// as IAU names are).
pub fn object_id(ra: f64, dec: f64) -> String {
    let ra_hours = ra.rem_euclid(360.0) / 15.0;
    let total_centiseconds = (ra_hours * 360_000.0).floor() as i64;
    let (h, rest) = (total_centiseconds / 360_000, total_centiseconds % 360_000);
    let (m, cs) = (rest / 6_000, rest % 6_000);
    let sign = if dec < 0.0 { '-' } else { '+' };
    let total_deciseconds = (dec.abs() * 36_000.0).floor() as i64;
    let (d, rest) = (total_deciseconds / 36_000, total_deciseconds % 36_000);
    let (dm, ds) = (rest / 600, rest % 600);
    format!("DFBSJ{h:02}{m:02}{:02}.{:02}{sign}{d:02}{dm:02}{:02}.{}", cs / 100, cs % 100, ds / 10, ds % 10)
}

/// Gives every spectrum of a plate a unique specid `plate-objectid`; close pairs that share an
/// object name get `-2`, `-3`, ... in the order given.
pub fn assign_specids(plateid: &str, spectra: &mut [SpectrumRecord]) {
    let mut seen = std::collections::HashMap::<String, u32>::new();
    for spectrum in spectra {
        let base = format!("{plateid}-{}", spectrum.objectid);
        let count = seen.entry(base.clone()).or_insert(0);
        *count += 1;
        spectrum.specid = if *count == 1 { base } else { format!("{base}-{count}") };
    }
}

/// What `write_plate` did.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteOutcome {
    pub replaced: bool,
    pub spectra: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("plate {0} is already in the catalogue; use --replace to re-ingest it")]
    Exists(String),
    #[error("database: {0}")]
    Database(#[from] tokio_postgres::Error),
}

/// The columns of dfbs.spectra that the classify stage fills, with their types: written by
/// ingest ([`write_plate`]) and replaced by re-classification ([`update_classes`]), in this
/// order ([`class_values`]).
const CLASS_COLUMNS: [(&str, Type); 17] = [
    ("class_label", Type::TEXT),
    ("class_prob", Type::FLOAT4),
    ("prob_star", Type::FLOAT4),
    ("prob_mstar", Type::FLOAT4),
    ("prob_carbon", Type::FLOAT4),
    ("prob_sd", Type::FLOAT4),
    ("prob_wd", Type::FLOAT4),
    ("prob_cv", Type::FLOAT4),
    ("prob_pn", Type::FLOAT4),
    ("prob_uvx", Type::FLOAT4),
    ("prob_sy", Type::FLOAT4),
    ("prob_qso", Type::FLOAT4),
    ("classifier", Type::TEXT),
    ("classifier_version", Type::TEXT),
    ("anomaly_score", Type::FLOAT4),
    ("subclass", Type::TEXT),
    ("subclass_prob", Type::FLOAT4),
];

/// The values of [`CLASS_COLUMNS`] for one spectrum; `probabilities` holds the ten per-class
/// probabilities (all None when unclassified), which the row borrows.
fn class_values<'a>(c: &'a Classification, probabilities: &'a [Option<f32>; 10]) -> [&'a (dyn ToSql + Sync); 17] {
    let [p0, p1, p2, p3, p4, p5, p6, p7, p8, p9] = probabilities;
    [
        &c.label,
        &c.probability,
        p0,
        p1,
        p2,
        p3,
        p4,
        p5,
        p6,
        p7,
        p8,
        p9,
        &c.classifier,
        &c.classifier_version,
        &c.anomaly_score,
        &c.subclass,
        &c.subclass_probability,
    ]
}

fn class_probabilities(c: &Classification) -> [Option<f32>; 10] {
    match c.class_probabilities {
        Some(p) => p.map(Some),
        None => [None; 10],
    }
}

/// The columns before and after [`CLASS_COLUMNS`] in a COPY of dfbs.spectra.
const SPECTRUM_HEAD: &str = "specid, objectid, plate, ra, dec, magb, magr, snr, sky, px_x, px_y, pos_ang, \
px_length, sp_class, lam_min, lam_max, flux";
const SPECTRUM_TAIL: &str = "pipeline_version";

fn class_column_names() -> impl Iterator<Item = &'static str> {
    CLASS_COLUMNS.iter().map(|(name, _)| *name)
}

fn spectrum_columns() -> String {
    let class: Vec<&str> = class_column_names().collect();
    format!("{SPECTRUM_HEAD}, {}, {SPECTRUM_TAIL}", class.join(", "))
}

fn spectrum_types() -> Vec<Type> {
    let mut types = vec![Type::TEXT, Type::TEXT, Type::TEXT, Type::FLOAT8, Type::FLOAT8];
    types.extend([Type::FLOAT4; 7]); // magb, magr, snr, sky, px_x, px_y, pos_ang
    types.extend([Type::INT2, Type::TEXT, Type::FLOAT8, Type::FLOAT8, Type::FLOAT4_ARRAY]);
    types.extend(CLASS_COLUMNS.iter().map(|(_, t)| t.clone()));
    types.push(Type::TEXT); // pipeline_version
    types
}

/// How a write treats what the catalogue already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// The plate must be new.
    NewPlate,
    /// The plate's rows (and so all its spectra) are deleted first.
    ReplacePlate,
    /// Spectra are added to the plate (created if missing); spectra with the same specid are
    /// replaced. For DFBS ASCII spectra, which come one object at a time.
    MergeSpectra,
}

/// Writes a plate and its spectra in one transaction.
pub async fn write_plate(
    client: &mut tokio_postgres::Client,
    plate: &PlateRecord,
    spectra: &[SpectrumRecord],
    mode: WriteMode,
) -> Result<WriteOutcome, WriteError> {
    let transaction = client.transaction().await?;
    let existing = if mode == WriteMode::MergeSpectra {
        let specids: Vec<&str> = spectra.iter().map(|s| s.specid.as_str()).collect();
        transaction.execute("DELETE FROM dfbs.spectra WHERE specid = ANY($1)", &[&specids]).await?
    } else {
        transaction.execute("DELETE FROM dfbs.plates WHERE plateid = $1", &[&plate.plateid]).await?
    };
    if existing > 0 && mode == WriteMode::NewPlate {
        transaction.rollback().await?;
        return Err(WriteError::Exists(plate.plateid.clone()));
    }
    transaction
        .execute(
            "INSERT INTO dfbs.plates (plateid, epoch, date_obs, exptime, emulsion, ra_center, dec_center, field_name, \
             plate_number, wfpdb_id, naxis1, naxis2, wcs_header, source_file, checksum, n_spectra, pipeline_version, \
             ingest_params, magb_limit, magb_calib_pairs, magb_calib_rms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
             ON CONFLICT (plateid) DO NOTHING",
            &[
                &plate.plateid,
                &plate.epoch,
                &plate.date_obs,
                &plate.exptime,
                &plate.emulsion,
                &plate.ra_center,
                &plate.dec_center,
                &plate.field_name,
                &plate.plate_number,
                &plate.wfpdb_id,
                &plate.naxis1,
                &plate.naxis2,
                &plate.wcs_header,
                &plate.source_file,
                &plate.checksum,
                &(spectra.len() as i32),
                &plate.pipeline_version,
                &plate.ingest_params,
                &plate.magb_limit,
                &plate.magb_calib_pairs,
                &plate.magb_calib_rms,
            ],
        )
        .await?;
    let sink = transaction.copy_in(&format!("COPY dfbs.spectra ({}) FROM STDIN (FORMAT binary)", spectrum_columns())).await?;
    let writer = BinaryCopyInWriter::new(sink, &spectrum_types());
    pin_mut!(writer);
    for s in spectra {
        let probabilities = class_probabilities(&s.classification);
        let mut row: Vec<&(dyn ToSql + Sync)> = vec![
            &s.specid,
            &s.objectid,
            &plate.plateid,
            &s.ra,
            &s.dec,
            &s.magb,
            &s.magr,
            &s.snr,
            &s.sky,
            &s.px_x,
            &s.px_y,
            &s.pos_ang,
            &s.px_length,
            &s.sp_class,
            &s.lam_min,
            &s.lam_max,
            &s.flux,
        ];
        row.extend(class_values(&s.classification, &probabilities));
        row.push(&s.pipeline_version);
        writer.as_mut().write(&row).await?;
    }
    let written = writer.finish().await?;
    transaction
        .execute(
            "UPDATE dfbs.plates SET n_spectra = (SELECT count(*) FROM dfbs.spectra WHERE plate = $1) WHERE plateid = $1",
            &[&plate.plateid],
        )
        .await?;
    transaction.commit().await?;
    Ok(WriteOutcome { replaced: existing > 0, spectra: written })
}

/// Replaces a plate's photometry in one transaction: each spectrum's `magb` and `magr` (by specid), the
/// plate's `magb_limit`, `magb_calib_pairs`, `magb_calib_rms`, and `ingest_params.photometry`.
pub async fn update_photometry(
    client: &mut tokio_postgres::Client,
    plate: &PlateRecord,
    magnitudes: &[(String, Option<f32>, Option<f32>)],
) -> Result<u64, tokio_postgres::Error> {
    let transaction = client.transaction().await?;
    transaction.batch_execute("CREATE TEMPORARY TABLE new_magb (specid text, magb real, magr real) ON COMMIT DROP").await?;
    let sink = transaction.copy_in("COPY new_magb FROM STDIN (FORMAT binary)").await?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::FLOAT4, Type::FLOAT4]);
    pin_mut!(writer);
    for (specid, magb, magr) in magnitudes {
        writer.as_mut().write(&[specid as &(dyn ToSql + Sync), magb, magr]).await?;
    }
    writer.finish().await?;
    let updated = transaction
        .execute(
            "UPDATE dfbs.spectra s SET magb = n.magb, magr = n.magr FROM new_magb n WHERE s.specid = n.specid AND s.plate = $1",
            &[&plate.plateid],
        )
        .await?;
    transaction
        .execute(
            "UPDATE dfbs.plates SET magb_limit = $2, magb_calib_pairs = $3, magb_calib_rms = $4, \
             ingest_params = jsonb_set(ingest_params, '{photometry}', $5) WHERE plateid = $1",
            &[&plate.plateid, &plate.magb_limit, &plate.magb_calib_pairs, &plate.magb_calib_rms, &plate.ingest_params["photometry"]],
        )
        .await?;
    transaction.commit().await?;
    Ok(updated)
}

/// Replaces the class columns of a plate's spectra (re-classification with another model), in
/// one transaction: the new values go to a temporary table by binary COPY, then one UPDATE.
pub async fn update_classes(
    client: &mut tokio_postgres::Client,
    plate: &str,
    specids: &[String],
    classes: &[Classification],
    provenance: &serde_json::Value,
) -> Result<u64, tokio_postgres::Error> {
    let transaction = client.transaction().await?;
    // The temporary table has the spectra's own column types (LIKE).
    let names: Vec<&str> = class_column_names().collect();
    transaction
        .batch_execute(&format!(
            "CREATE TEMPORARY TABLE new_classes ON COMMIT DROP AS SELECT specid, {} FROM dfbs.spectra WITH NO DATA",
            names.join(", ")
        ))
        .await?;
    let sink = transaction.copy_in("COPY new_classes FROM STDIN (FORMAT binary)").await?;
    let mut types = vec![Type::TEXT];
    types.extend(CLASS_COLUMNS.iter().map(|(_, t)| t.clone()));
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    for (specid, c) in specids.iter().zip(classes) {
        let probabilities = class_probabilities(c);
        let mut row: Vec<&(dyn ToSql + Sync)> = vec![specid];
        row.extend(class_values(c, &probabilities));
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    let set: Vec<String> = names.iter().map(|name| format!("{name} = n.{name}")).collect();
    let updated = transaction
        .execute(
            &format!("UPDATE dfbs.spectra s SET {} FROM new_classes n WHERE s.specid = n.specid AND s.plate = $1", set.join(", ")),
            &[&plate],
        )
        .await?;
    transaction
        .execute(
            "UPDATE dfbs.plates SET ingest_params = jsonb_set(ingest_params, '{classifier}', $2) WHERE plateid = $1",
            &[&plate, provenance],
        )
        .await?;
    transaction.commit().await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_truncate_like_iau_names() {
        // 01:56:10.247 +20:22:25.05 (a real fbs1163 spectrum: DFBSJ015610.24+202225.0).
        let ra = (1.0 + 56.0 / 60.0 + 10.247 / 3600.0) * 15.0;
        let dec = 20.0 + 22.0 / 60.0 + 25.05 / 3600.0;
        assert_eq!(object_id(ra, dec), "DFBSJ015610.24+202225.0");
        assert_eq!(object_id(359.999_999, -0.000_01), "DFBSJ235959.99-000000.0");
        assert_eq!(object_id(0.0, -89.5), "DFBSJ000000.00-893000.0");
    }

    #[test]
    fn copy_types_match_the_columns() {
        assert_eq!(spectrum_types().len(), spectrum_columns().split(',').count());
        assert_eq!(spectrum_columns().split(", ").filter(|c| *c == "subclass").count(), 1);
    }

    #[test]
    fn duplicate_names_get_suffixes() {
        let mut spectra = vec![SpectrumRecord { objectid: "A".into(), ..Default::default() }; 3];
        spectra[2].objectid = "B".into();
        assign_specids("fbs0001", &mut spectra);
        let ids: Vec<_> = spectra.iter().map(|s| s.specid.as_str()).collect();
        assert_eq!(ids, ["fbs0001-A", "fbs0001-A-2", "fbs0001-B"]);
    }
}
