//! The 30 real DFBS spectra of plate fbs1163 (tests/data/dfbs-spectra-fbs1163): the reader
//! reads them all, and the DFBS wavelength scale (pipeline::wavelength) reproduces every
//! wavelength they give, anchored 2 pixels beyond their red border.

use std::path::PathBuf;

use dfbs_vo::pipeline::spec::parse_file;
use dfbs_vo::pipeline::wavelength::{wavelength_nm, GRID_BINS};

fn files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/dfbs-spectra-fbs1163");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "spec")).collect();
    files.sort();
    files
}

/// RA hours and Dec degrees from a designation DFBSJhhmmss.ss+ddmmss.s (truncated values).
fn designation(objectid: &str) -> (f64, f64) {
    let body = objectid.strip_prefix("DFBSJ").unwrap();
    let split = body.find(['+', '-']).unwrap();
    let (ra, dec) = body.split_at(split);
    let ra_hours = ra[0..2].parse::<f64>().unwrap() + ra[2..4].parse::<f64>().unwrap() / 60.0 + ra[4..].parse::<f64>().unwrap() / 3600.0;
    let sign = if dec.starts_with('-') { -1.0 } else { 1.0 };
    let dec = &dec[1..];
    let dec_degrees = dec[0..2].parse::<f64>().unwrap() + dec[2..4].parse::<f64>().unwrap() / 60.0 + dec[4..].parse::<f64>().unwrap() / 3600.0;
    (ra_hours, sign * dec_degrees)
}

#[test]
fn the_real_spectra_read_and_follow_the_dispersion_relation() {
    let files = files();
    assert_eq!(files.len(), 30);
    let mut worst: f64 = 0.0;
    for path in &files {
        // One of the real files has no plate header line: the file name supplies it.
        let spectrum = parse_file(path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spectrum.plate, "fbs1163");
        assert_eq!(format!("{}.spec", spectrum.specid()), path.file_name().unwrap().to_string_lossy());
        assert!(["OK", "NL", "U"].contains(&spectrum.quality.as_str()));
        // The designation is the position, truncated.
        let (ra_hours, dec_degrees) = designation(&spectrum.objectid);
        assert!((spectrum.ra / 15.0 - ra_hours) * 3600.0 < 0.01 + 1e-9 && spectrum.ra / 15.0 >= ra_hours - 1e-9, "{}", spectrum.objectid);
        assert!((spectrum.dec.abs() - dec_degrees.abs()) * 3600.0 < 0.1 + 1e-9, "{}", spectrum.objectid);
        // Every wavelength from 690 nm blueward: the relation, to 0.6 Angstrom (the files
        // round to 0.1 nm).
        let residual = spectrum.wavelength_residual_nm();
        worst = worst.max(residual);
        assert!(residual <= 0.06, "{}: {residual} nm", path.display());
        // Grid bin 0 is the sample at 690 nm; the spectrum fills most of the grid.
        let origin = spectrum.pixel_690() as i32;
        let at_690 = spectrum.samples.iter().find(|s| s.pixel == origin).unwrap();
        assert!((at_690.wavelength_nm - wavelength_nm(0.0)).abs() < 0.06);
        let filled = spectrum.flux_on_grid().iter().filter(|v| v.is_some()).count();
        assert!(filled >= 60 && filled <= GRID_BINS, "{}: {filled} bins", path.display());
    }
    eprintln!("largest wavelength residual over the 30 real spectra: {:.3} nm", worst);
}
