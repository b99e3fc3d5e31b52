//! The objects of one plate: where they are, what they are, how bright, and the exposure
//! profile each leaves along its trace.

use crate::pipeline::wavelength;

use super::emulsion::{Emulsion, REFERENCE_TEMPERATURE_K};
use super::plate::PlateSpec;
use super::random::{hash_parts, SimRng};
use super::templates::{ObjectClass, Template};
use super::Mix;

/// Range of pixel offsets from the 690 nm point (toward the blue) that a trace is computed on:
/// from beyond the red cut-off to about 303 nm.
pub const K_MIN: i32 = -10;
pub const K_MAX: i32 = 150;
const PROFILE_LEN: usize = (K_MAX - K_MIN + 1) as usize;

/// Grain noise of the emulsion in density units at density D: σ = GRAIN · √D (granularity
/// grows with density, Selwyn's law) [inferred size: 0.012 at the sky level].
pub const GRAIN: f64 = 0.040;
/// Saturation density above fog of the characteristic curve D = D_SAT (1 - exp(-E)).
pub const D_SAT: f64 = 1.9;

/// The class proportions of `--mix realistic`: ordinary stars dominate, PN and M are rare
/// [inferred from the application's counts and the known space densities at |b| > 15 deg
/// down to B ≈ 18: the classifier counts of DFBS.md are inflated by misclassification].
pub fn class_weights(mix: Mix) -> [f64; 10] {
    match mix {
        // star, M, C, sd, WD, CV, PN, UVX, Sy, QSO
        Mix::Realistic => [0.855, 0.035, 0.006, 0.012, 0.008, 0.002, 0.0005, 0.045, 0.0085, 0.028],
        Mix::Balanced => [0.1; 10],
    }
}

/// One object on the plate.
#[derive(Debug, Clone)]
pub struct SimObject {
    /// 1-based running number within the plate.
    pub number: u32,
    pub template: Template,
    pub mag_b: f64,
    pub mag_r: f64,
    pub ra: f64,
    pub dec: f64,
    /// Catalogue position in FITS pixels (1-based): the anchor point of the trace.
    pub x: f64,
    pub y: f64,
    /// Image width (σ, pixels) across and along the dispersion.
    pub sigma_x: f64,
    pub sigma_y: f64,
    /// Noise-free exposure per pixel row along the trace, at integer offsets K_MIN..=K_MAX from
    /// the 690 nm point (toward the blue), summed across the trace (before vignetting).
    pub profile: Vec<f32>,
    /// Visible trace: pixel bounding box (inclusive, 1-based), rows whose noise-free peak
    /// density exceeds twice the grain noise of the sky. None when the object is too faint.
    pub bbox: Option<[i64; 4]>,
    /// The bounding box reaches past the plate's edge.
    pub clipped: bool,
    pub overlaps: bool,
    /// An injected anomaly (truth class `anomaly`), not one of the survey's classes.
    pub injected: bool,
}

impl SimObject {
    /// y of the 690 nm point.
    pub fn y_690(&self, plate: &PlateSpec) -> f64 {
        self.y + plate.red_end.sign() * plate.anchor_offset_px
    }

    /// Offset toward the blue from the 690 nm point of pixel row `y`.
    pub fn k_of_row(&self, plate: &PlateSpec, y: f64) -> f64 {
        (self.y_690(plate) - y) * plate.red_end.sign()
    }

    /// Profile value at fractional offset k (linear interpolation, 0 outside).
    pub fn profile_at(&self, k: f64) -> f64 {
        let position = k - K_MIN as f64;
        if position < 0.0 || position > (PROFILE_LEN - 1) as f64 {
            return 0.0;
        }
        let i = position.floor() as usize;
        let t = position - i as f64;
        let a = self.profile[i] as f64;
        let b = self.profile.get(i + 1).copied().unwrap_or(0.0) as f64;
        a + (b - a) * t
    }

    /// Rows the trace touches at all (including faint wings), FITS 1-based, inclusive.
    pub fn row_span(&self, plate: &PlateSpec) -> (i64, i64) {
        let y690 = self.y_690(plate);
        let s = plate.red_end.sign();
        let a = y690 - s * K_MIN as f64;
        let b = y690 - s * K_MAX as f64;
        (a.min(b).floor() as i64 - 1, a.max(b).ceil() as i64 + 1)
    }

