//! The properties of one simulated plate: field, plate solution, emulsion, date, seeing, sky,
//! limiting magnitude, and the header that carries them (WFPDB convention, DFBS.md "The scans").

use crate::pipeline::wcs::{CardValue, PlateWcs, Sip, SipPolynomial};

use super::emulsion::Emulsion;
use super::random::SimRng;
use super::SimulateOptions;

/// Plate scale of the Byurakan 1 m Schmidt (DFBS.md): 96.8 arcsec/mm.
pub const PLATE_SCALE_ARCSEC_PER_MM: f64 = 96.8;
/// Scan pixel: 1600 dpi, 15.875 micron.
pub const PIXEL_MICRON: f64 = 15.875;
/// Nominal arcsec per pixel (96.8 × 0.015875 = 1.5367).
pub const PIXEL_ARCSEC: f64 = PLATE_SCALE_ARCSEC_PER_MM * PIXEL_MICRON / 1000.0;
/// Size of a full scan (a real one: NAXIS1 = 9601, NAXIS2 = 9602).
pub const FULL_SIZE: (usize, usize) = (9601, 9602);

/// Which end of a trace is red. DFBS.md: not certain on real plates; the simulator takes it
/// as a parameter and records it in the header (REDEND), the pipeline reads it from there or
/// from its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedEnd {
    PlusY,
    MinusY,
}

impl RedEnd {
    pub fn keyword(self) -> &'static str {
        match self {
            RedEnd::PlusY => "+y",
            RedEnd::MinusY => "-y",
        }
    }

    pub fn parse(text: &str) -> Option<RedEnd> {
        match text.trim() {
            "+y" | "+Y" => Some(RedEnd::PlusY),
            "-y" | "-Y" => Some(RedEnd::MinusY),
            _ => None,
        }
    }

    /// +1 when y grows toward the red.
    pub fn sign(self) -> f64 {
        match self {
            RedEnd::PlusY => 1.0,
            RedEnd::MinusY => -1.0,
        }
    }
}

/// Everything about one plate that is not its objects.
#[derive(Debug, Clone)]
pub struct PlateSpec {
    pub index: usize,
    pub plate_id: String,
    pub plate_number: u32,
    pub width: usize,
    pub height: usize,
    pub wcs: PlateWcs,
    pub emulsion: Emulsion,
    /// Date and time of the middle of the exposure (UT), ISO 8601.
    pub date_obs: String,
    pub exposure_s: f64,
    /// Seeing FWHM in pixels (image size across the dispersion).
    pub seeing_fwhm_px: f64,
    /// B magnitude at which the red peak of an ordinary star reaches 3.5 σ of the grain noise.
    pub limiting_mag: f64,
    /// Densities above the clear-scan level: chemical fog and sky at the plate centre.
    pub fog_density: f64,
    pub sky_density: f64,
    /// Large-scale sky gradient: density change from centre to edge along x and y.
    pub sky_gradient: [f64; 2],
    /// Exposure loss at the plate corners from vignetting (fraction).
    pub vignetting: f64,
    /// Pixels from the catalogue position to the 690 nm point, toward the red.
    pub anchor_offset_px: f64,
    pub red_end: RedEnd,
    pub seed: u64,
}

/// North galactic pole in ICRS (Hipparcos definition, ESA 1997 vol. 1 §1.5.3).
const NGP_RA_DEG: f64 = 192.859_48;
const NGP_DEC_DEG: f64 = 27.128_25;

/// Galactic latitude of an ICRS position, degrees.
pub fn galactic_latitude(ra: f64, dec: f64) -> f64 {
    let d = std::f64::consts::PI / 180.0;
    let sin_b = (dec * d).sin() * (NGP_DEC_DEG * d).sin()
        + (dec * d).cos() * (NGP_DEC_DEG * d).cos() * ((ra - NGP_RA_DEG) * d).cos();
    sin_b.clamp(-1.0, 1.0).asin() / d
}

