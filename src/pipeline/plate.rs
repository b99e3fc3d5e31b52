//! One plate scan through the pipeline: open, plate solution, detect and extract (band by
//! band), place on the sky, classify (when a classifier is given), and the catalogue rows.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::catalogue::{assign_specids, object_id, Classification, PlateRecord, SpectrumRecord};
use super::detect::BandSource;
use super::extract::{detect_and_extract, Detection};
use super::fits::{Header, PlateScan};
use super::ingest::{position_angle, wavelength_range_m, PIPELINE_VERSION};
use super::detect::Quality;
use super::evaluate::separation_arcsec;
use super::params::PipelineParams;
use super::photometry::{self, Calibration, Measured, Reference};
use super::wcs::PlateWcs;
use crate::sim::plate::RedEnd;

/// The classify stage: fills the class columns of a plate's detections (issue 7 plugs the CNN
/// in here). It sees exactly what extraction produced (the 2D cutout and the 1D spectrum).
pub trait Classifier: Send + Sync {
    fn classify(&self, inputs: &[ClassifierInput<'_>]) -> Result<Vec<Classification>, String>;
    /// Name and version.
    fn describe(&self) -> (String, String);
    /// What the plate's provenance records of the classification of `classes` (its spectra).
    fn provenance(&self, _classes: &[Classification]) -> serde_json::Value {
        let (name, version) = self.describe();
        serde_json::json!({ "name": name, "version": version })
    }
}

/// What the classifier sees of one spectrum: the extraction's 2D cutout (160 x 50) and 1D
/// spectrum on the DFBS grid.
#[derive(Debug, Clone, Copy)]
pub struct ClassifierInput<'a> {
    pub cutout: &'a [f32],
    pub flux: &'a [Option<f32>],
}

impl<'a> ClassifierInput<'a> {
    pub fn of(detection: &'a Detection) -> ClassifierInput<'a> {
        ClassifierInput { cutout: &detection.cutout, flux: &detection.flux }
    }
}

/// The FITS scan as the detector's band source.
pub struct ScanSource<'a>(pub &'a mut PlateScan);

impl BandSource for ScanSource<'_> {
    fn width(&self) -> usize {
        self.0.width
    }

    fn height(&self) -> usize {
        self.0.height
    }

    fn read_rows(&mut self, first_row: usize, rows: usize, out: &mut Vec<f32>) -> Result<(), String> {
        self.0.read_rows(first_row, rows, out).map_err(|e| e.to_string())
    }
}

/// What the pipeline made of one plate.
#[derive(Debug)]
pub struct ProcessedPlate {
    pub plate: PlateRecord,
    pub spectra: Vec<SpectrumRecord>,
}

/// The plate id: the file name when it looks like one (fbs0809, fbs0326a), else from PLATENUM.
pub fn plate_id(path: &Path, header: &Header) -> Result<String, String> {
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
    let stem = stem.split('.').next().unwrap_or("").to_string();
    // fbs + 4 digits + an optional lower-case suffix letter; checked on bytes (a file name may
    // hold any character).
    let looks_like_id = |s: &str| {
        let b = s.as_bytes();
        (7..=8).contains(&b.len())
            && b.starts_with(b"fbs")
            && b[3..7].iter().all(u8::is_ascii_digit)
            && b[7..].iter().all(u8::is_ascii_lowercase)
    };
    if looks_like_id(&stem) {
        return Ok(stem);
    }
    if let Some(number) = header.text("PLATENUM").or_else(|| header.real("PLATENUM").map(|n| format!("{n:04}"))) {
        let id = format!("fbs{}", number.trim().to_lowercase());
        if looks_like_id(&id) {
            return Ok(id);
        }
    }
    Err(format!(
        "{}: cannot tell the plate id: name the file like fbs0809.fits or give the header a PLATENUM",
        path.display()
    ))
}