    /// Columns the trace touches (±4.5 σ), FITS 1-based, inclusive.
    pub fn column_span(&self) -> (i64, i64) {
        let half = 4.5 * self.sigma_x + 1.0;
        ((self.x - half).floor() as i64, (self.x + half).ceil() as i64)
    }

    /// The noise-free truth spectrum on the 136-bin DFBS grid (bins are pixel offsets 0..135
    /// from 690 nm, see pipeline::wavelength): exposure per pixel row, summed across the trace.
    pub fn truth_spectrum(&self) -> Vec<Option<f32>> {
        (0..wavelength::GRID_BINS).map(|k| Some(self.profile[(k as i32 - K_MIN) as usize])).collect()
    }
}

/// Planck's law in wavelength, up to a constant: λ⁻⁵ / (exp(hc/λkT) − 1), λ in nm.
pub fn planck(lambda_nm: f64, temperature_k: f64) -> f64 {
    const HC_OVER_K_NM_K: f64 = 1.438_776_9e7; // hc/k in nm·K
    let x = HC_OVER_K_NM_K / (lambda_nm * temperature_k);
    lambda_nm.powi(-5) / x.exp_m1()
}

/// Mean of `f` over a wavelength band, by the midpoint rule.
fn band_mean(f: &dyn Fn(f64) -> f64, low: f64, high: f64) -> f64 {
    let n = 40;
    (0..n).map(|i| f(low + (high - low) * (i as f64 + 0.5) / n as f64)).sum::<f64>() / n as f64
}

/// Photographic B and R bands (nm) [inferred band limits].
const B_BAND: (f64, f64) = (400.0, 480.0);
const R_BAND: (f64, f64) = (590.0, 700.0);

/// B − R colour of an SED given by its band means, relative to a 9,600 K blackbody (a
/// Vega-like zero point).
pub fn colour_from_band_means(mean_b: f64, mean_r: f64) -> f64 {
    let vega = |l: f64| planck(l, 9600.0);
    let ratio_vega = band_mean(&vega, B_BAND.0, B_BAND.1) / band_mean(&vega, R_BAND.0, R_BAND.1);
    -2.5 * (mean_b / mean_r / ratio_vega).log10()
}

/// B − R colour of a smooth SED (sampled: fine for continua, not for narrow lines).
pub fn colour_b_minus_r(sed: &dyn Fn(f64) -> f64) -> f64 {
    colour_from_band_means(band_mean(sed, B_BAND.0, B_BAND.1), band_mean(sed, R_BAND.0, R_BAND.1))
}

/// B − R colour of a template, with its lines integrated exactly (`Template::sed_mean`).
pub fn template_colour(template: &Template) -> f64 {
    colour_from_band_means(template.sed_mean(B_BAND.0, B_BAND.1), template.sed_mean(R_BAND.0, R_BAND.1))
}

/// Draws B magnitudes from counts growing as 10^(slope·m) between `bright` and `faint`.
fn draw_magnitude(rng: &mut SimRng, bright: f64, faint: f64, slope: f64) -> f64 {
    let low = 10f64.powf(slope * bright);
    let high = 10f64.powf(slope * faint);
    (low + rng.uniform() * (high - low)).log10() / slope
}

/// Exposure per row at the red peak (response 1) of an ordinary star at the plate limit: such
/// that the peak pixel of its trace is 3.5 σ of the sky's grain noise above the sky.
fn limit_row_exposure(plate: &PlateSpec) -> f64 {
    let sky_e = sky_exposure(plate.sky_density);
    let sigma_sky = GRAIN * (plate.fog_density + plate.sky_density).sqrt();
    let delta_e = 3.5 * sigma_sky / (D_SAT * (-sky_e).exp());
    // The peak pixel of a Gaussian trace holds about this fraction of the row's exposure.
    let sigma = plate.seeing_fwhm_px / 2.3548;
    let peak_fraction = erf(0.5 / (std::f64::consts::SQRT_2 * sigma));
    delta_e / peak_fraction
}

/// Exposure (in units of the characteristic curve) that gives the sky density `density`.
pub fn sky_exposure(density: f64) -> f64 {
    -(1.0 - density / D_SAT).ln()
}

