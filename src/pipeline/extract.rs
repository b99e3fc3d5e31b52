//! Extraction: from the traces found by [`super::detect`] to catalogue-ready detections —
//! anchor position, 1D spectrum on the DFBS grid, the CNN cutout, sky, signal-to-noise,
//! instrumental magnitude and the quality flag (DFBS.md, "How earlier pipelines extracted
//! spectra" and the published `dfbsspec` columns).
//!
//! * Anchor: the 690 nm point lies [`RED_BORDER_TO_690_PIXELS`] blueward of the red border and
//!   the catalogue position `anchor_offset_px` further blueward:
//!   y = red_border_y − sign · (2 + anchor_offset_px), sign = +1 when the red end is +y;
//!   x = intensity-weighted centroid across the trace over its red part.
//! * Spectrum: bin k of the grid (pipeline::wavelength) lies k pixels blueward of the 690 nm
//!   point; its value is the background-subtracted density summed across the trace with optimal
//!   weights (Horne 1986: the trace's Gaussian cross profile over a box of ±max(2, ⌈2.5 σ_x⌉)
//!   columns, at most ±8; see [`row_flux`]), interpolated linearly between rows at
//!   y = y_690 − sign · k. Uncalibrated, as the published spectra are (DFBS.md: arbitrary
//!   units). Rows that a hair crosses (dark on both sides of the trace at once) are left out:
//!   its density would pass for an emission line.
//! * Cutout: a 140 × 20 crop (rows × columns) starting 5 pixels redward of the red border,
//!   red end in row 0, of the inverted scan (16383 − value: the spectrum bright on dark),
//!   min-max scaled to [0, 1] and zero-padded, centred, to 160 × 50 (the earlier CNN's input).
//! * Quality: NL where another detection's box comes within `neighbour_margin_px` of this one's
//!   (boxes overlapping or touching), else U where the red peak's signal-to-noise is below
//!   `undersignal_snr`, else OK.

use rayon::prelude::*;

use super::detect::image::{BandImage, SCAN_MAX};
use super::detect::trace::{find_traces, CandidateBox, Residual, TraceFit};
use super::detect::{band_traces, plan_bands, read_band, BandSource};
use super::params::PipelineParams;
use super::wavelength::{GRID_BINS, RED_BORDER_TO_690_PIXELS};

/// Quality of an extracted spectrum, as in the published DFBS database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    /// 'OK'.
    Ok,
    /// 'NL': disturbing neighbours (another trace's box overlaps or touches).
    Neighbours,
    /// 'U': too little signal.
    Undersignal,
}

impl Quality {
    pub fn label(self) -> &'static str {
        match self {
            Quality::Ok => "OK",
            Quality::Neighbours => "NL",
            Quality::Undersignal => "U",
        }
    }
}

/// How this pipeline extracts `flux` (see [`row_flux`]). Plates record it in their provenance
/// (`dfbs.plates.ingest_params.flux_extraction`) and models the one they were trained on
/// (`flux_extraction` in dfbs-classifier.json), so that the classify stage never feeds a model
/// spectra extracted another way. "box": the plain sums of dfbs-vo 0.1.0, which recorded nothing.
pub const FLUX_EXTRACTION: &str = "optimal";
/// The extraction of plates and models that record none (dfbs-vo 0.1.0, models up to 1.5.0).
pub const BOX_EXTRACTION: &str = "box";

/// Rows of the crop and of the padded cutout; columns likewise.
pub const CROP_ROWS: usize = 140;
pub const CROP_COLUMNS: usize = 20;
pub const CUTOUT_ROWS: usize = 160;
pub const CUTOUT_COLUMNS: usize = 50;
/// Rows of the crop redward of the red border.
const CROP_RED_MARGIN: i64 = 5;

/// One extracted spectrum.
#[derive(Debug, Clone)]
pub struct Detection {
    /// Anchor point (the catalogue position) in FITS pixels (1-based).
    pub x: f64,
    pub y: f64,
    /// Trace bounding box x_min, y_min, x_max, y_max, FITS pixels inclusive.
    pub bbox: [i64; 4],
    /// FITS y of the red border (690 nm lies 2 px blueward of it).
    pub red_border_y: f64,
    /// Visible length along the dispersion (pixels).
    pub length_px: u32,
    /// The 136 bins of the DFBS grid: background-subtracted density summed across the trace
    /// (optimally weighted, [`row_flux`]);
    /// None where the bin is off the plate, its centre pixel masked (plate-holder corner,
    /// scratch) or its row crossed by a hair.
    pub flux: Vec<Option<f32>>,
    /// CNN input, CUTOUT_ROWS × CUTOUT_COLUMNS row-major, red end at the top.
    pub cutout: Vec<f32>,
    /// Local background (scan units).
    pub sky: f32,
    /// −2.5 log10(Σ flux over bins 0..=30) + mag_zero_point: the trace's brightness from
    /// 487-690 nm (a red band; used by the detector's checks, not published).
    pub instrumental_mag: f64,
    /// The photographic B band's instrumental magnitude, −2.5 log10(Σ flux over
    /// [`B_BAND_BINS`]) + mag_zero_point_b; None when a bin of the band is missing or the sum is
    /// below [`B_BAND_MIN_SNR`] times its noise (too faint in B to measure).
    pub instrumental_b: Option<f64>,
    /// The photographic R band's: over [`R_BAND_BINS`] + mag_zero_point_r, on the same terms.
    pub instrumental_r: Option<f64>,
    /// Signal-to-noise of the red peak (bins 1..=8).
    pub snr: f32,
    pub quality: Quality,
}