/// Pipeline parameters for a plate: the defaults, with the red end and anchor offset from the
/// header when it records them (REDEND, ANCHOFF; the simulator writes both).
pub fn params_for(header: &Header, defaults: &PipelineParams) -> PipelineParams {
    let red_end = header.text("REDEND").as_deref().and_then(RedEnd::parse).unwrap_or(defaults.red_end);
    let anchor = header.real("ANCHOFF").unwrap_or(defaults.anchor_offset_px);
    PipelineParams { red_end, anchor_offset_px: anchor, ..defaults.clone() }
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plate_ids_from_names_and_headers() {
        let empty = Header::default();
        assert_eq!(plate_id(Path::new("/x/fbs0809.fits"), &empty).unwrap(), "fbs0809");
        assert_eq!(plate_id(Path::new("FBS0326A.fits"), &empty).unwrap(), "fbs0326a");
        assert!(plate_id(Path::new("fbs123\u{e9}4.fits"), &empty).is_err());
        assert!(plate_id(Path::new("scan.fits"), &empty).unwrap_err().contains("PLATENUM"));
        let header = Header::parse(format!("{:<80}", "PLATENUM= '1163    '").as_bytes());
        assert_eq!(plate_id(Path::new("scan.fits"), &header).unwrap(), "fbs1163");
    }
}

/// Header keywords kept in the plate's provenance.
const PROVENANCE_KEYS: [&str; 10] =
    ["OBJECT", "PLATENUM", "WFPDB-ID", "EMULSION", "DATE-OBS", "EXPTIME", "SIMULATE", "SIMSEED", "LIMMAG", "SEEING"];

fn plate_record(path: &Path, plateid: &str, scan: &PlateScan, wcs: &PlateWcs, params: &PipelineParams) -> PlateRecord {
    let header = &scan.header;
    let (ra_center, dec_center) = wcs.pixel_to_sky((scan.width as f64 + 1.0) / 2.0, (scan.height as f64 + 1.0) / 2.0);
    let date_obs = header
        .text("DATE-OBS")
        .and_then(|d| chrono::NaiveDateTime::parse_from_str(&d, "%Y-%m-%dT%H:%M:%S%.f").ok()
            .or_else(|| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0))));
    let epoch = header.real("MJD-OBS").or_else(|| {
        date_obs.map(|d| {
            let zero = chrono::NaiveDate::from_ymd_opt(1858, 11, 17).and_then(|d| d.and_hms_opt(0, 0, 0)).expect("MJD zero");
            (d - zero).num_milliseconds() as f64 / 86_400_000.0
        })
    });
    let mut provenance_header = serde_json::Map::new();
    for key in PROVENANCE_KEYS {
        if let Some(value) = header.real(key).map(serde_json::Value::from).or_else(|| header.text(key).map(serde_json::Value::from)) {
            provenance_header.insert(key.to_string(), value);
        }
    }
    let wcs_keys = |key: &str| {
        matches!(key, "WCSAXES" | "RADESYS" | "EQUINOX" | "CTYPE1" | "CTYPE2" | "CUNIT1" | "CUNIT2" | "CRPIX1" | "CRPIX2" | "CRVAL1" | "CRVAL2" | "CD1_1" | "CD1_2" | "CD2_1" | "CD2_2" | "NAXIS1" | "NAXIS2")
            || key.starts_with("A_") || key.starts_with("B_") || key.starts_with("AP_") || key.starts_with("BP_")
    };
    PlateRecord {
        plateid: plateid.to_string(),
        epoch,
        date_obs,
        exptime: header.real("EXPTIME").map(|e| e as f32),
        emulsion: header.text("EMULSION"),
        ra_center: Some(ra_center),
        dec_center: Some(dec_center),
        field_name: header.text("OBJECT"),
        plate_number: header.text("PLATENUM"),
        wfpdb_id: header.text("WFPDB-ID"),
        naxis1: Some(scan.width as i32),
        naxis2: Some(scan.height as i32),
        wcs_header: header.render(&wcs_keys),
        source_file: Some(path.display().to_string()),
        checksum: None,
        pipeline_version: Some(PIPELINE_VERSION.into()),
        ingest_params: serde_json::json!({
            "pipeline_version": PIPELINE_VERSION,
            "flux_extraction": crate::pipeline::extract::FLUX_EXTRACTION,
            "params": params,
            "header": provenance_header,
        }),
        ..PlateRecord::default()
    }
}