/// Error function, Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
pub fn erf(x: f64) -> f64 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t + 0.254_829_592)
            * t
            * (-x * x).exp();
    sign * y
}

/// Exposure profile of a template along the trace: the emulsion response to the reference
/// star times the object's SED over the reference SED, averaged over each pixel's wavelength
/// interval (4 sub-intervals, each with the SED's exact interval mean, so narrow emission
/// lines are neither missed nor over-counted), then smoothed by the image along the dispersion
/// (Gaussian σ_y).
pub fn trace_profile(template: &Template, emulsion: &Emulsion, row_exposure: f64, sigma_y: f64) -> Vec<f32> {
    let reference_445 = planck(445.0, REFERENCE_TEMPERATURE_K);
    let mut raw = vec![0.0f64; PROFILE_LEN];
    for (i, value) in raw.iter_mut().enumerate() {
        let k = (i as i32 + K_MIN) as f64;
        let mut sum = 0.0;
        for sub in [-0.375, -0.125, 0.125, 0.375] {
            let lambda = wavelength::wavelength_nm(k + sub);
            let response = emulsion.response(lambda);
            if response > 0.0 {
                // Wavelength decreases with k: the sub-interval runs from k+sub+1/8 (blue) to
                // k+sub-1/8 (red).
                let blue = wavelength::wavelength_nm(k + sub + 0.125);
                let red = wavelength::wavelength_nm(k + sub - 0.125);
                let reference = planck(lambda, REFERENCE_TEMPERATURE_K) / reference_445;
                sum += response * template.sed_mean(blue, red) / reference;
            }
        }
        *value = row_exposure * sum / 4.0;
    }
    let radius = (4.0 * sigma_y).ceil() as i64;
    let kernel: Vec<f64> = (-radius..=radius).map(|d| (-0.5 * (d as f64 / sigma_y).powi(2)).exp()).collect();
    let norm: f64 = kernel.iter().sum();
    (0..PROFILE_LEN as i64)
        .map(|i| {
            let mut sum = 0.0;
            for (j, w) in kernel.iter().enumerate() {
                let source = i + j as i64 - radius;
                if source >= 0 && (source as usize) < PROFILE_LEN {
                    sum += w * raw[source as usize];
                }
            }
            (sum / norm) as f32
        })
        .collect()
}

/// Draws the objects of a plate: positions uniform over the scan, classes from the mix,
/// magnitudes from rising counts down to 0.7 mag past the plate limit.
pub fn draw_objects(plate: &PlateSpec, mix: Mix, density_per_deg2: f64) -> Vec<SimObject> {
    let mut rng = SimRng::for_plate(plate.seed, plate.index, 0x4f42_4a53);
    let count = (density_per_deg2 * plate.area_deg2()).round() as usize;
    let weights = class_weights(mix);
    let mut objects = Vec::with_capacity(count);
    for number in 1..=count as u32 {
        // Each object's own stream: hash_parts, not derive_seed, whose seeds repeat across plates.
        let mut object_rng = SimRng::new(hash_parts(&[plate.seed, plate.index as u64, number as u64]));
        let class = ObjectClass::ALL[object_rng.weighted(&weights)];
        let template = Template::draw(class, &mut object_rng);
        let x = 1.0 + rng.uniform() * (plate.width as f64 - 1.0);
        let y = 1.0 + rng.uniform() * (plate.height as f64 - 1.0);
        let faint = plate.limiting_mag + 0.7;
        let mag_b = match mix {
            Mix::Realistic => draw_magnitude(&mut object_rng, 11.0, faint, 0.32),
            // Training sets want many bright examples too.
            Mix::Balanced => draw_magnitude(&mut object_rng, 11.5, faint, 0.15),
        };
        objects.push(place_object(plate, number, template, mag_b, x, y));
    }
    flag_overlaps(&mut objects);
    objects
}

