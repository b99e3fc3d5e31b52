//! Rendering a plate scan in row bands.
//!
//! Every band is rendered on its own from the object list, the defect list and counter-based
//! noise, so bands can go to any thread in any order (rayon) and the plate never exists in
//! memory as a whole: memory is a few bands, whatever the plate size.
//!
//! The physics, per pixel:
//! 1. exposure E = (sky + Σ objects) × vignetting, in units of the characteristic curve;
//! 2. photographic density D = fog + D_SAT · (1 − e^(−E)) (a saturating characteristic
//!    curve), plus dark defects (dust, hairs) or minus the emulsion of a scratch;
//! 3. grain noise of σ = GRAIN · √D (Selwyn granularity);
//! 4. the scanner sees transmission: value = 16383 · 10^(−D), so spectra are dark on a bright
//!    background (clear plate about 14,000, DFBS.md), with the unexposed black corners of the
//!    plate holder at about 600.

use super::defects::{Defect, DefectKind};
use super::plate::PlateSpec;
use super::population::{erf, sky_exposure, SimObject, D_SAT, GRAIN};
use super::random::{pixel_noise, plate_stream};

/// Largest value of a 14-bit scan (DFBS.md: 0 dark to 16383 clear).
pub const SCAN_MAX: f64 = 16383.0;
/// Level of the black corners.
pub const CORNER_LEVEL: f64 = 600.0;

/// What a band needs to know about the plate, precomputed once.
pub struct PlateScene<'a> {
    pub plate: &'a PlateSpec,
    pub objects: &'a [SimObject],
    pub defects: &'a [Defect],
    /// Objects sorted by the first row they touch, with that row range.
    by_row: Vec<(i64, i64, usize)>,
    /// Longest row span of any object (to find the objects that start above a band).
    longest_span: i64,
    noise_stream: u64,
    corner_leg: f64,
    /// σ of the grain noise at density 1 ([`GRAIN`] unless scaled for a study).
    grain: f64,
}

impl<'a> PlateScene<'a> {
    pub fn new(plate: &'a PlateSpec, objects: &'a [SimObject], defects: &'a [Defect]) -> PlateScene<'a> {
        let mut by_row: Vec<(i64, i64, usize)> =
            objects.iter().enumerate().map(|(i, o)| { let (a, b) = o.row_span(plate); (a, b, i) }).collect();
        by_row.sort();
        let longest_span = by_row.iter().map(|(a, b, _)| b - a).max().unwrap_or(0);
        PlateScene {
            plate,
            objects,
            defects,
            by_row,
            longest_span,
            noise_stream: plate_stream(plate.seed, plate.index as u64, 0x4e4f_4953),
            corner_leg: 0.012 * plate.width.min(plate.height) as f64,
            grain: GRAIN,
        }
    }

    /// The same scene with its grain noise scaled by `factor`.
    pub fn with_grain_scale(mut self, factor: f64) -> PlateScene<'a> {
        self.grain = GRAIN * factor;
        self
    }

    /// Vignetting factor at FITS pixel (x, y): 1 at the centre, 1 − vignetting at the corners.
    fn vignetting(&self, x: f64, y: f64) -> f64 {
        let cx = (self.plate.width as f64 + 1.0) / 2.0;
        let cy = (self.plate.height as f64 + 1.0) / 2.0;
        let r2 = ((x - cx) / cx).powi(2) + ((y - cy) / cy).powi(2);
        1.0 - self.plate.vignetting * r2 / 2.0
    }

    /// Sky density at (x, y): the plate's level plus a linear gradient.
    fn sky_density(&self, x: f64, y: f64) -> f64 {
        let u = 2.0 * x / self.plate.width as f64 - 1.0;
        let v = 2.0 * y / self.plate.height as f64 - 1.0;
        (self.plate.sky_density + self.plate.sky_gradient[0] * u + self.plate.sky_gradient[1] * v).max(0.005)
    }

    fn in_corner(&self, x: f64, y: f64) -> bool {
        let w = self.plate.width as f64;
        let h = self.plate.height as f64;
        let leg = self.corner_leg;
        (x - 0.5) + (y - 0.5) < leg
            || (w + 0.5 - x) + (y - 0.5) < leg
            || (x - 0.5) + (h + 0.5 - y) < leg
            || (w + 0.5 - x) + (h + 0.5 - y) < leg
    }