impl PlateSpec {
    /// Draws plate `index` of a run. Every property comes from its own stream, so the plate
    /// does not change when another option changes the number of objects.
    pub fn draw(options: &SimulateOptions, index: usize) -> PlateSpec {
        let mut rng = SimRng::for_plate(options.seed, index, 0x504c_4154);
        let (width, height) = options.size;
        let (ra0, dec0) = match options.field {
            Some(field) => field,
            None => loop {
                // The DFBS footprint: declination zones 4 deg wide from -15 to +90, |b| > 15.
                let zone = rng.below(26) as f64;
                let dec = -13.0 + 4.0 * zone;
                let ra = rng.range(0.0, 360.0);
                if galactic_latitude(ra, dec).abs() > 15.0 + 2.1 {
                    break (ra, dec);
                }
            },
        };
        let plate_number = options.first_plate + index as u32;
        let plate_id = format!("fbs{plate_number:04}");
        // Plate solution: about 1.54"/pixel with a small anisotropy and a rotation of a few
        // degrees (DFBS.md's example CD matrix is rotated about 2 degrees).
        let scale = PIXEL_ARCSEC / 3600.0 * rng.gauss(1.0, 0.002);
        let aspect = rng.gauss(1.0, 0.003);
        let rotation = rng.range(-3.0, 3.0).to_radians();
        let (s, c) = rotation.sin_cos();
        // East to -x, north to +y.
        let cd = [[-scale * aspect * c, scale * s], [scale * aspect * s, scale * c]];
        let crpix = [
            (width as f64 + 1.0) / 2.0 + rng.range(-0.01, 0.01) * width as f64,
            (height as f64 + 1.0) / 2.0 + rng.range(-0.02, 0.01) * height as f64,
        ];
        // SIP terms of a Schmidt plate: a few pixels at the corners of a full plate [inferred].
        let mut a = SipPolynomial::zero(2);
        let mut b = SipPolynomial::zero(2);
        for (p, q) in [(2, 0), (1, 1), (0, 2)] {
            a.set(p, q, rng.gauss(0.0, 1.2e-7));
            b.set(p, q, rng.gauss(0.0, 1.2e-7));
        }
        let mut wcs = PlateWcs { crpix, crval: [ra0, dec0], cd, sip: Some(Sip { a, b, ap: None, bp: None }) };
        wcs.fit_inverse_sip(3, width, height);

        let emulsion_name = match &options.emulsion {
            Some(name) => name.clone(),
            None => ["IIF", "IIaF", "IIAF", "103aF"][rng.weighted(&[0.45, 0.25, 0.1, 0.2])].to_string(),
        };
        let emulsion = Emulsion::by_name(&emulsion_name).unwrap_or_else(|| Emulsion::by_name("IIF").expect("IIF is known"));
        let year = 1965 + rng.below(16) as i32;
        let day_of_year = rng.below(365) as i64;
        let date = chrono::NaiveDate::from_ymd_opt(year, 1, 1).expect("valid date") + chrono::Duration::days(day_of_year);
        let minutes = 18 * 60 + rng.below(10 * 60) as i64; // 18:00-04:00 local, roughly UT-4
        let start = date.and_hms_opt(0, 0, 0).expect("midnight") + chrono::Duration::minutes(minutes - 4 * 60);
        let exposure_s = [1200.0, 1200.0, 1200.0, 1200.0, 1200.0, 900.0, 1500.0][rng.below(7) as usize];
        let middle = start + chrono::Duration::seconds(exposure_s as i64 / 2);
        PlateSpec {
            index,
            plate_id,
            plate_number,
            width,
            height,
            wcs,
            emulsion,
            date_obs: middle.format("%Y-%m-%dT%H:%M:%S").to_string(),
            exposure_s,
            seeing_fwhm_px: rng.range(2.2, 3.4) / PIXEL_ARCSEC,
            limiting_mag: {
                let drawn = rng.gauss(17.8, 0.35).clamp(16.8, 18.8);
                options.limiting_mag.unwrap_or(drawn)
            },
            fog_density: rng.range(0.020, 0.035),
            sky_density: rng.range(0.030, 0.050),
            sky_gradient: [rng.gauss(0.0, 0.006), rng.gauss(0.0, 0.006)],
            vignetting: rng.range(0.08, 0.18),
            anchor_offset_px: 8.0,
            red_end: options.red_end,
            seed: options.seed,
        }
    }