/// Adds `count` injected anomalies: objects of a kind absent from the training classes, a
/// featureless hot continuum with one strong narrow emission line at a random wavelength
/// (400-640 nm, equivalent width 30-80 nm), B 14-17. Their truth class is `anomaly`. They come
/// from their own random stream, so the other objects do not change.
pub fn inject_anomalies(plate: &PlateSpec, objects: &mut Vec<SimObject>, count: usize) {
    use super::templates::model::{ContinuumComponent, ContinuumShape, EmissionLine, SpectralModel};
    let mut rng = SimRng::for_plate(plate.seed, plate.index, 0x414e_4f4d);
    let first = objects.len() as u32 + 1;
    for number in first..first + count as u32 {
        let mut template = Template::draw(ObjectClass::NormalStar, &mut rng);
        let center = rng.range(400.0, 640.0);
        let sigma = rng.range(0.5, 1.5);
        let equivalent_width = rng.range(30.0, 80.0);
        let mut model = SpectralModel::new();
        model.continuum.push(ContinuumComponent::with_value_at(
            ContinuumShape::Blackbody { temperature_k: rng.range(9000.0, 15000.0) },
            center,
            1.0,
        ));
        model.emission.push(EmissionLine { center_nm: center, sigma_nm: sigma, amplitude: equivalent_width / (sigma * (std::f64::consts::TAU).sqrt()) });
        model.scale = 1.0 / model.eval(445.0, 0.0).max(1e-12);
        template.model = model;
        template.subclass = format!("single_line_{center:.0}nm");
        template.redshift = None;
        template.extent_arcsec = 0.0;
        let mag_b = rng.range(14.0, 17.0);
        let x = 1.0 + rng.uniform() * (plate.width as f64 - 1.0);
        let y = 1.0 + rng.uniform() * (plate.height as f64 - 1.0);
        let mut object = place_object(plate, number, template, mag_b, x, y);
        object.injected = true;
        objects.push(object);
    }
    flag_overlaps(objects);
}

/// An object of `template` and magnitude `mag_b` at anchor (x, y): its sky position, colour,
/// image size, exposure profile and visible box.
pub(crate) fn place_object(plate: &PlateSpec, number: u32, template: Template, mag_b: f64, x: f64, y: f64) -> SimObject {
    let limit_exposure = limit_row_exposure(plate);
    let sigma_seeing = plate.seeing_fwhm_px / 2.3548;
    let pixel_arcsec = plate.wcs.pixel_scale_arcsec();
    let sky_e = sky_exposure(plate.sky_density);
    let sigma_sky = GRAIN * (plate.fog_density + plate.sky_density).sqrt();
    let (ra, dec) = plate.wcs.pixel_to_sky(x, y);
    let mag_r = mag_b - template_colour(&template);
    let extent_px = template.extent_arcsec / 2.3548 / pixel_arcsec;
    let sigma_x = (sigma_seeing * sigma_seeing + extent_px * extent_px).sqrt();
    // Along the dispersion: the image plus the prism's own blur (about 0.6 px) [inferred].
    let sigma_y = (sigma_seeing * sigma_seeing + extent_px * extent_px + 0.36).sqrt();
    // B is the object's mean F_lambda over the B band relative to the reference star's: an
    // object of the same B as the reference star gets the same B-band exposure, whatever its
    // lines and continuum (the template is scaled to 1 at 445 nm, not to its B band).
    let reference = |l: f64| planck(l, REFERENCE_TEMPERATURE_K) / planck(445.0, REFERENCE_TEMPERATURE_K);
    let band_scale = band_mean(&reference, B_BAND.0, B_BAND.1) / template.sed_mean(B_BAND.0, B_BAND.1);
    let row_exposure = limit_exposure * 10f64.powf(-0.4 * (mag_b - plate.limiting_mag)) * band_scale;
    let profile = trace_profile(&template, &plate.emulsion, row_exposure, sigma_y);
    let mut object = SimObject {
        number,
        template,
        mag_b: (mag_b * 1000.0).round() / 1000.0,
        mag_r: (mag_r * 1000.0).round() / 1000.0,
        ra,
        dec,
        x,
        y,
        sigma_x,
        sigma_y,
        profile,
        bbox: None,
        clipped: false,
        overlaps: false,
        injected: false,
    };
    // Visible rows: peak pixel density above twice the sky's grain noise.
    let peak_fraction = erf(0.5 / (std::f64::consts::SQRT_2 * sigma_x));
    let threshold = 2.0 * sigma_sky / (D_SAT * (-sky_e).exp()) / peak_fraction;
    let visible: Vec<usize> = object.profile.iter().enumerate().filter(|(_, e)| **e as f64 > threshold).map(|(i, _)| i).collect();
    if let (Some(&first), Some(&last)) = (visible.first(), visible.last()) {
        let s = plate.red_end.sign();
        let y690 = object.y_690(plate);
        let ya = y690 - s * (first as f64 + K_MIN as f64);
        let yb = y690 - s * (last as f64 + K_MIN as f64);
        let half = 2.0 * sigma_x;
        let bbox = [(x - half).round() as i64, ya.min(yb).round() as i64, (x + half).round() as i64, ya.max(yb).round() as i64];
        object.clipped = bbox[0] < 1 || bbox[1] < 1 || bbox[2] > plate.width as i64 || bbox[3] > plate.height as i64;
        object.bbox = Some([bbox[0].max(1), bbox[1].max(1), bbox[2].min(plate.width as i64), bbox[3].min(plate.height as i64)]);
    }
    object
}