/// ΔD of band row r summed across the trace with optimal weights (Horne 1986, PASP 98, 609,
/// eq. 8 with a uniform variance, the sky-limited case of the faint traces):
/// f = Σ P_c ΔD_c / Σ P_c² over the valid columns c0..=c1, where `weights` is the cross profile
/// P normalised to unit sum over the box ([`cross_weights`]). For a trace of that profile its
/// expectation is the box sum's, with a noise of σ / √ΣP² instead of σ √n (masked pixels
/// skipped, the sum then renormalised by the P² present). None when the centre column is masked
/// or the row lies outside the band.
fn row_flux(band: &BandImage, r: i64, c0: i64, c1: i64, centre: i64, weights: &[f32]) -> Option<f32> {
    if r < 0 || r as usize >= band.rows {
        return None;
    }
    let r = r as usize;
    if centre >= 0 && (centre as usize) < band.width && !band.is_valid(centre as usize, r) {
        return None;
    }
    let (mut sum, mut norm) = (0.0, 0.0);
    for c in c0.max(0)..=c1.min(band.width as i64 - 1) {
        if band.is_valid(c as usize, r) {
            let w = weights[(c - c0) as usize];
            sum += w * band.delta_at(c as usize, r);
            norm += w * w;
        }
    }
    (norm > 0.0).then(|| sum / norm)
}

/// The trace's cross profile sampled at columns c0..=c1 and normalised to unit sum: a Gaussian
/// centred at `x` whose σ is the image's `sigma_x` with the pixel's own width put back
/// (σ² + 1/12, the variance of a unit box), as the pixels sample it.
fn cross_weights(x: f64, sigma_x: f64, c0: i64, c1: i64) -> Vec<f32> {
    let width = (sigma_x * sigma_x + 1.0 / 12.0).sqrt();
    let weights: Vec<f64> = (c0..=c1).map(|c| (-0.5 * ((c as f64 - x) / width).powi(2)).exp()).collect();
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| (w / total) as f32).collect()
}

/// Rows (band rows, from `first` to `last`) where something crosses the trace: a hair or other
/// dark streak lying across the dispersion. Its density adds to the trace's and would pass for
/// an emission line (the anomaly score ranked hair-crossed stars above real oddities). Such a
/// streak shows on both sides of the trace at once, where a spectrum shows nothing: a row is
/// crossed when, within ±`CROSS_ROWS` of it, the mean ΔD of the 3 columns just outside the
/// extraction box (from 2 to 4 columns beyond it) rises above its level along the trace on the
/// left and on the right, each by `CROSS_SIGMA` of its noise. The level is the higher of the
/// medians 5-12 rows before and after, so a neighbour's red border (a step) or a halo (slow)
/// does not count; a neighbour on one side only never does.
fn crossed_rows(band: &BandImage, first: i64, last: i64, c0: i64, c1: i64) -> Vec<bool> {
    const CROSS_SIGMA: f32 = 5.0;
    const CROSS_ROWS: i64 = 5;
    const LEVEL_NEAR: i64 = 5;
    const LEVEL_FAR: i64 = 12;
    let n = (last - first + 1).max(0) as usize;
    let pad = CROSS_ROWS + LEVEL_FAR;
    // Mean ΔD of columns from..from+2 in band row r (None unless all three are there).
    let side = |from: i64, r: i64| -> Option<f32> {
        if r < 0 || r as usize >= band.rows || from < 0 || from + 2 >= band.width as i64 {
            return None;
        }
        let r = r as usize;
        (from as usize..from as usize + 3)
            .map(|c| band.is_valid(c, r).then(|| band.delta_at(c, r)))
            .sum::<Option<f32>>()
            .map(|sum| sum / 3.0)
    };
    let series = |from: i64| -> Vec<Option<f32>> { (first - pad..=last + pad).map(|r| side(from, r)).collect() };
    let (left, right) = (series(c0 - 4), series(c1 + 2));
    let limit = CROSS_SIGMA * band.sigma / 3f32.sqrt();
    // Median of the values present in a window of LEVEL_FAR − LEVEL_NEAR + 1 rows (on the
    // stack: this runs for every row of every trace).
    let median = |values: &[Option<f32>]| -> Option<f32> {
        let mut buffer = [0.0f32; (LEVEL_FAR - LEVEL_NEAR + 1) as usize];
        let mut count = 0;
        for v in values.iter().flatten() {
            buffer[count] = *v;
            count += 1;
        }
        if count < 4 {
            return None;
        }
        let present = &mut buffer[..count];
        present.sort_unstable_by(f32::total_cmp);
        Some(present[count / 2])
    };
    // Excess of a side over its level along the trace, at index i of `rows`.
    let excess = |values: &[Option<f32>], i: usize| -> bool {
        let (near, far) = (LEVEL_NEAR as usize, LEVEL_FAR as usize);
        let (Some(v), true) = (values[i], i >= far && i + far < values.len()) else { return false };
        let before = median(&values[i - far..=i - near]);
        let after = median(&values[i + near..=i + far]);
        match (before, after) {
            (Some(a), Some(b)) => v - a.max(b) > limit,
            _ => false,
        }
    };
    let high_left: Vec<bool> = (0..left.len()).map(|i| excess(&left, i)).collect();
    let high_right: Vec<bool> = (0..right.len()).map(|i| excess(&right, i)).collect();
    let near = |flags: &[bool], i: usize| flags[i - CROSS_ROWS as usize..=i + CROSS_ROWS as usize].iter().any(|f| *f);
    (0..n).map(|k| {
        let i = k + pad as usize;
        near(&high_left, i) && near(&high_right, i)
    }).collect()
}

