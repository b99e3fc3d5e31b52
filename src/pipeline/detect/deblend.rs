//! Deblending: faint spectra hidden in the light of bright ones.
//!
//! A faint trace lying 1-4 px beside a trace ten to a hundred times brighter, with its red
//! border inside the bright one's light, shows no border of its own in the column profiles: the
//! step filter's maxima there are the bright trace's own features. On simulated plates such
//! overlaps were about half of the spectra missed at B ≤ 17.5.
//!
//! A trace runs straight along the dispersion, so each pixel column near it holds a fixed
//! fraction of its light: I(c, r) = A(r)·f_c, with A(r) the light of its three central columns
//! in row r. The fractions are measured on the trace itself — the median of I(c, r)/A(r) over the
//! rows where it is bright — so the model takes the image's real cross profile (seeing, any
//! asymmetry) on the pixel grid, with no interpolation. In a copy of the box (a window) its
//! dominant traces (significant, straight, with no brighter one overlapping) are subtracted this
//! way, the brightest first, and the ordinary search ([`super::trace::find_traces`]) runs once
//! more on what is left; a second time with the fractions measured away from the rows of the
//! traces the first search found, whose light would otherwise be subtracted with the bright
//! one's. The traces found there are extracted from the window (see [`Residual`]): a faint star
//! 2-3 px beside one 3 magnitudes brighter comes out within 0.3 mag of the same star alone.

use super::image::BandImage;
use super::profile::{light_line, PROFILE_PAD};
use super::trace::{find_traces, CandidateBox, Residual, TraceFit};
use crate::pipeline::params::PipelineParams;

/// Traces whose red border is at least this significant (step S/N) are modelled and subtracted.
const MODEL_MIN_SNR: f64 = 15.0;
/// Columns modelled either side of a trace's centre column (saturated traces are broad).
const MODEL_HALF: i64 = 8;
/// Rows the extraction reads blueward of a red border (spectrum bins and cutout).
const EXTRACTION_ROWS: usize = 145;
/// Columns kept either side of the box in the window (the profiles reach 3 columns beyond a
/// trace, the centroids 5).
const WINDOW_MARGIN: usize = 10;
/// A trace's fractions need at least this many rows where its light is ≥ `BRIGHT_ROW_SIGMA` σ.
const MIN_MODEL_ROWS: usize = 12;
const BRIGHT_ROW_SIGMA: f32 = 8.0;
/// A trace found in the residual closer than this (columns) to a subtracted trace's centre is
/// what is left of that trace, not another one.
const MIN_OFFSET: f64 = 1.2;
/// Nor is one whose anchor lies within this distance (pixels) of a trace already found: the
/// radius within which the extraction merges detections as one.
const SAME_TRACE: f64 = 3.0;
/// A trace whose red part stays above half its level this many pixels or more is saturated (an
/// unsaturated spectrum's core is 15-30 px): its cross profile changes with its brightness and
/// the model does not hold, so boxes with one are not deblended.
const SATURATED_CORE: f64 = 50.0;
/// The model leaves residuals of about 1/40 of a trace's own step (grain, the PSF's small
/// changes along the trace): weaker borders within `MODEL_REACH` columns of it are not trusted.
const MODEL_ERROR: f64 = 1.0 / 40.0;
const MODEL_REACH: f64 = 6.0;
/// Around a trace's own red border, where the light changes fastest, the residuals are larger:
/// within `BORDER_ROWS` rows of it a border must have `BORDER_MODEL_ERROR` of its step.
const BORDER_ROWS: f64 = 8.0;
const BORDER_MODEL_ERROR: f64 = 1.0 / 10.0;
/// A core that never falls to half its level within the 160 px searched is a stripe the model
/// left along a trace, not a spectrum.
const ENDLESS_CORE: f64 = 160.0;
/// Traces whose 690 nm points are closer than this along the dispersion overlap.
const OVERLAP_ROWS: f64 = 170.0;
/// A trace whose centre reaches this fraction of the way to the emulsion's saturation
/// (`saturation_density`) is saturated.
const SATURATED: f32 = 0.9;
/// Largest drift across the dispersion (pixels) over a modelled trace's length.
const MAX_DRIFT: f64 = 1.0;