    /// Modified Julian Date of the middle of the exposure.
    pub fn epoch_mjd(&self) -> f64 {
        let when = chrono::NaiveDateTime::parse_from_str(&self.date_obs, "%Y-%m-%dT%H:%M:%S").expect("own format");
        let epoch = chrono::NaiveDate::from_ymd_opt(1858, 11, 17).expect("MJD zero").and_hms_opt(0, 0, 0).expect("midnight");
        (when - epoch).num_seconds() as f64 / 86400.0
    }

    /// The header cards of the scan: WFPDB keywords, the plate solution, and the simulator's
    /// own (SIMULATE and friends, so nobody mistakes a simulated plate for a real one).
    pub fn header_cards(&self) -> Vec<(String, CardValue, &'static str)> {
        let text = |s: &str| CardValue::Text(s.to_string());
        let mut cards: Vec<(String, CardValue, &'static str)> = vec![
            ("OBJECT".into(), text(&format!("FBS {:04}", self.plate_number)), "plate name"),
            ("PLATENUM".into(), text(&format!("{:04}", self.plate_number)), "plate number"),
            ("WFPDB-ID".into(), text(&format!("BYU102A{:06}", self.plate_number)), "Wide-Field Plate Database identifier"),
            ("TELESCOP".into(), text("Byurakan 1 m Schmidt"), "telescope"),
            ("TELAPER".into(), CardValue::Real(1.0), "[m] clear aperture"),
            ("TELFOC".into(), CardValue::Real(2.13), "[m] focal length"),
            ("TELSCALE".into(), CardValue::Real(PLATE_SCALE_ARCSEC_PER_MM), "[arcsec/mm] plate scale"),
            ("METHOD".into(), text("objective prism"), "observation method"),
            ("PRISMANG".into(), text("1:30"), "[deg:min] prism angle"),
            ("DISPERS".into(), CardValue::Real(2500.0), "[Angstrom/mm] dispersion at H-beta"),
            ("EMULSION".into(), text(self.emulsion.name), "emulsion"),
            ("DATEORIG".into(), text(&self.date_obs[..10]), "date of observation"),
            ("DATE-OBS".into(), text(&self.date_obs), "UT mid-exposure"),
            ("MJD-OBS".into(), CardValue::Real((self.epoch_mjd() * 1e6).round() / 1e6), "[d] MJD mid-exposure"),
            ("EXPTIME".into(), CardValue::Real(self.exposure_s), "[s] exposure time"),
            ("SITENAME".into(), text("Byurakan Astrophysical Observatory"), "observatory"),
            ("SITELONG".into(), CardValue::Real(44.2917), "[deg] east longitude"),
            ("SITELAT".into(), CardValue::Real(40.1455), "[deg] latitude"),
            ("SITEELEV".into(), CardValue::Real(1490.0), "[m] elevation"),
            ("SCANRES1".into(), CardValue::Integer(1600), "[dpi] scan resolution"),
            ("SCANRES2".into(), CardValue::Integer(1600), "[dpi] scan resolution"),
            ("PIXSIZE1".into(), CardValue::Real(PIXEL_MICRON), "[um] pixel size"),
            ("PIXSIZE2".into(), CardValue::Real(PIXEL_MICRON), "[um] pixel size"),
        ];
        cards.extend(self.wcs.header_cards());
        cards.extend([
            ("SIMULATE".into(), text("dfbs-vo simulate"), "a simulated plate, not a real one"),
            ("SIMVERS".into(), text(env!("CARGO_PKG_VERSION")), "dfbs-vo version of the simulator"),
            ("SIMSEED".into(), CardValue::Integer(self.seed as i64), "simulator seed"),
            ("REDEND".into(), text(self.red_end.keyword()), "end of the traces that is red"),
            ("ANCHOFF".into(), CardValue::Real(self.anchor_offset_px), "[pixel] position to 690 nm, toward red"),
            ("LIMMAG".into(), CardValue::Real((self.limiting_mag * 100.0).round() / 100.0), "[mag] B limit of ordinary stars"),
            ("SEEING".into(), CardValue::Real((self.seeing_fwhm_px * 1000.0).round() / 1000.0), "[pixel] FWHM across dispersion"),
        ]);
        cards
    }

    /// Plate area in square degrees.
    pub fn area_deg2(&self) -> f64 {
        let scale = self.wcs.pixel_scale_arcsec() / 3600.0;
        self.width as f64 * self.height as f64 * scale * scale
    }
}