/// Builds the detection of a trace found in a band (quality still Ok: flags are set once all
/// detections are known).
fn build_detection(band: &BandImage, fit: &TraceFit, params: &PipelineParams) -> Option<Detection> {
    if let Some(Residual(window)) = &fit.residual {
        // Found on a deblended window: extracted there, in its coordinates.
        let local = TraceFit {
            x: fit.x - (window.first_column - band.first_column) as f64,
            y690: fit.y690 - (window.first_row - band.first_row) as f64,
            residual: None,
            ..fit.clone()
        };
        return build_detection(window, &local, params);
    }
    let sign = params.sign();
    // FITS x within this image's columns, and on the plate.
    let local_x = fit.x + 1.0;
    let x = band.first_column as f64 + local_x;
    let y690 = band.first_row as f64 + fit.y690 + 1.0;
    if !(x.is_finite() && y690.is_finite()) {
        return None;
    }
    let red_border_y = y690 + sign * RED_BORDER_TO_690_PIXELS;
    let anchor_y = y690 - sign * params.anchor_offset_px;
    let half = ((2.5 * fit.sigma_x).ceil() as i64).clamp(2, 8);
    let centre = fit.x.round() as i64;
    let (c0, c1) = (centre - half, centre + half);
    let weights = cross_weights(fit.x, fit.sigma_x, c0, c1);
    let plate_rows = band.plate_height as f64;
    // Spectrum on the grid; rows crossed by a hair or streak are left out (None).
    let row_of_bin = |k: f64| y690 - sign * k - 1.0 - band.first_row as f64;
    let (first, last) = {
        let (a, b) = (row_of_bin(0.0), row_of_bin((GRID_BINS - 1) as f64));
        (a.min(b).floor() as i64, a.max(b).ceil() as i64 + 1)
    };
    let crossed = crossed_rows(band, first, last, c0, c1);
    let is_crossed = |r: i64| r >= first && r <= last && crossed[(r - first) as usize];
    let flux: Vec<Option<f32>> = (0..GRID_BINS)
        .map(|k| {
            let y = y690 - sign * k as f64;
            let image_row = y - 1.0;
            if image_row < 0.0 || image_row > plate_rows - 1.0 {
                return None;
            }
            let r = image_row - band.first_row as f64;
            let (r0, t) = (r.floor() as i64, (r - r.floor()) as f32);
            if is_crossed(r0) || t > 0.0 && is_crossed(r0 + 1) {
                return None;
            }
            let a = row_flux(band, r0, c0, c1, centre, &weights)?;
            if t == 0.0 {
                return Some(a);
            }
            let b = row_flux(band, r0 + 1, c0, c1, centre, &weights)?;
            Some(a * (1.0 - t) + b * t)
        })
        .collect();
    // Each bin's noise is σ / √ΣP² over the box's columns on the band (row_flux), so the red
    // peak's is σ √(n / ΣP²).
    let profile_power: f32 = (c0.max(0)..=c1.min(band.width as i64 - 1)).map(|c| weights[(c - c0) as usize].powi(2)).sum();
    let red: Vec<f32> = flux[1..=8].iter().flatten().copied().collect();
    let snr = if red.is_empty() { 0.0 } else { red.iter().sum::<f32>() / (band.sigma * (red.len() as f32 / profile_power).sqrt()) };
    let total: f64 = flux[..=30].iter().flatten().map(|v| *v as f64).sum();
    let instrumental_mag = -2.5 * total.max(1e-3).log10() + params.mag_zero_point;
    let instrumental_b = band_magnitude(&flux, B_BAND_BINS, band.sigma, profile_power, params.mag_zero_point_b);
    let instrumental_r = band_magnitude(&flux, R_BAND_BINS, band.sigma, profile_power, params.mag_zero_point_r);
    let sky_density = band.background.at(fit.x, fit.y690);
    let sky = SCAN_MAX * 10f32.powf(-sky_density);
    // Box: across ±2σ (at least one pixel), along from the red border to the visible end.
    let across = (2.0 * fit.sigma_x).max(1.0);
    let blue_end = red_border_y - sign * fit.length;
    let (ya, yb) = (red_border_y.min(blue_end), red_border_y.max(blue_end));
    let bbox = [
        ((x - across).round() as i64).max(1),
        (ya.round() as i64).max(1),
        ((x + across).round() as i64).min(band.plate_width as i64),
        (yb.round() as i64).min(band.plate_height as i64),
    ];
    let cutout = cutout(&band.scan, band.width, band.first_row, local_x, red_border_y, sign);
    Some(Detection {
        x,
        y: anchor_y,
        bbox,
        red_border_y,
        length_px: fit.length.round().max(1.0) as u32,
        flux,
        cutout,
        sky,
        instrumental_mag,
        instrumental_b,
        instrumental_r,
        snr,
        quality: Quality::Ok,
    })
}

/// The bins of the photographic B band on the DFBS grid: k = 31..=60 is 487-400 nm
/// (λ = 189.97 + 21933.6/(k + 43.864) nm), the blue peak of the emulsion response between the
/// 480-505 nm minimum and the 399 nm drop (DFBS.md). On simulated plates B − (−2.5 log10 Σ)
/// is constant to ±0.05 mag star to star at B 13-16 (the 487-690 nm sum scatters ±0.25 with
/// colour), so this band is the one to calibrate against catalogue B magnitudes.
pub const B_BAND_BINS: std::ops::RangeInclusive<usize> = 31..=60;