/// Deblends a box's traces (`found`, from [`find_traces`]): subtracts the dominant ones and
/// searches what is left. Traces found there are added, or replace the one found before at the
/// same place (measured again without its bright neighbour's light, which pulled its centre
/// toward that neighbour).
pub fn deblend(band: &BandImage, cbox: &CandidateBox, found: &mut Vec<TraceFit>, params: &PipelineParams) {
    if found.iter().any(|t| t.core_length >= SATURATED_CORE || saturated(band, t, params)) {
        return;
    }
    // A trace is modelled when it is significant and no brighter one overlaps it (a fainter
    // trace's own measurement is pulled toward the brighter one's light).
    let dominant = |t: &TraceFit| {
        t.step_snr >= MODEL_MIN_SNR
            && !found.iter().any(|b| b.step > t.step && (b.x - t.x).abs() <= MODEL_REACH && (b.y690 - t.y690).abs() < OVERLAP_ROWS)
            && straight(band, t, params)
    };
    let mut modelled: Vec<TraceFit> = found.iter().filter(|t| dominant(t)).cloned().collect();
    if modelled.is_empty() {
        return;
    }
    modelled.sort_by(|a, b| b.step.total_cmp(&a.step));
    // Twice: the second time the fractions of the subtracted traces are measured away from the
    // rows of the traces the first search found beside them (whose light would otherwise be
    // taken for theirs and subtracted with them).
    let (mut window, mut accepted) = search_residual(band, cbox, &modelled, &[], params);
    if !accepted.is_empty() {
        let (second_window, second) = search_residual(band, cbox, &modelled, &accepted, params);
        if !second.is_empty() {
            (window, accepted) = (second_window, second);
        }
    }
    if accepted.is_empty() {
        return;
    }
    // Their spectra and cutouts come from the window, without the subtracted light.
    window.rescan();
    let residual = Residual(std::sync::Arc::new(window));
    for mut trace in accepted {
        trace.residual = Some(residual.clone());
        match found.iter_mut().find(|f| same_trace(f, &trace)) {
            Some(before) => *before = trace,
            None => found.push(trace),
        }
    }
}

/// Subtracts the `modelled` traces from a window around the box (their fractions measured away
/// from the rows of `beside`) and searches it: the window and the traces found there that are
/// not what the model left of the subtracted ones (band coordinates).
fn search_residual(
    band: &BandImage,
    cbox: &CandidateBox,
    modelled: &[TraceFit],
    beside: &[TraceFit],
    params: &PipelineParams,
) -> (BandImage, Vec<TraceFit>) {
    let c0 = cbox.c0.saturating_sub(WINDOW_MARGIN);
    let c1 = (cbox.c1 + WINDOW_MARGIN).min(band.width - 1);
    // Rows: the profiles' padding, and on the blue side the whole extraction (spectrum and
    // cutout reach 140 rows blueward of a border).
    let (red_pad, blue_pad) = (PROFILE_PAD, PROFILE_PAD.max(EXTRACTION_ROWS));
    let (before, after) = if params.sign() > 0.0 { (blue_pad, red_pad) } else { (red_pad, blue_pad) };
    let r0 = cbox.r0.saturating_sub(before);
    let r1 = (cbox.r1 + after).min(band.rows - 1);
    let mut window = band.window(c0, c1, r0, r1);
    let blue = -params.sign();
    let mut subtracted = Vec::new();
    for trace in modelled {
        // Rows holding the light of a trace found beside this one.
        let mut excluded = vec![false; window.rows];
        for other in beside.iter().filter(|o| (o.x - trace.x).abs() <= MODEL_REACH) {
            for k in -4..=other.length.ceil() as i64 + 4 {
                let r = (other.y690 + blue * k as f64).round() as i64 - r0 as i64;
                if r >= 0 && (r as usize) < window.rows {
                    excluded[r as usize] = true;
                }
            }
        }
        if subtract_trace(&mut window, trace.x - c0 as f64, &excluded) {
            subtracted.push(trace);
        }
    }
    if subtracted.is_empty() {
        return (window, Vec::new());
    }
    let inner = CandidateBox {
        c0: cbox.c0 - c0,
        c1: cbox.c1 - c0,
        r0: cbox.r0 - r0,
        r1: cbox.r1 - r0,
        peak_column: cbox.peak_column.saturating_sub(c0),
        // No relaxed second search on a residual.
        significance: 0.0,
    };
    let mut accepted = Vec::new();
    for mut trace in find_traces(&window, &inner, params, 1.0) {
        trace.x += c0 as f64;
        trace.y690 += r0 as f64;
        let trusted = trace.core_length < ENDLESS_CORE
            && subtracted.iter().all(|m| {
                let offset = (trace.x - m.x).abs();
                let error = if (trace.y690 - m.y690).abs() <= BORDER_ROWS { BORDER_MODEL_ERROR } else { MODEL_ERROR };
                !same_trace(&trace, m) && offset >= MIN_OFFSET && (offset > MODEL_REACH || trace.step >= error * m.step)
            });
        if trusted {
            accepted.push(trace);
        }
    }
    (window, accepted)
}