/// Detection and extraction on an open scan.
pub fn detect_scan(scan: &mut PlateScan, params: &PipelineParams) -> Result<Vec<Detection>, String> {
    let path = scan.path().to_path_buf();
    detect_and_extract(&mut ScanSource(scan), params).map_err(|e| format!("{}: {e}", path.display()))
}

/// How plates are run: the parameters, the classify stage (None leaves the class columns
/// empty), for the seeded mode the catalogue positions (RA, Dec) to extract at instead of
/// detecting, and the photometric reference catalogue (None: each scan's sibling
/// `NAME.ref.csv` when there is one, else no calibration).
#[derive(Clone, Copy)]
pub struct PlateRun<'a> {
    pub params: &'a PipelineParams,
    pub classifier: Option<&'a dyn Classifier>,
    pub seeds: Option<&'a [(f64, f64)]>,
    pub references: Option<&'a [Reference]>,
}

impl<'a> PlateRun<'a> {
    pub fn detect(params: &'a PipelineParams) -> PlateRun<'a> {
        PlateRun { params, classifier: None, seeds: None, references: None }
    }
}

/// The reference catalogue beside a scan: `fbs0809.fits` -> `fbs0809.ref.csv`.
pub fn sibling_reference_path(scan: &Path) -> std::path::PathBuf {
    let stem = scan.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let stem = stem.split('.').next().unwrap_or("").to_string();
    scan.with_file_name(format!("{stem}.ref.csv"))
}

/// Reads a reference catalogue file (size-limited; errors name the file).
pub fn read_reference_file(path: &Path) -> Result<Vec<Reference>, String> {
    let size = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.len();
    if size > photometry::MAX_REFERENCE_BYTES {
        return Err(format!(
            "{}: {size} bytes is more than the {} MiB a reference catalogue may have: cut it to the plates' fields",
            path.display(),
            photometry::MAX_REFERENCE_BYTES >> 20
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    photometry::read_reference_csv(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Rows a trace may reach from its anchor (DFBS.md: 100-120 px toward the blue, up to 22 px
/// toward the red): reference objects closer than this to the top or bottom edge, or closer
/// than [`EDGE_MARGIN_X`] to a side, have clipped traces and are left out of the completeness.
const EDGE_MARGIN_Y: f64 = 150.0;
const EDGE_MARGIN_X: f64 = 20.0;

/// The reference objects whose traces would lie wholly on a plate of `width` × `height` pixels
/// with `wcs` (inside [`EDGE_MARGIN_X`], [`EDGE_MARGIN_Y`]).
pub fn references_on_plate(references: &[Reference], wcs: &PlateWcs, width: f64, height: f64) -> Vec<Reference> {
    // A cheap cut first (a catalogue for many plates is mostly elsewhere): within the circle
    // through the plate's corners.
    let centre = wcs.pixel_to_sky((width + 1.0) / 2.0, (height + 1.0) / 2.0);
    let radius = [(0.5, 0.5), (width + 0.5, 0.5), (0.5, height + 0.5), (width + 0.5, height + 0.5)]
        .iter()
        .map(|&(x, y)| {
            let (ra, dec) = wcs.pixel_to_sky(x, y);
            separation_arcsec(centre.0, centre.1, ra, dec)
        })
        .fold(0.0, f64::max);
    references
        .iter()
        .filter(|r| separation_arcsec(centre.0, centre.1, r.ra, r.dec) <= radius)
        .filter(|r| {
            wcs.sky_to_pixel(r.ra, r.dec).is_some_and(|(x, y)| {
                x >= EDGE_MARGIN_X && x <= width - EDGE_MARGIN_X && y >= EDGE_MARGIN_Y && y <= height - EDGE_MARGIN_Y
            })
        })
        .copied()
        .collect()
}

/// The photometric calibration of a plate (or why there is none), and where its reference
/// catalogue came from; None without a catalogue. An unreadable sibling catalogue is an
/// error (the plate is reported and skipped: the file is meant for it and broken); a catalogue
/// that matches too few of the plate's spectra leaves `magb` instrumental, with the reason in
/// the plate's provenance.
fn calibrate_plate(
    path: &Path,
    run: &PlateRun<'_>,
    wcs: &PlateWcs,
    scan: &PlateScan,
    spectra: &[(f64, f64, &Detection)],
) -> Result<Option<(Result<Calibration, String>, String)>, String> {
    let sibling = sibling_reference_path(path);
    let (owned, source);
    let references: &[Reference] = match run.references {
        Some(references) => {
            source = "the --reference catalogue".to_string();
            references
        }
        None if sibling.exists() => {
            owned = read_reference_file(&sibling)?;
            source = sibling.display().to_string();
            &owned
        }
        None => return Ok(None),
    };
    let on_plate = references_on_plate(references, wcs, scan.width as f64, scan.height as f64);
    let measured: Vec<Measured> = spectra
        .iter()
        .map(|&(ra, dec, d)| Measured {
            ra,
            dec,
            instrumental_b: d.instrumental_b,
            instrumental_r: d.instrumental_r,
            clean: d.quality == Quality::Ok,
        })
        .collect();
    Ok(Some((photometry::calibrate(&measured, &on_plate), source)))
}

/// Seeded mode: extraction at the catalogue positions that fall on the plate (DFBS.md: the
/// earlier DFBS work extracted at known positions). Positions where no trace is found are
/// skipped.
fn extract_seeded(scan: &mut PlateScan, wcs: &PlateWcs, seeds: &[(f64, f64)], params: &PipelineParams) -> Result<Vec<Detection>, String> {
    let (width, height) = (scan.width as f64, scan.height as f64);
    let pixels: Vec<(f64, f64)> = seeds
        .iter()
        .filter_map(|&(ra, dec)| wcs.sky_to_pixel(ra, dec))
        .filter(|&(x, y)| x >= 0.5 && y >= 0.5 && x <= width + 0.5 && y <= height + 0.5)
        .collect();
    let path = scan.path().to_path_buf();
    let found = super::extract::extract_at(&mut ScanSource(scan), &pixels, params).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(found.into_iter().flatten().collect())
}

/// Runs the pipeline on one plate scan. Errors name the file and what is wrong with it.
pub fn process_plate(path: &Path, run: &PlateRun<'_>) -> Result<ProcessedPlate, String> {
    let (defaults, classifier) = (run.params, run.classifier);
    let mut scan = PlateScan::open(path).map_err(|e| e.to_string())?;
    let wcs = scan.wcs().map_err(|e| e.to_string())?;
    let plateid = plate_id(path, &scan.header)?;
    let params = params_for(&scan.header, defaults);
    params.validate().map_err(|e| format!("{}: {e}", path.display()))?;
    let mut plate = plate_record(path, &plateid, &scan, &wcs, &params);
    let detections = match run.seeds {
        Some(seeds) => extract_seeded(&mut scan, &wcs, seeds, &params)?,
        None => detect_scan(&mut scan, &params)?,
    };
    if detections.is_empty() {
        return Err(format!("{}: no spectra found: the plate is empty, blank or not a DFBS scan", path.display()));
    }
    let classes = match classifier {
        Some(classifier) => {
            let inputs: Vec<ClassifierInput> = detections.iter().map(ClassifierInput::of).collect();
            let classes = classifier.classify(&inputs).map_err(|e| format!("{}: classification failed: {e}", path.display()))?;
            if let Some(object) = plate.ingest_params.as_object_mut() {
                object.insert("classifier".into(), classifier.provenance(&classes));
            }
            classes
        }
        None => vec![Classification::default(); detections.len()],
    };
    plate.checksum = Some(sha256_file(path).map_err(|e| format!("{}: {e}", path.display()))?);
    let sign = params.red_end.sign();
    let positions: Vec<(f64, f64, &Detection)> = detections
        .iter()
        .map(|d| {
            let (ra, dec) = wcs.pixel_to_sky(d.x, d.y);
            (ra, dec, d)
        })
        .collect();
    let calibration = match calibrate_plate(path, run, &wcs, &scan, &positions)? {
        Some((result, source)) => {
            let record = match &result {
                Ok(c) => serde_json::json!({ "reference": source, "calibration": c }),
                Err(e) => {
                    tracing::warn!("{}: magb stays instrumental: {e}", path.display());
                    serde_json::json!({ "reference": source, "error": e })
                }
            };
            if let Some(object) = plate.ingest_params.as_object_mut() {
                object.insert("photometry".into(), record);
            }
            result.ok()
        }
        None => None,
    };
    if let Some(c) = &calibration {
        plate.set_calibration(c);
    }
    let mut spectra: Vec<SpectrumRecord> = positions
        .iter()
        .zip(classes)
        .map(|(&(ra, dec, d), classification)| {
            let (magb, magr) = photometry::catalogue_magnitudes(calibration.as_ref(), d.instrumental_b, d.instrumental_r);
            let toward_red = wcs.pixel_to_sky(d.x, d.y + sign * 10.0);
            let (lam_min, lam_max) = wavelength_range_m(&d.flux);
            SpectrumRecord {
                specid: String::new(),
                objectid: object_id(ra, dec),
                ra,
                dec,
                magb,
                magr,
                snr: Some(d.snr).filter(|s| s.is_finite()),
                sky: Some(d.sky).filter(|s| s.is_finite()),
                px_x: Some(d.x as f32),
                px_y: Some(d.y as f32),
                pos_ang: Some(position_angle((ra, dec), toward_red) as f32),
                px_length: Some(d.length_px.min(i16::MAX as u32) as i16),
                sp_class: Some(d.quality.label().to_string()),
                lam_min,
                lam_max,
                flux: d.flux.clone(),
                classification,
                pipeline_version: Some(PIPELINE_VERSION.into()),
            }
        })
        .collect();
    assign_specids(&plateid, &mut spectra);
    Ok(ProcessedPlate { plate, spectra })
}

/// What happened to one input.
#[derive(Debug, Clone)]
pub struct PlateOutcome {
    pub input: String,
    pub plate: String,
    pub spectra: u64,
    pub seconds: f64,
    pub error: Option<String>,
}

/// Ingests plate scans: `workers` plates are processed at once on their own threads; each
/// finished plate is written in its own transaction as it arrives (a bounded channel keeps at
/// most `workers` finished plates waiting). A bad plate is reported and skipped.
pub async fn ingest_plates(
    client: &mut tokio_postgres::Client,
    paths: &[std::path::PathBuf],
    workers: usize,
    mode: super::catalogue::WriteMode,
    run: &PlateRun<'_>,
    progress: bool,
) -> Vec<PlateOutcome> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let bar = crate::progress::bar(
        paths.len() as u64,
        "ingest [{bar:40}] {pos}/{len} plates, {elapsed} elapsed, eta {eta} {msg}",
        progress,
    );
    let next = AtomicUsize::new(0);
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<(usize, f64, Result<ProcessedPlate, String>)>(workers.max(1));
    let mut outcomes: Vec<Option<PlateOutcome>> = vec![None; paths.len()];
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1).min(paths.len().max(1)) {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(path) = paths.get(index) else { break };
                    let started = std::time::Instant::now();
                    let result = process_plate(path, run);
                    if sender.blocking_send((index, started.elapsed().as_secs_f64(), result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        // The writer runs on this (async) side while the workers compute; block_in_place lets
        // the scope's threads be joined from inside the runtime.
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async {
                while let Some((index, seconds, result)) = receiver.recv().await {
                    let input = super::ingest::display_name(&paths[index]);
                    let started = std::time::Instant::now();
                    let outcome = match result {
                        Ok(processed) => {
                            let written = super::catalogue::write_plate(client, &processed.plate, &processed.spectra, mode).await;
                            PlateOutcome {
                                input,
                                plate: processed.plate.plateid.clone(),
                                spectra: written.as_ref().map_or(0, |w| w.spectra),
                                seconds: seconds + started.elapsed().as_secs_f64(),
                                error: written.err().map(|e| e.to_string()),
                            }
                        }
                        Err(error) => PlateOutcome { input, plate: "-".into(), spectra: 0, seconds, error: Some(error) },
                    };
                    bar.set_message(format!("{}: {}", outcome.input, outcome.error.as_deref().map_or("ok", |_| "FAILED")));
                    bar.inc(1);
                    outcomes[index] = Some(outcome);
                }
            })
        });
    });
    bar.finish_and_clear();
    outcomes.into_iter().flatten().collect()
}