/// The bins of the photographic R band: k = 0..=10 is 690-597 nm, from the emulsion's red
/// cut-off down the red peak (the simulator's R band is 590-700 nm). R − (−2.5 log10 Σ) of
/// simulated stars is constant to ±0.07 mag at R 13-16.
pub const R_BAND_BINS: std::ops::RangeInclusive<usize> = 0..=10;

/// A band sum below this many times its noise gives no magnitude.
pub const B_BAND_MIN_SNR: f64 = 3.0;

/// −2.5 log10 Σ flux over `bins` + `zero_point`, when every bin is present and the sum is at
/// least [`B_BAND_MIN_SNR`] σ: each bin's noise is σ / √ΣP² (see [`row_flux`]), so the sum's is
/// σ √(n / ΣP²).
fn band_magnitude(
    flux: &[Option<f32>],
    bins: std::ops::RangeInclusive<usize>,
    sigma: f32,
    profile_power: f32,
    zero_point: f64,
) -> Option<f64> {
    let n = bins.clone().count();
    let sum = band_sum(flux, bins)?;
    let noise = sigma as f64 * (n as f64 / profile_power.max(1e-6) as f64).sqrt();
    (sum >= B_BAND_MIN_SNR * noise).then(|| instrumental(sum, zero_point))
}

/// −2.5 log10 Σ flux over `bins` + `zero_point` without the noise test: the catalogue's stored
/// spectra give the ingest's magnitude again (`dfbs-vo calibrate`, for spectra that passed it).
pub fn band_instrumental(flux: &[Option<f32>], bins: std::ops::RangeInclusive<usize>, zero_point: f64) -> Option<f64> {
    band_sum(flux, bins).map(|sum| instrumental(sum, zero_point))
}

fn instrumental(sum: f64, zero_point: f64) -> f64 {
    -2.5 * sum.log10() + zero_point
}

/// Σ flux over `bins` when every bin is present and the sum is positive.
fn band_sum(flux: &[Option<f32>], bins: std::ops::RangeInclusive<usize>) -> Option<f64> {
    let bins: Option<Vec<f32>> = flux.get(bins)?.iter().copied().collect();
    let sum: f64 = bins?.iter().map(|&v| v as f64).sum();
    (sum.is_finite() && sum > 0.0).then_some(sum)
}

/// The CNN cutout of a trace whose red border is at FITS y `red_border_y` and centre at FITS x,
/// from the scan values of rows first_row.. (row-major, `width` per row).
fn cutout(scan: &[f32], width: usize, first_row: usize, x: f64, red_border_y: f64, sign: f64) -> Vec<f32> {
    let rows = scan.len() / width.max(1);
    let top = red_border_y.round() as i64 + sign as i64 * CROP_RED_MARGIN;
    let left = x.round() as i64 - (CROP_COLUMNS / 2) as i64;
    let mut crop = vec![f32::NAN; CROP_ROWS * CROP_COLUMNS];
    for i in 0..CROP_ROWS {
        let y = top - sign as i64 * i as i64;
        let r = y - 1 - first_row as i64;
        if r < 0 || r as usize >= rows {
            continue;
        }
        for j in 0..CROP_COLUMNS {
            let c = left + j as i64 - 1;
            if c < 0 || c as usize >= width {
                continue;
            }
            let value = scan[r as usize * width + c as usize];
            if value.is_finite() {
                crop[i * CROP_COLUMNS + j] = SCAN_MAX - value;
            }
        }
    }
    let (low, high) = crop.iter().filter(|v| v.is_finite()).fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
    let range = high - low;
    let mut out = vec![0.0f32; CUTOUT_ROWS * CUTOUT_COLUMNS];
    let (row_pad, column_pad) = ((CUTOUT_ROWS - CROP_ROWS) / 2, (CUTOUT_COLUMNS - CROP_COLUMNS) / 2);
    for i in 0..CROP_ROWS {
        for j in 0..CROP_COLUMNS {
            let v = crop[i * CROP_COLUMNS + j];
            out[(i + row_pad) * CUTOUT_COLUMNS + j + column_pad] =
                if v.is_finite() && range > 0.0 { (v - low) / range } else { 0.0 };
        }
    }
    out
}

/// Image row (0-based) that holds FITS y.
fn image_row(y: f64) -> i64 {
    (y - 0.5).floor() as i64
}

/// The whole pipeline stage: reads the plate band by band (bounded memory), detects,
/// deduplicates across band overlaps (each band keeps the detections anchored in its own
/// rows, then anchors closer than 3 px are merged), extracts and flags. Deterministic; uses
/// rayon inside a band. Detections come sorted by anchor y, then x.
pub fn detect_and_extract(source: &mut dyn BandSource, params: &PipelineParams) -> Result<Vec<Detection>, String> {
    params.validate()?;
    let (width, height) = (source.width(), source.height());
    if width == 0 || height == 0 {
        return Ok(Vec::new());
    }
    let mut buffer = Vec::new();
    let mut all = Vec::new();
    for plan in plan_bands(height, params) {
        let Some(band) = read_band(source, plan.read.0, plan.read.1, &mut buffer, params)? else { continue };
        let fits = band_traces(&band, params);
        let (core0, core1) = (plan.core.0 as i64, plan.core.1 as i64);
        let found: Vec<Detection> = fits
            .par_iter()
            .filter_map(|fit| build_detection(&band, fit, params))
            .filter(|d| (core0..core1).contains(&image_row(d.y)))
            .collect();
        all.extend(found);
        buffer = band.scan;
    }
    let mut all = deduplicate(all);
    flag_quality(&mut all, params);
    Ok(all)
}