/// Whether two traces' 690 nm points lie within `SAME_TRACE` of each other.
fn same_trace(a: &TraceFit, b: &TraceFit) -> bool {
    (a.x - b.x).hypot(a.y690 - b.y690) < SAME_TRACE
}

/// Whether the light of the trace runs along one pixel column: the model holds only then (the end
/// of a hair lying a few degrees from the dispersion can pass for a red border).
fn straight(band: &BandImage, trace: &TraceFit, params: &PipelineParams) -> bool {
    let blue = -params.sign() as isize;
    let span = trace.length.clamp(12.0, 100.0) as isize;
    let start = trace.y690.round() as isize;
    let rows = (2..=span).map(|k| start + blue * k);
    light_line(band, trace.x, rows).is_some_and(|(_, slope)| slope.abs() * span as f64 <= MAX_DRIFT)
}

/// Whether the trace's centre column comes within `SATURATED` of the emulsion's saturation
/// anywhere in its first 30 rows (its brightest part).
fn saturated(band: &BandImage, trace: &TraceFit, params: &PipelineParams) -> bool {
    if params.saturation_density <= 0.0 {
        return false;
    }
    let c = trace.x.round().clamp(0.0, (band.width - 1) as f64) as usize;
    let blue = -params.sign();
    (0..30).any(|k| {
        let r = (trace.y690 + blue * k as f64).round();
        if r < 0.0 || r >= band.rows as f64 {
            return false;
        }
        let r = r as usize;
        let headroom = params.saturation_density as f32 - band.background.at(c as f64, r as f64);
        band.is_valid(c, r) && band.delta_at(c, r) > SATURATED * headroom.max(0.2)
    })
}

/// Subtracts the trace centred at window column `x` (model A(r)·f_c, see the module's text),
/// its fractions measured in the rows not `excluded` (where enough of them remain); false when it
/// is not bright in enough rows to be measured.
fn subtract_trace(window: &mut BandImage, x: f64, excluded: &[bool]) -> bool {
    let width = window.width as i64;
    let centre = x.round() as i64;
    if centre < 1 || centre + 1 >= width {
        return false;
    }
    let amplitude: Vec<f32> = (0..window.rows)
        .map(|r| {
            let columns = (centre - 1..=centre + 1).map(|c| c as usize);
            if columns.clone().all(|c| window.is_valid(c, r)) {
                columns.map(|c| window.delta_at(c, r)).sum()
            } else {
                f32::NAN
            }
        })
        .collect();
    let limit = BRIGHT_ROW_SIGMA * window.sigma * 3f32.sqrt();
    let mut bright: Vec<usize> = (0..window.rows).filter(|&r| amplitude[r] > limit).collect();
    if bright.len() < MIN_MODEL_ROWS {
        return false;
    }
    let clean: Vec<usize> = bright.iter().copied().filter(|&r| !excluded[r]).collect();
    if clean.len() >= MIN_MODEL_ROWS {
        bright = clean;
    }
    for c in (centre - MODEL_HALF).max(0)..=(centre + MODEL_HALF).min(width - 1) {
        let c = c as usize;
        let mut ratios: Vec<f32> = bright.iter().filter(|&&r| window.is_valid(c, r)).map(|&r| window.delta_at(c, r) / amplitude[r]).collect();
        if ratios.len() < MIN_MODEL_ROWS {
            continue;
        }
        let middle = ratios.len() / 2;
        let (_, fraction, _) = ratios.select_nth_unstable_by(middle, |a, b| a.total_cmp(b));
        let fraction = *fraction;
        for (r, a) in amplitude.iter().enumerate() {
            if a.is_finite() && window.is_valid(c, r) {
                window.delta[r * window.width + c] -= fraction * a;
            }
        }
    }
    true
}