    /// Renders rows `first_row..first_row + rows` (0-based image rows; FITS y = row + 1) as
    /// 16-bit scan values, row after row.
    pub fn render_band(&self, first_row: usize, rows: usize) -> Vec<i16> {
        let width = self.plate.width;
        let mut exposure = vec![0.0f32; width * rows];
        let y_low = first_row as i64 + 1;
        let y_high = (first_row + rows) as i64;
        // Objects whose rows intersect [y_low, y_high].
        let start = self.by_row.partition_point(|(a, _, _)| *a < y_low - self.longest_span - 1);
        let mut weights = Vec::new();
        for &(a, b, index) in &self.by_row[start..] {
            if a > y_high {
                break;
            }
            if b < y_low {
                continue;
            }
            self.add_object(&self.objects[index], y_low, y_high, &mut exposure, &mut weights);
        }
        let mut density_offset = vec![0.0f32; width * rows];
        for defect in self.defects {
            defect.add_density(first_row, rows, width, &mut density_offset);
        }
        let mut out = vec![0i16; width * rows];
        for r in 0..rows {
            let y = (first_row + r + 1) as f64;
            let row_exposure = &exposure[r * width..(r + 1) * width];
            let row_offset = &density_offset[r * width..(r + 1) * width];
            let row_out = &mut out[r * width..(r + 1) * width];
            for (c, value) in row_out.iter_mut().enumerate() {
                let x = (c + 1) as f64;
                if self.in_corner(x, y) {
                    let noise = pixel_noise(self.noise_stream, c as u32, (first_row + r) as u32) as f64;
                    *value = (CORNER_LEVEL + 15.0 * noise).round() as i16;
                    continue;
                }
                let vignetting = self.vignetting(x, y);
                let sky = sky_exposure(self.sky_density(x, y)) * vignetting;
                let e = sky + row_exposure[c] as f64 * vignetting;
                let mut density = self.plate.fog_density + D_SAT * -(-e).exp_m1();
                let defect = row_offset[c] as f64;
                if defect < 0.0 {
                    // A scratch removes the emulsion: what is left is the base's own fog.
                    density = (density + defect).max(0.3 * self.plate.fog_density);
                } else {
                    density += defect;
                }
                let noise = pixel_noise(self.noise_stream, c as u32, (first_row + r) as u32) as f64;
                density += self.grain * density.max(0.0).sqrt() * noise;
                let scan = SCAN_MAX * 10f64.powf(-density);
                *value = scan.round().clamp(0.0, SCAN_MAX) as i16;
            }
        }
        out
    }

    /// Adds one object's trace to the exposure of rows [y_low, y_high] (FITS y).
    fn add_object(&self, object: &SimObject, y_low: i64, y_high: i64, exposure: &mut [f32], weights: &mut Vec<f32>) {
        let width = self.plate.width as i64;
        let (c0, c1) = object.column_span();
        let c0 = c0.max(1);
        let c1 = c1.min(width);
        if c0 > c1 {
            return;
        }
        // Column weights: the Gaussian integrated over each pixel.
        weights.clear();
        let scale = 1.0 / (std::f64::consts::SQRT_2 * object.sigma_x);
        for x in c0..=c1 {
            let a = erf((x as f64 - 0.5 - object.x) * scale);
            let b = erf((x as f64 + 0.5 - object.x) * scale);
            weights.push((0.5 * (b - a)) as f32);
        }
        let (r0, r1) = object.row_span(self.plate);
        for y in r0.max(y_low)..=r1.min(y_high) {
            let k = object.k_of_row(self.plate, y as f64);
            let e = object.profile_at(k) as f32;
            if e <= 0.0 {
                continue;
            }
            let row = (y - y_low) as usize;
            let base = row * width as usize;
            for (i, w) in weights.iter().enumerate() {
                exposure[base + (c0 as usize - 1) + i] += e * w;
            }
        }
    }
}

impl DefectKind {
    pub fn label(self) -> &'static str {
        match self {
            DefectKind::Dust => "dust",
            DefectKind::Hair => "hair",
            DefectKind::Scratch => "scratch",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{defects, population, Mix, SimulateOptions};

    #[test]
    fn bands_do_not_depend_on_how_the_plate_is_cut() {
        let options = SimulateOptions { size: (300, 400), density: 20_000.0, ..SimulateOptions::default() };
        let plate = PlateSpec::draw(&options, 0);
        let objects = population::draw_objects(&plate, Mix::Balanced, options.density);
        let defects = defects::draw_defects(&plate);
        assert!(objects.len() > 100);
        let scene = PlateScene::new(&plate, &objects, &defects);
        let whole = scene.render_band(0, 400);
        let mut pieces = Vec::new();
        for (first, rows) in [(0, 7), (7, 128), (135, 1), (136, 264)] {
            pieces.extend(scene.render_band(first, rows));
        }
        assert_eq!(whole, pieces);
        // Dark spectra on a bright background.
        let mut sorted = whole.clone();
        sorted.sort();
        assert!(sorted[sorted.len() / 2] > 12_000);
        assert!(sorted[sorted.len() / 100] < 11_000);
    }

    #[test]
    fn grain_scale_scales_the_noise_and_nothing_else() {
        let options = SimulateOptions { size: (200, 200), density: 1e-6, ..SimulateOptions::default() };
        let plate = PlateSpec::draw(&options, 0);
        let spread = |factor: f64| {
            let scene = PlateScene::new(&plate, &[], &[]).with_grain_scale(factor);
            // Second differences across a row take out the sky's slow variation.
            let band = scene.render_band(100, 1);
            let d: Vec<f64> = band.windows(3).map(|w| w[0] as f64 - 2.0 * w[1] as f64 + w[2] as f64).collect();
            let mean = d.iter().sum::<f64>() / d.len() as f64;
            ((d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d.len() as f64).sqrt(), band)
        };
        let (full, survey) = spread(1.0);
        let (low, study) = spread(0.02);
        assert!(full > 20.0, "grain noise on the scan: {full}");
        assert!(low < 0.05 * full, "noise scaled by 0.02: {low} against {full}");
        // The same sky underneath: the two scans differ by the noise only.
        let mean = |b: &[i16]| b.iter().map(|&v| v as f64).sum::<f64>() / b.len() as f64;
        assert!((mean(&survey) - mean(&study)).abs() < 3.0 * full / (survey.len() as f64).sqrt() + 1.0);
    }
}