/// Merges detections whose anchors lie within 3 px (the same trace found twice), keeping the
/// one with the higher signal-to-noise; sorts by y, then x.
fn deduplicate(mut detections: Vec<Detection>) -> Vec<Detection> {
    detections.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    let mut keep = vec![true; detections.len()];
    for i in 0..detections.len() {
        if !keep[i] {
            continue;
        }
        for j in i + 1..detections.len() {
            if detections[j].y - detections[i].y >= 3.0 {
                break;
            }
            if keep[j] && (detections[j].x - detections[i].x).hypot(detections[j].y - detections[i].y) < 3.0 {
                if detections[j].snr > detections[i].snr {
                    keep[i] = false;
                    break;
                }
                keep[j] = false;
            }
        }
    }
    detections.into_iter().zip(keep).filter(|(_, k)| *k).map(|(d, _)| d).collect()
}

/// Whether two boxes (inclusive), expanded by `margin`, intersect.
fn boxes_touch(a: &[i64; 4], b: &[i64; 4], margin: i64) -> bool {
    b[0] <= a[2] + margin && a[0] <= b[2] + margin && b[1] <= a[3] + margin && a[1] <= b[3] + margin
}

/// Which detections have a neighbour (boxes touching, see [`boxes_touch`]).
fn neighbours(detections: &[Detection], margin: i64) -> Vec<bool> {
    let mut order: Vec<usize> = (0..detections.len()).collect();
    order.sort_by_key(|&i| detections[i].bbox[0]);
    let mut flags = vec![false; detections.len()];
    for (n, &i) in order.iter().enumerate() {
        let a = detections[i].bbox;
        for &j in &order[n + 1..] {
            let b = detections[j].bbox;
            if b[0] > a[2] + margin {
                break;
            }
            if boxes_touch(&a, &b, margin) {
                flags[i] = true;
                flags[j] = true;
            }
        }
    }
    flags
}

/// NL with a neighbour, else U below `undersignal_snr`, else OK.
fn quality(neighbour: bool, snr: f32, params: &PipelineParams) -> Quality {
    if neighbour {
        Quality::Neighbours
    } else if snr < params.undersignal_snr {
        Quality::Undersignal
    } else {
        Quality::Ok
    }
}

fn flag_quality(detections: &mut [Detection], params: &PipelineParams) {
    let flags = neighbours(detections, params.neighbour_margin_px);
    for (d, neighbour) in detections.iter_mut().zip(flags) {
        d.quality = quality(neighbour, d.snr, params);
    }
}

/// Seeded mode: extracts at known anchor positions (FITS pixels, e.g. catalogue positions
/// through the WCS). For each seed the trace is searched within `seed_search_blue` pixels
/// toward the blue, `seed_search_red` toward the red and `seed_search_x` in x (DFBS.md): first
/// among the plate's own detections, then, where none is there, by a forced search of that
/// window with thresholds lowered to 70 %. The anchor comes from the red border found, not from
/// the seed. One Option per seed, None where nothing was found (or the seed is not finite).
pub fn extract_at(source: &mut dyn BandSource, seeds: &[(f64, f64)], params: &PipelineParams) -> Result<Vec<Option<Detection>>, String> {
    params.validate()?;
    let (width, height) = (source.width(), source.height());
    let mut results: Vec<Option<Detection>> = vec![None; seeds.len()];
    if width == 0 || height == 0 || seeds.is_empty() {
        return Ok(results);
    }
    let sign = params.sign();
    let mut buffer = Vec::new();
    for plan in plan_bands(height, params) {
        let (core0, core1) = (plan.core.0 as i64, plan.core.1 as i64);
        // Seeds belong to the band holding their row (seeds just off the scan, to the band at
        // that edge); seeds farther off than the search window have no trace on the scan.
        let (w, h) = (width as f64, height as f64);
        let mine: Vec<usize> = (0..seeds.len())
            .filter(|&i| {
                let (x, y) = seeds[i];
                x.is_finite()
                    && y.is_finite()
                    && x > 0.5 - params.seed_search_x
                    && x < w + 0.5 + params.seed_search_x
                    && y > 0.5 - params.seed_search_blue.max(params.seed_search_red)
                    && y < h + 0.5 + params.seed_search_blue.max(params.seed_search_red)
                    && (core0..core1).contains(&image_row(y).clamp(0, height as i64 - 1))
            })
            .collect();
        if mine.is_empty() {
            continue;
        }
        let Some(band) = read_band(source, plan.read.0, plan.read.1, &mut buffer, params)? else { continue };
        let mut found: Vec<Detection> =
            band_traces(&band, params).par_iter().filter_map(|fit| build_detection(&band, fit, params)).collect();
        found = deduplicate(found);
        let in_window = |d: &Detection, (sx, sy): (f64, f64)| {
            let along = sign * (d.red_border_y - sy); // > 0 redward of the seed
            (d.x - sx).abs() <= params.seed_search_x && along <= params.seed_search_red && along >= -params.seed_search_blue
        };
        let distance = |d: &Detection, (sx, sy): (f64, f64)| (d.x - sx).hypot(d.y - sy);
        let picks: Vec<(usize, Option<Detection>)> = mine
            .par_iter()
            .map(|&i| {
                let seed = seeds[i];
                let best = found
                    .iter()
                    .filter(|d| in_window(d, seed))
                    .min_by(|a, b| distance(a, seed).total_cmp(&distance(b, seed)))
                    .cloned();
                (i, best.or_else(|| forced(&band, seed, params).filter(|d| in_window(d, seed))))
            })
            .collect();
        for (i, pick) in picks {
            results[i] = pick.map(|mut d| {
                // Neighbours among the band's detections other than this trace itself.
                let neighbour = found.iter().any(|o| {
                    (o.x - d.x).hypot(o.y - d.y) >= 3.0 && boxes_touch(&o.bbox, &d.bbox, params.neighbour_margin_px)
                });
                d.quality = quality(neighbour, d.snr, params);
                d
            });
        }
        buffer = band.scan;
    }
    Ok(results)
}

