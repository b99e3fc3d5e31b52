//! The DFBS ASCII spectrum format of the Italian DFBS server (as GAVO's DaCHS resource uses it):
//! '#' header lines (plate, object id, RA and Dec J2000 sexagesimal, mag B and R, quality class,
//! length, red border), then one row per pixel: r (pixels), intensity (arbitrary units),
//! wavelength (nm).

use super::wavelength::{pixel_offset, GRID_BINS, RED_BORDER_TO_690_PIXELS};

/// One pixel of an extracted spectrum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub pixel: i32,
    pub intensity: f32,
    pub wavelength_nm: f64,
}

/// A spectrum as the DFBS ASCII format gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct DfbsSpectrum {
    pub plate: String,
    /// `DFBSJhhmmss.ss+ddmmss.s`
    pub objectid: String,
    /// ICRS (J2000) degrees.
    pub ra: f64,
    pub dec: f64,
    pub mag_b: Option<f32>,
    pub mag_r: Option<f32>,
    /// OK, NL (disturbing neighbours) or U (too little signal): dfbs.spectra.sp_class.
    pub quality: String,
    pub length_pixels: Option<f32>,
    /// The pixel of the red border (the 690 nm point is 2 pixels further).
    pub red_border: i32,
    pub samples: Vec<Sample>,
}

/// What is wrong, and on which line (1-based).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SpecError {
    pub line: usize,
    pub message: String,
}

fn error(line: usize, message: impl Into<String>) -> SpecError {
    SpecError { line, message: message.into() }
}

/// Sexagesimal `[+-]dd:mm:ss.s` to a number of units (hours or degrees).
fn sexagesimal(text: &str) -> Option<f64> {
    let text = text.trim();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let mut parts = body.split(':');
    let whole: f64 = parts.next()?.trim().parse().ok()?;
    let minutes: f64 = parts.next().map(|m| m.trim().parse().ok()).unwrap_or(Some(0.0))?;
    let seconds: f64 = parts.next().map(|s| s.trim().parse().ok()).unwrap_or(Some(0.0))?;
    if parts.next().is_some() || !(0.0..60.0).contains(&minutes) || !(0.0..60.0).contains(&seconds) || whole < 0.0 {
        return None;
    }
    let value = whole + minutes / 60.0 + seconds / 3600.0;
    Some(if negative { -value } else { value })
}

/// Reads a spectrum file. Some real files lack the `plate:` header line; the file name
/// (`<plate>-<objectid>.spec`, as the DFBS server names them) supplies it then.
pub fn parse_file(path: &std::path::Path) -> Result<DfbsSpectrum, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let plate = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split_once('-'))
        .map(|(plate, _)| plate)
        .filter(|p| !p.is_empty());
    parse(&text, plate).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses one spectrum; `plate` is used when the header names none.
pub fn parse(text: &str, plate_hint: Option<&str>) -> Result<DfbsSpectrum, SpecError> {
    let (mut plate, mut objectid, mut ra, mut dec) = (None, None, None, None);
    let (mut mag_b, mut mag_r, mut quality, mut length, mut red_border) = (None, None, None, None, None);
    let mut samples = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(header) = trimmed.strip_prefix('#') {
            let Some((key, value)) = header.split_once(':') else { continue };
            let key = key.trim_matches(|c: char| c == '#' || c.is_whitespace()).to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "plate" => plate = Some(value.to_string()),
                "object id" => objectid = Some(value.to_string()),
                "ra (j2000)" => ra = Some(sexagesimal(value).ok_or_else(|| error(number, format!("RA {value:?} is not hh:mm:ss.s")))? * 15.0),
                "dec (j2000)" => dec = Some(sexagesimal(value).ok_or_else(|| error(number, format!("Dec {value:?} is not dd:mm:ss.s")))?),
                "mag b" => mag_b = value.parse().ok(),
                "mag r" => mag_r = value.parse().ok(),
                "spectrum class" => quality = Some(value.to_string()),
                "spectrum length" => length = value.split_whitespace().next().and_then(|v| v.parse().ok()),
                "red bord position" => {
                    red_border = Some(
                        value
                            .split_whitespace()
                            .next()
                            .and_then(|v| v.parse().ok())
                            .ok_or_else(|| error(number, format!("red border {value:?} is not a pixel number")))?,
                    )
                }
                _ => {}
            }
            continue;
        }
        let fields: Vec<&str> = trimmed.split_whitespace().collect();
        let [pixel, intensity, wavelength] = fields.as_slice() else {
            return Err(error(number, format!("a data row has three columns (pixel, intensity, wavelength), found {}", fields.len())));
        };
        let pixel = pixel.parse().map_err(|_| error(number, format!("pixel {pixel:?} is not an integer")))?;
        let intensity: f32 = intensity.parse().map_err(|_| error(number, format!("intensity {intensity:?} is not a number")))?;
        let wavelength_nm: f64 = wavelength.parse().map_err(|_| error(number, format!("wavelength {wavelength:?} is not a number")))?;
        if !intensity.is_finite() || !wavelength_nm.is_finite() {
            return Err(error(number, "intensity and wavelength must be finite"));
        }
        samples.push(Sample { pixel, intensity, wavelength_nm });
    }
    let missing = |what: &str| error(0, format!("the header has no {what}"));
    let quality = quality.ok_or_else(|| missing("spectrum class"))?;
    if !matches!(quality.as_str(), "OK" | "NL" | "U") {
        return Err(error(0, format!("spectrum class {quality:?} is not OK, NL or U")));
    }
    let ra = ra.ok_or_else(|| missing("ra (J2000)"))?;
    let dec = dec.ok_or_else(|| missing("dec (J2000)"))?;
    if !(0.0..360.0).contains(&ra) || !(-90.0..=90.0).contains(&dec) {
        return Err(error(0, format!("position ({ra}, {dec}) is outside the sky")));
    }
    if samples.is_empty() {
        return Err(error(0, "the file has no spectral data rows"));
    }
    Ok(DfbsSpectrum {
        plate: plate
            .or_else(|| plate_hint.map(str::to_string))
            .ok_or_else(|| error(0, "the header has no plate line and no plate was given (name the file <plate>-<objectid>.spec)"))?,
        objectid: objectid.ok_or_else(|| missing("object id"))?,
        ra,
        dec,
        mag_b,
        mag_r,
        quality,
        length_pixels: length,
        red_border: red_border.ok_or_else(|| missing("red border position"))?,
        samples,
    })
}

