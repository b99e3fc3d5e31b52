//! Ingest: turning inputs into catalogue rows and writing them, one plate per transaction.
//! A bad input is reported and skipped; the others go on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::catalogue::{assign_specids, PlateRecord, SpectrumRecord};
use super::spec::DfbsSpectrum;
use super::wavelength;

/// The version recorded with every row the pipeline writes (provenance).
pub const PIPELINE_VERSION: &str = concat!("dfbs-vo ", env!("CARGO_PKG_VERSION"));

/// One input that could not be used, and why.
#[derive(Debug, Clone)]
pub struct InputError {
    pub path: PathBuf,
    pub message: String,
}

/// Reads DFBS ASCII spectra and groups them into one write per plate. Files that cannot be
/// read or parsed are returned as errors; the rest are ingested.
pub fn spec_records(paths: &[PathBuf]) -> (Vec<(PlateRecord, Vec<SpectrumRecord>)>, Vec<InputError>) {
    let mut by_plate: BTreeMap<String, Vec<SpectrumRecord>> = BTreeMap::new();
    let mut errors = Vec::new();
    for path in paths {
        match super::spec::parse_file(path) {
            Ok(spectrum) => by_plate.entry(spectrum.plate.clone()).or_default().push(spectrum_record(&spectrum)),
            Err(message) => errors.push(InputError { path: path.clone(), message }),
        }
    }
    let plates = by_plate
        .into_iter()
        .map(|(plateid, mut spectra)| {
            assign_specids(&plateid, &mut spectra);
            let plate = PlateRecord {
                plate_number: Some(plateid.trim_start_matches("fbs").to_string()),
                pipeline_version: Some(PIPELINE_VERSION.into()),
                ingest_params: serde_json::json!({ "source": "DFBS ASCII spectra (Italian DFBS server format)" }),
                plateid,
                ..PlateRecord::default()
            };
            (plate, spectra)
        })
        .collect();
    (plates, errors)
}

/// Wavelength range (metres) of the bins that hold data.
pub fn wavelength_range_m(flux: &[Option<f32>]) -> (Option<f64>, Option<f64>) {
    let bins: Vec<usize> = flux.iter().enumerate().filter(|(_, v)| v.is_some_and(f32::is_finite)).map(|(k, _)| k).collect();
    match (bins.first(), bins.last()) {
        // Bin 0 is the reddest (690 nm); higher bins are bluer.
        (Some(&red), Some(&blue)) => {
            (Some(wavelength::wavelength_nm(blue as f64) * 1e-9), Some(wavelength::wavelength_nm(red as f64) * 1e-9))
        }
        _ => (None, None),
    }
}

fn spectrum_record(spectrum: &DfbsSpectrum) -> SpectrumRecord {
    let flux = spectrum.flux_on_grid().to_vec();
    let (lam_min, lam_max) = wavelength_range_m(&flux);
    SpectrumRecord {
        specid: String::new(),
        objectid: spectrum.objectid.clone(),
        ra: spectrum.ra,
        dec: spectrum.dec,
        magb: spectrum.mag_b,
        magr: spectrum.mag_r,
        sp_class: Some(spectrum.quality.clone()),
        px_length: spectrum.length_pixels.map(|l| l.round().clamp(0.0, i16::MAX as f32) as i16),
        lam_min,
        lam_max,
        flux,
        pipeline_version: Some(PIPELINE_VERSION.into()),
        ..SpectrumRecord::default()
    }
}

/// Position angle (degrees east of north) of the direction from pixel a to pixel b on the sky.
pub fn position_angle(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (ra1, dec1) = (a.0.to_radians(), a.1.to_radians());
    let (ra2, dec2) = (b.0.to_radians(), b.1.to_radians());
    let y = (ra2 - ra1).sin() * dec2.cos();
    let x = dec1.cos() * dec2.sin() - dec1.sin() * dec2.cos() * (ra2 - ra1).cos();
    y.atan2(x).to_degrees().rem_euclid(360.0)
}

/// A short description of a path for reports.
pub fn display_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_angle_points() {
        assert!((position_angle((10.0, 20.0), (10.0, 20.1)) - 0.0).abs() < 1e-9);
        assert!((position_angle((10.0, 20.0), (10.1, 20.0)) - 90.0).abs() < 0.1);
        assert!((position_angle((10.0, 20.0), (10.0, 19.9)) - 180.0).abs() < 1e-9);
    }

    #[test]
    fn wavelength_range_follows_the_bins_with_data() {
        let mut flux = vec![None; 136];
        flux[3] = Some(1.0);
        flux[90] = Some(0.5);
        flux[100] = Some(f32::NAN);
        let (low, high) = wavelength_range_m(&flux);
        assert!((high.unwrap() - wavelength::wavelength_nm(3.0) * 1e-9).abs() < 1e-15);
        assert!((low.unwrap() - wavelength::wavelength_nm(90.0) * 1e-9).abs() < 1e-15);
    }
}