/// Cuts the CNN cutouts again at known anchors (FITS pixels: a detection's `x`, `y`, e.g. from
/// the catalogue) without detecting anything: the red border is where the anchor puts it,
/// y + sign · (2 + anchor_offset_px), and the crop is the one extraction makes, so the cutout
/// at a detection's anchor is that detection's cutout. Reads the scan band by band (no
/// preprocessing). One cutout per anchor; all zeros for an anchor that is not finite or whose
/// crop lies wholly off the scan.
pub fn cutouts_at(source: &mut dyn BandSource, anchors: &[(f64, f64)], params: &PipelineParams) -> Result<Vec<Vec<f32>>, String> {
    params.validate()?;
    let (width, height) = (source.width(), source.height());
    let sign = params.sign();
    let mut cutouts = vec![vec![0.0f32; CUTOUT_ROWS * CUTOUT_COLUMNS]; anchors.len()];
    if width == 0 || height == 0 {
        return Ok(cutouts);
    }
    let border_offset = sign * (RED_BORDER_TO_690_PIXELS + params.anchor_offset_px);
    let mut buffer = Vec::new();
    for plan in plan_bands(height, params) {
        let (core0, core1) = (plan.core.0 as i64, plan.core.1 as i64);
        let mine: Vec<usize> = (0..anchors.len())
            .filter(|&i| {
                let (x, y) = anchors[i];
                x.is_finite() && y.is_finite() && (core0..core1).contains(&image_row(y).clamp(0, height as i64 - 1))
            })
            .collect();
        if mine.is_empty() {
            continue;
        }
        let rows = plan.read.1 - plan.read.0;
        source.read_rows(plan.read.0, rows, &mut buffer)?;
        if buffer.len() != width * rows {
            return Err(format!("the scan source gave {} values for {rows} rows of {width}", buffer.len()));
        }
        for i in mine {
            let (x, y) = anchors[i];
            cutouts[i] = cutout(&buffer, width, plan.read.0, x, y + border_offset, sign);
        }
    }
    Ok(cutouts)
}