/// Marks objects whose visible bounding boxes intersect another's (DFBS quality NL).
fn flag_overlaps(objects: &mut [SimObject]) {
    let mut boxes: Vec<(usize, [i64; 4])> =
        objects.iter().enumerate().filter_map(|(i, o)| o.bbox.map(|b| (i, b))).collect();
    boxes.sort_by_key(|(_, b)| b[0]);
    let mut overlapping = vec![false; objects.len()];
    for (n, (i, a)) in boxes.iter().enumerate() {
        for (j, b) in boxes[n + 1..].iter() {
            if b[0] > a[2] {
                break;
            }
            if b[1] <= a[3] && a[1] <= b[3] {
                overlapping[*i] = true;
                overlapping[*j] = true;
            }
        }
    }
    for (object, flag) in objects.iter_mut().zip(overlapping) {
        object.overlaps = flag;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injected_anomalies_leave_the_other_objects_alone() {
        use crate::sim::SimulateOptions;
        let options = SimulateOptions { size: (400, 400), density: 3000.0, ..SimulateOptions::default() };
        let plate = PlateSpec::draw(&options, 0);
        let plain = draw_objects(&plate, Mix::Realistic, options.density);
        let mut with = draw_objects(&plate, Mix::Realistic, options.density);
        inject_anomalies(&plate, &mut with, 4);
        assert_eq!(with.len(), plain.len() + 4);
        for (a, b) in plain.iter().zip(&with) {
            assert_eq!((a.x, a.y, a.mag_b), (b.x, b.y, b.mag_b));
        }
        for object in &with[plain.len()..] {
            assert!(object.injected && object.template.subclass.starts_with("single_line_"));
            // One strong line: the profile's peak stands far above its median.
            let mut sorted = object.profile.clone();
            sorted.sort_by(f32::total_cmp);
            assert!(sorted[sorted.len() - 1] > 5.0 * sorted[sorted.len() / 2]);
        }
    }

    #[test]
    fn erf_matches_known_values() {
        assert!((erf(0.5) - 0.520_499_877_8).abs() < 2e-7);
        assert!((erf(-1.0) + 0.842_700_792_9).abs() < 2e-7);
        assert!(erf(6.0) > 0.999_999);
    }

    #[test]
    fn colours_order_with_temperature() {
        let hot = |l: f64| planck(l, 20_000.0);
        let vega = |l: f64| planck(l, 9600.0);
        let cool = |l: f64| planck(l, 3500.0);
        assert!(colour_b_minus_r(&vega).abs() < 1e-12);
        assert!(colour_b_minus_r(&hot) < 0.0);
        assert!(colour_b_minus_r(&cool) > 1.0);
    }

    #[test]
    fn magnitudes_stay_in_range_and_rise_to_the_faint_end() {
        let mut rng = SimRng::new(5);
        let mags: Vec<f64> = (0..10_000).map(|_| draw_magnitude(&mut rng, 11.0, 18.5, 0.32)).collect();
        assert!(mags.iter().all(|m| (11.0..=18.5).contains(m)));
        let faint = mags.iter().filter(|m| **m > 17.5).count();
        let bright = mags.iter().filter(|m| **m < 12.5).count();
        assert!(faint > 10 * bright);
    }
}