impl DfbsSpectrum {
    /// `plate-objectid`, as dfbs.spectra.specid.
    pub fn specid(&self) -> String {
        format!("{}-{}", self.plate, self.objectid)
    }

    /// The pixel of the 690 nm point (grid bin 0).
    pub fn pixel_690(&self) -> f64 {
        f64::from(self.red_border) + RED_BORDER_TO_690_PIXELS
    }

    /// The intensity on the published grid (bin k = pixel of 690 nm + k); None where the
    /// spectrum has no sample.
    pub fn flux_on_grid(&self) -> [Option<f32>; GRID_BINS] {
        let origin = self.pixel_690();
        let mut grid = [None; GRID_BINS];
        for sample in &self.samples {
            let k = f64::from(sample.pixel) - origin;
            if k >= 0.0 && k < GRID_BINS as f64 && k.fract() == 0.0 {
                grid[k as usize] = Some(sample.intensity);
            }
        }
        grid
    }

    /// Largest difference (nm) between the file's wavelengths (from 690 nm blueward) and the
    /// DFBS dispersion relation anchored at [`DfbsSpectrum::pixel_690`].
    pub fn wavelength_residual_nm(&self) -> f64 {
        let origin = self.pixel_690();
        self.samples
            .iter()
            .filter(|s| s.wavelength_nm <= 690.0 && s.wavelength_nm >= 312.0)
            .map(|s| (pixel_offset(s.wavelength_nm) - (f64::from(s.pixel) - origin)).abs() * super::wavelength::dispersion_nm_per_pixel(f64::from(s.pixel) - origin))
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "##  DFBS data\n#  plate:      fbs0001\n#  object id: DFBSJ000001.00-001500.0\n#  ra (J2000): 00:00:01.000\n\
        #  dec (J2000): -00:15:00.00\n#  mag B: 17.5\n#  mag R: \n#  spectrum class: NL\n#  spectrum length: 100.0 pixels\n\
        #  Red Bord position: 10 (pixel)\n## spectral data follow.\n# r (pixels), Intensity, Wavelength (nm) \n\
        12 \t 1.50 \t 690.0\n13 \t 2.00 \t 678.6\n";

    #[test]
    fn parses_header_and_rows() {
        let s = parse(EXAMPLE, None).unwrap();
        assert_eq!(s.specid(), "fbs0001-DFBSJ000001.00-001500.0");
        assert!((s.ra - 15.0 / 3600.0).abs() < 1e-12);
        assert!((s.dec + 0.25).abs() < 1e-12, "negative declinations under one degree keep their sign");
        assert_eq!((s.mag_b, s.mag_r, s.quality.as_str(), s.red_border), (Some(17.5), None, "NL", 10));
        let grid = s.flux_on_grid();
        assert_eq!((grid[0], grid[1], grid[2]), (Some(1.5), Some(2.0), None));
    }

    #[test]
    fn errors_name_the_line() {
        let bad = EXAMPLE.replace("13 \t 2.00 \t 678.6", "13 \t x \t 678.6");
        assert_eq!(parse(&bad, None).unwrap_err().to_string(), "line 14: intensity \"x\" is not a number");
        assert!(parse(&EXAMPLE.replace("NL", "maybe"), None).unwrap_err().message.contains("not OK, NL or U"));
        assert!(parse(&EXAMPLE.replace("00:00:01.000", "25:61:00"), None).unwrap_err().message.contains("RA"));
        assert!(parse("# plate: x\n", None).is_err());
        // No plate line: the caller's plate, or a clear error.
        let headless = EXAMPLE.replace("#  plate:      fbs0001\n", "");
        assert_eq!(parse(&headless, Some("fbs0002")).unwrap().plate, "fbs0002");
        assert_eq!(parse(EXAMPLE, Some("fbs0002")).unwrap().plate, "fbs0001");
        assert!(parse(&headless, None).unwrap_err().message.contains("no plate"));
        assert!(parse(&EXAMPLE.replace("12 \t 1.50 \t 690.0", "12 1.5"), None).unwrap_err().message.contains("three columns"));
    }
}