/// Forced search of a seed's window: the brightest column near the seed, its profile searched
/// for red borders with lowered thresholds; the trace whose anchor is nearest the seed.
fn forced(band: &BandImage, (sx, sy): (f64, f64), params: &PipelineParams) -> Option<Detection> {
    let sign = params.sign();
    let row_of = |y: f64| y - 1.0 - band.first_row as f64;
    let ya = row_of(sy + sign * params.seed_search_red);
    let yb = row_of(sy - sign * params.seed_search_blue);
    let r0 = ya.min(yb).floor().max(0.0) as usize;
    let r1 = (ya.max(yb).ceil() as i64).min(band.rows as i64 - 1);
    if r1 < r0 as i64 + 4 {
        return None;
    }
    let r1 = r1 as usize;
    let c0 = (sx - 1.0 - params.seed_search_x).floor().max(0.0) as usize;
    let c1 = ((sx - 1.0 + params.seed_search_x).ceil() as i64).min(band.width as i64 - 1);
    if c1 < c0 as i64 {
        return None;
    }
    let c1 = c1 as usize;
    // Column profile of the window (smoothed over 3 columns), its peak nearest the seed wins ties.
    let column: Vec<f32> = (c0..=c1)
        .map(|c| (r0..=r1).filter(|r| band.is_valid(c, *r)).map(|r| band.delta_at(c, r)).sum())
        .collect();
    let smoothed: Vec<f32> = (0..column.len())
        .map(|i| column[i.saturating_sub(1)..=(i + 1).min(column.len() - 1)].iter().sum())
        .collect();
    let seed_column = sx - 1.0;
    let peak = (0..smoothed.len())
        .max_by(|&a, &b| {
            smoothed[a].total_cmp(&smoothed[b]).then(
                ((c0 + b) as f64 - seed_column).abs().total_cmp(&((c0 + a) as f64 - seed_column).abs()),
            )
        })
        .map(|i| c0 + i)?;
    let cbox = CandidateBox { c0: peak.saturating_sub(2), c1: (peak + 2).min(band.width - 1), r0, r1, peak_column: peak, significance: 0.0 };
    find_traces(band, &cbox, params, 0.7)
        .iter()
        .filter_map(|fit| build_detection(band, fit, params))
        .min_by(|a, b| (a.x - sx).hypot(a.y - sy).total_cmp(&(b.x - sx).hypot(b.y - sy)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::detect::MemorySource;
    use crate::sim::plate::RedEnd;

    /// A plate with one synthetic trace: density above the sky of A·g(x)·r(k), with r a step
    /// at the 690 nm point (0.45 there), a red part, a weaker blue part, and a fixed pseudo-noise.
    fn synthetic(width: usize, height: usize, x: f64, y690: f64, red_end: RedEnd) -> Vec<f32> {
        let sign = red_end.sign();
        let mut values = vec![0.0f32; width * height];
        for r in 0..height {
            for c in 0..width {
                let (px, py) = (c as f64 + 1.0, r as f64 + 1.0);
                let k = (y690 - py) * sign;
                let response = if k < -0.7 {
                    0.0
                } else if k < 0.7 {
                    0.45 + 0.55 * k / 0.7 * if k < 0.0 { 0.82 } else { 1.0 }
                } else if k < 25.0 {
                    1.0
                } else if k < 90.0 {
                    0.4
                } else {
                    0.0
                };
                let across = (-0.5 * ((px - x) / 0.8).powi(2)).exp();
                let noise = (((r * 7919 + c * 104_729) % 1000) as f64 / 1000.0 - 0.5) * 0.02;
                let density = 0.07 + 0.3 * response.max(0.0) * across + noise;
                values[r * width + c] = (16383.0 * 10f64.powf(-density)) as f32;
            }
        }
        values
    }

    #[test]
    fn one_synthetic_trace_is_extracted_on_the_grid() {
        for red_end in [RedEnd::PlusY, RedEnd::MinusY] {
            let (width, height) = (60, 420);
            let (x, y690) = (30.3, if red_end == RedEnd::PlusY { 250.4 } else { 170.4 });
            let pixels = synthetic(width, height, x, y690, red_end);
            let params = PipelineParams::for_plate(red_end, 8.0);
            let found = detect_and_extract(&mut MemorySource { width, height, values: &pixels }, &params).unwrap();
            assert_eq!(found.len(), 1, "{red_end:?}");
            let d = &found[0];
            let sign = red_end.sign();
            assert!((d.x - x).abs() < 0.2, "{red_end:?} x {}", d.x);
            assert!((d.y - (y690 - sign * 8.0)).abs() < 0.5, "{red_end:?} y {}", d.y);
            assert!((d.red_border_y - (d.y + sign * 10.0)).abs() < 1e-9);
            assert_eq!(d.quality, Quality::Ok);
            assert!(d.length_px >= 80 && d.length_px <= 100, "{}", d.length_px);
            // Red part, blue part, nothing beyond.
            let flux = |k: usize| d.flux[k].unwrap();
            assert!(flux(10) > 1.5 * flux(50) && flux(50) > 0.1, "{:?}", &d.flux[..60]);
            assert!(flux(120).abs() < 0.1 * flux(50));
            // Red end at the top of the cutout: the crop starts 5 px beyond the red border.
            let at = |row: usize, column: usize| d.cutout[row * CUTOUT_COLUMNS + column];
            assert!(at(10, 25) < 0.3 && at(30, 25) > 0.7 && at(30, 18) < 0.3, "{red_end:?}");
            assert_eq!(at(5, 25), 0.0, "padding");
        }
    }

    #[test]
    fn rows_a_hair_crosses_are_left_out_and_others_kept() {
        // The synthetic trace (red end +y, 690 nm at y 250.4) crossed by a nearly horizontal
        // hair (density 0.3, 1.5 rows wide, 0.15 rows per column) at y ≈ 200, i.e. about 50
        // bins blueward of 690 nm; and a neighbour trace 6 columns to the right (one side only).
        let (width, height) = (60, 420);
        let (x, y690) = (30.3, 250.4);
        let clean = synthetic(width, height, x, y690, RedEnd::PlusY);
        let with = |hair: bool, neighbour: bool| -> Vec<Option<f32>> {
            let mut pixels = clean.clone();
            for r in 0..height {
                for c in 0..width {
                    let (px, py) = (c as f64 + 1.0, r as f64 + 1.0);
                    let mut extra = 0.0;
                    if hair {
                        let centre = 200.0 + 0.15 * (px - x);
                        extra += 0.3 * (-0.5 * ((py - centre) / 0.75).powi(2)).exp();
                    }
                    if neighbour && py < 240.0 && py > 120.0 {
                        extra += 0.2 * (-0.5 * ((px - x - 6.0) / 0.8).powi(2)).exp();
                    }
                    let density = -(pixels[r * width + c] as f64 / 16383.0).log10() + extra;
                    pixels[r * width + c] = (16383.0 * 10f64.powf(-density)) as f32;
                }
            }
            let found = detect_and_extract(&mut MemorySource { width, height, values: &pixels }, &PipelineParams::default()).unwrap();
            let trace = found.iter().min_by(|a, b| (a.x - x).abs().total_cmp(&(b.x - x).abs())).unwrap();
            assert!((trace.x - x).abs() < 0.3, "{}", trace.x);
            trace.flux.clone()
        };
        let plain = with(false, false);
        assert!(plain.iter().take(120).all(Option::is_some));
        let crossed = with(true, false);
        let missing: Vec<usize> = (0..120).filter(|k| crossed[*k].is_none()).collect();
        assert!(!missing.is_empty() && missing.iter().all(|k| (44..=57).contains(k)), "{missing:?}");
        assert!(missing.len() <= 12, "{missing:?}");
        let beside = with(false, true);
        assert!(beside.iter().take(120).all(Option::is_some), "a neighbour on one side is no hair");
    }

    #[test]
    fn bins_off_the_plate_are_none() {
        // Red end +y, the trace's blue part runs off the bottom (y = 1) of the scan.
        let (width, height) = (60, 300);
        let pixels = synthetic(width, height, 20.0, 60.2, RedEnd::PlusY);
        let found = detect_and_extract(&mut MemorySource { width, height, values: &pixels }, &PipelineParams::default()).unwrap();
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert!(d.flux[..59].iter().all(Option::is_some));
        assert!(d.flux[61..].iter().all(Option::is_none));
        assert_eq!(Quality::Neighbours.label(), "NL");
        assert_eq!(Quality::Undersignal.label(), "U");
    }

    #[test]
    fn cross_weights_are_the_pixel_sampled_profile() {
        let w = cross_weights(30.0, 0.8, 27, 33);
        assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((w[0] - w[6]).abs() < 1e-7 && w[3] > w[2] && w[2] > w[1]);
        // Off-centre: the heavier side is the one the centre leans to.
        let w = cross_weights(30.4, 0.8, 27, 33);
        assert!(w[4] > w[2]);
    }

    #[test]
    fn the_weighted_sum_keeps_the_flux_and_lowers_the_noise() {
        // The synthetic trace's red part has ΔD = 0.3 · exp(−x²/2·0.8²) across, whose integral is
        // 0.3 · 0.8 · √(2π) = 0.6016 per row; its blue part 0.4 of that. Twelve realisations of
        // white grain noise (σ 0.03 in density) on top: per bin, the weighted sum must keep the
        // mean and scatter less than a box of ±2 columns over the same pixels (sky density 0.07,
        // interpolated between rows as the extraction does). Expected for a Gaussian profile of
        // σ 0.8 px: √(1 / (5 ΣP²)) ≈ 0.75 (Horne 1986); measured 0.82, the fitted σ_x a little wide.
        let (width, height, x, y690) = (60, 420, 30.3, 250.4);
        let clean = synthetic(width, height, x, y690, RedEnd::PlusY);
        let params = PipelineParams::for_plate(RedEnd::PlusY, 8.0);
        let bins: Vec<usize> = (4..24).chain(30..88).collect();
        let centre = (x - 1.0).round() as usize;
        let (mut weighted, mut boxed) = (vec![Vec::new(); bins.len()], vec![Vec::new(); bins.len()]);
        for seed in 0..12 {
            let mut rng = crate::sim::random::SimRng::new(seed);
            let pixels: Vec<f32> = clean.iter().map(|v| (*v as f64 * 10f64.powf(-0.03 * rng.normal())) as f32).collect();
            let found = detect_and_extract(&mut MemorySource { width, height, values: &pixels }, &params).unwrap();
            assert_eq!(found.len(), 1);
            let box_sum = |row: usize| -> f64 {
                (centre - 2..=centre + 2).map(|c| -(pixels[row * width + c] as f64 / 16383.0).log10() - 0.07).sum()
            };
            for (i, &k) in bins.iter().enumerate() {
                weighted[i].push(found[0].flux[k].unwrap() as f64);
                let image_row = y690 - k as f64 - 1.0;
                let (r0, t) = (image_row.floor() as usize, image_row - image_row.floor());
                boxed[i].push(box_sum(r0) * (1.0 - t) + box_sum(r0 + 1) * t);
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let red = mean(&weighted[..20].concat());
        let blue = mean(&weighted[20..].concat());
        assert!((red - 0.6016).abs() < 0.02 && (blue - 0.4 * 0.6016).abs() < 0.02, "red {red}, blue {blue}");
        // The noise along each spectrum: bins about their own part's mean, realisation by
        // realisation (a spectrum's overall scale, which the fitted profile moves by a few per
        // cent, cancels when the classifier divides by the maximum).
        let along = |values: &[Vec<f64>]| -> f64 {
            let mut squares = Vec::new();
            for seed in 0..12 {
                for part in [&values[..20], &values[20..]] {
                    let level = mean(&part.iter().map(|v| v[seed]).collect::<Vec<_>>());
                    squares.extend(part.iter().map(|v| (v[seed] - level).powi(2)));
                }
            }
            mean(&squares).sqrt()
        };
        let ratio = along(&weighted) / along(&boxed);
        assert!(ratio < 0.9, "noise of the weighted sum / the box's: {ratio}");
    }

    #[test]
    fn cutouts_at_anchors_repeat_the_extraction() {
        for red_end in [RedEnd::PlusY, RedEnd::MinusY] {
            let (width, height) = (60, 700);
            let pixels = synthetic(width, height, 25.6, 420.3, red_end);
            let params = PipelineParams { band_rows: 200, ..PipelineParams::for_plate(red_end, 8.0) };
            let mut source = MemorySource { width, height, values: &pixels };
            let found = detect_and_extract(&mut source, &params).unwrap();
            assert_eq!(found.len(), 1);
            let anchors = [(found[0].x, found[0].y), (f64::NAN, 3.0), (-500.0, -900.0)];
            let cutouts = cutouts_at(&mut source, &anchors, &params).unwrap();
            assert_eq!(cutouts.len(), 3);
            assert_eq!(cutouts[0], found[0].cutout);
            assert!(cutouts[1].iter().chain(&cutouts[2]).all(|v| *v == 0.0));
        }
    }

    #[test]
    fn touching_boxes_are_neighbours() {
        assert!(boxes_touch(&[10, 10, 12, 100], &[13, 50, 15, 150], 1));
        assert!(!boxes_touch(&[10, 10, 12, 100], &[13, 50, 15, 150], 0));
        assert!(boxes_touch(&[10, 10, 12, 100], &[11, 100, 13, 200], 0));
        assert!(!boxes_touch(&[10, 10, 12, 100], &[11, 102, 13, 200], 1 - 1));
    }
}
