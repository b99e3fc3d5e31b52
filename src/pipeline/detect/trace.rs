//! Finding the traces inside a candidate box: red borders, anchors, shape tests.
//!
//! Along the dispersion a DFBS spectrum rises abruptly at its red end: the emulsion's response
//! falls from 1.0 at 655-670 nm to 0.45 at 690 nm and to nothing by 698 nm (DFBS.md, "The
//! spectra on the plate"), i.e. within 2 pixels, while toward the blue it fades over a hundred.
//! That sharp red border is the anchor of the wavelength scale (pipeline::wavelength) and what
//! tells one spectrum from the next where traces overlap along y. For a box:
//! 1. one along-dispersion profile per column of the box (ΔD summed across the trace with
//!    Gaussian weights of σ 1 px, about the seeing: near the optimal weights of Horne 1986,
//!    PASP 98, 609), so traces 1-3 px apart in x each have a profile centred on them;
//! 2. a step filter on each (mean of 8 rows blueward minus 8 rows redward): candidate red
//!    borders are its local maxima over ±3 rows and ±1 column above `edge_sigma`, and, 6-16
//!    rows redward of a much stronger one, the maxima of a 3-row step filter where a plateau
//!    lies between the two (a faint spectrum starting just redward of a bright one);
//! 3. the candidates, from the red end toward the blue, are tested:
//!    * a significant step (mean 1-10 px blueward minus 2-9 px redward, `step_sigma`);
//!    * at the edge of a masked stretch (a scratch, clearer than clear plate), only where the
//!      line beyond the mask is dark, also right beyond it, and no trace's red part lies 15-44
//!      rows redward (else it is a trace the scratch cuts, or the blue peak of one); masked rows
//!      across the red peak or the core are read past, and where the border's position cannot
//!      be fitted past the mask the spectrum is placed from its blue peak, if at all;
//!    * not the same border seen from a neighbouring column, not closer than
//!      `min_border_separation` to the previous border on the same line;
//!    * inside another trace's light (a border accepted redward of it on its line, or light
//!      well redward of it) a border must start a new spectrum: a sharp rise (2-3 px, as the
//!      emulsion's cut-off; `secondary_sharpness`) followed by a plateau, a fair fraction of the
//!      level it sits on, not a knot of an emission-line spectrum on the same line, and not at
//!      27-42 px from the previous border on the same line (the rise from that spectrum's
//!      480-505 nm minimum to its 440-455 nm blue peak) unless brighter than it;
//!    * the shape of a spectrum: a core (border to half the red level) of `min_core_length`;
//!      cores under 10 px (under 12 inside another trace) must be followed by the rest of a
//!      spectrum (a declining tail, or for an emission-line object such as a planetary nebula
//!      a second knot 12-45 px on) — dust
//!      grains are short and nothing follows them; the core at least `min_core_aspect` times
//!      the trace's width (dust is round); no drift of the centre in x between the two halves
//!      of the core (`max_tilt`: spectra run along y, hairs and scratches at any angle);
//! 4. the 690 nm point: the emulsion's response there is 0.45 of its peak, so it is the
//!    half-way point of the (seeing-smoothed) cut-off — the real fbs1163 spectra agree, their
//!    690 nm pixel carries about half the red peak. It is fitted by least squares with a
//!    cumulative Gaussian on the profile re-taken at the trace's x and, where
//!    `saturation_density` is given, linearised through the characteristic curve first
//!    (saturation flattens the top of the rise of bright traces and moves its half-way point
//!    toward the red);
//! 5. the x of the trace: the intensity-weighted centroid across it over the core;
//! 6. the visible length: rows whose centre pixel (smoothed along the trace) stays
//!    `visible_sigma` grain σ above the background, ending where the next spectrum on the same
//!    line begins.
//!
//! A region that the threshold found well above the noise (`fallback_box_sigma`) but where no
//! border passed is searched once more with thresholds × `fallback_strictness`, keeping the
//! strongest border (blue objects — hot subdwarfs, white dwarfs — have weak red parts).
//!
//! Those blue objects' 440-455 nm peak can step up from the 480-505 nm minimum harder than their
//! red border from the sky. A border with a weaker one on its line at the blue peak's distance
//! redward (refused only for its step, and at most [`BLUE_PEAK_STEP_RATIO`] times weaker) is
//! taken for that blue peak: the spectrum is placed at the weak border where the relaxed search
//! accepts it there (likewise in the relaxed search itself). Where a scratch (masked) covers the
//! red border instead, the blue peak is not held for a border inside another trace, and the
//! spectrum is placed [`BLUE_PEAK_EDGE_PX`] redward of it.

use crate::pipeline::params::PipelineParams;
use crate::pipeline::wavelength::pixel_offset;

use super::image::BandImage;
use super::profile::{cross_profile, fit_edge, half_crossing, light_line, median_light_along, smooth, Column, Walker, EDGE_ARM, PROFILE_PAD};

/// A box (band coordinates, inclusive) that may hold one or more traces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CandidateBox {
    pub c0: usize,
    pub c1: usize,
    pub r0: usize,
    pub r1: usize,
    /// Column of the maximum of the box's column profile.
    pub peak_column: usize,
    /// Peak of (blurred − block mean) in the box, in units of its noise (0 when the box does
    /// not come from the threshold).
    pub significance: f32,
}

/// The deblended window a trace was found in ([`super::deblend`]): its spectrum and cutout are
/// extracted there, without the light of the neighbours that were subtracted.
#[derive(Clone)]
pub struct Residual(pub std::sync::Arc<BandImage>);

impl std::fmt::Debug for Residual {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let w = &self.0;
        write!(f, "Residual({}x{} at column {}, row {})", w.width, w.rows, w.first_column, w.first_row)
    }
}

impl PartialEq for Residual {
    fn eq(&self, other: &Residual) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// One trace found in a box.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceFit {
    /// Centre across the dispersion (band column; pixel centres at integers).
    pub x: f64,
    /// The 690 nm point (band row, fractional).
    pub y690: f64,
    /// σ of the trace's cross profile over the red part (pixels).
    pub sigma_x: f64,
    /// Visible length from the red border toward the blue (pixels).
    pub length: f64,
    /// Significance of the red border's step.
    pub step_snr: f64,
    /// Core length (red border to half the red level).
    pub core_length: f64,
    /// Mean of the weighted profile over the red peak, relative to the level redward of it.
    pub step: f64,
    /// Where the trace was found on a deblended window, that window (x and y690 stay in the
    /// band's coordinates).
    pub residual: Option<Residual>,
}

/// Fewest rows over which a trace's cross profile is measured when a neighbour's border lies
/// close blueward.
const CLEAR_ROWS_MIN: isize = 5;

/// A neighbour's border counts for [`CLEAR_ROWS_MIN`] where its step filter reaches this
/// fraction of the border's own.
const NEIGHBOUR_EDGE_RATIO: f32 = 0.5;

/// A border beside which another starts blueward is a hair's step from one pixel column to
/// the next where the light along the line through both goes on redward at this fraction of
/// its level between them.
const STAIRCASE_LIGHT: f32 = 0.5;

/// Fewest rows of the tilt test, also beside a neighbour: a hair at 15-20° from y crosses a
/// pixel column every 3-7 rows, and each crossing is a candidate border beside the last.
const TILT_ROWS_MIN: isize = 10;

/// Masked rows (a scratch across the trace) skipped at most, in a row, when walking a core.
const MASK_SKIP: usize = 6;

/// Beyond a masked stretch right redward of a border, the line must stay below this fraction of
/// the border's red peak for the border to be real: a trace that the mask cuts goes on there at
/// about its own level.
const BEYOND_MASK_FRACTION: f32 = 0.25;

/// The mean of the first valid rows (up to 6) redward of the masked stretch that begins within
/// 3 rows redward of `i`, how many there were, and the brightest of the first 3; `None` when the
/// mask runs on for more than 12 rows (the plate holder, the end of the band).
fn beyond_mask(raw: &Walker, i: isize) -> Option<(f32, usize, f32)> {
    let mut k = -1;
    while raw.at(i, k).is_some() {
        k -= 1;
    }
    let mask_start = k;
    while raw.at(i, k).is_none() {
        k -= 1;
        if mask_start - k > 12 {
            return None;
        }
    }
    let (mean, n) = raw.mean(i, k - 5, k);
    let first = (k - 2..=k).filter_map(|j| raw.at(i, j)).fold(f32::NEG_INFINITY, f32::max);
    Some((mean, n, first))
}

/// Cores shorter than this (pixels) must show the rest of a spectrum blueward (dust test).
const SHORT_CORE: f64 = 12.0;
/// Cores at least this long (pixels) pass without a tail when not inside another trace: on
/// simulated plates, borders with cores of 10-11 px and no tail were true 24 times out of 31.
const TAIL_FREE_CORE: f64 = 10.0;

/// A border whose light along its line 3-13 and 14-24 rows redward is within this factor of its
/// core's is a line stepping between pixel columns (a hair along the dispersion), not a
/// spectrum's end.
const RIDGE_CONTINUATION: f32 = 0.8;

/// A border may be the blue peak of a spectrum whose weak border lies redward at the blue peak's
/// distance only when it steps at most this many times as hard: on the dev plates the 440-455 nm
/// peaks of hot stars whose red border was too weak stepped 1.17-1.25 times that border, while
/// spectra with a fainter one starting redward on their line stepped 1.5-15 times as hard.
const BLUE_PEAK_STEP_RATIO: f64 = 1.4;

/// Thresholds × this in the search for the red border of a spectrum whose blue peak the relaxed
/// search took for its border (a step of 2.5 σ instead of 3.5 σ).
const DEEP_STRICTNESS: f64 = 0.5;

/// The narrow step filter for faint borders just redward of a strong one: rows either side ...
const NARROW_ARM: isize = 3;
/// ... searched this many rows redward of the strong border (first, last) ...
const NARROW_REACH: (isize, isize) = (6, 16);
/// ... stepping at least this many times the candidate limit (`edge_sigma`) on the narrow
/// filter ...
const NARROW_SIGNIFICANCE: f32 = 1.5;
/// ... whose own step filter is at least this many times the narrow filter there ...
const NARROW_STRONG: f32 = 3.0;
/// ... with the light between the two at least this fraction of the faint border's step, in
/// both halves, and the farther half at most 1/this times the nearer (a plateau, not a rise).
const NARROW_PLATEAU: f32 = 0.6;

/// A second spectrum's border with a rise softer than `secondary_sharpness`, but at least this
/// sharp, ...
const SOFT_START_SHARPNESS: f32 = 0.45;
/// ... is taken where it steps at least this many times the level it sits on ...
const SOFT_START_LEVEL: f32 = 1.5;
/// ... and the light 4-12 rows redward is at most this fraction of its step.
const SOFT_START_FAR: f32 = 0.65;

/// Whether `distance` (pixels toward the blue from a red border) is where that spectrum's rise
/// from its 480-505 nm minimum to its 440-455 nm blue peak lies, with a pixel of slack.
fn at_blue_peak_distance(distance: f64) -> bool {
    (pixel_offset(505.0) - 1.0..=pixel_offset(445.0) + 1.0).contains(&distance)
}

/// Whether a border at row `i` (column `x`) may be the blue peak of the spectrum whose red border
/// candidate is at row `m` (column `mx`): on the same line, at the blue peak's distance redward,
/// with no border accepted in between (`found`, rows and traces; `blue_step` as in the search).
fn blue_peak_of(found: &[(isize, TraceFit)], blue_step: isize, (i, x): (isize, f64), (m, mx): (isize, f64)) -> bool {
    (mx - x).abs() <= 1.5
        && at_blue_peak_distance(((i - m) * blue_step) as f64)
        && !found.iter().any(|(j, u)| (u.x - x).abs() <= 1.5 && (j - m) * blue_step >= 0 && (i - j) * blue_step > 0)
}

/// How many rows blueward of the border at profile index `i` in column `ci` the trace's shape
/// (centroid, width, tilt) may be measured over before a neighbour's light comes in: a border on
/// a line 1-6 px beside it, stepping at least [`NEIGHBOUR_EDGE_RATIO`] as hard (a fainter one
/// does not pull the profile, and the knots inside a hair's own light are no neighbours),
/// starting 3-24 rows blueward. (On the held-out plates, faint stars beside a brighter spectrum
/// that starts 7-12 rows blueward were refused for a tilt, a width or a centroid pulled toward
/// it.) At least [`CLEAR_ROWS_MIN`]; `isize::MAX` with no such neighbour, or where the light goes
/// on redward along the line from a neighbour's border through this one: a hair at 10-20° from
/// y makes a staircase of borders, one per pixel column or two it crosses, and its light lies on
/// that line on both sides.
fn rows_clear_of_neighbours(band: &BandImage, columns: &[Column], candidates: &[(isize, usize)], (i, ci): (isize, usize), lo: usize, blue_step: isize) -> isize {
    let column = &columns[ci];
    let own_edge = column.edge[i as usize];
    let beside = || {
        candidates
            .iter()
            .filter(move |&&(j, cj)| columns[cj].edge[j as usize] >= NEIGHBOUR_EDGE_RATIO * own_edge)
            .map(move |&(j, cj)| ((j - i) * blue_step, columns[cj].x - column.x))
            .filter(|(d, dx)| (3..=24).contains(d) && (1.0..=6.0).contains(&dx.abs()))
    };
    let border_row = (lo as isize + i) as f64;
    let staircase = beside().any(|(d, dx)| {
        let slope = dx / (d * blue_step) as f64;
        let line = (column.x - slope * border_row, slope);
        let along = |ks: std::ops::RangeInclusive<isize>| median_light_along(band, line, ks.map(|k| lo as isize + i + blue_step * k));
        matches!((along(-d..=-2), along(1..=d)), (Some(red), Some(blue)) if blue > 0.0 && red >= STAIRCASE_LIGHT * blue)
    });
    match beside().map(|(d, _)| d - 1).min() {
        Some(rows) if !staircase => rows.max(CLEAR_ROWS_MIN),
        _ => isize::MAX,
    }
}

/// The lenient limits of the search for a spectrum's own border where its blue peak was taken
/// for it: a core of at least this many pixels (with the rest of a spectrum after it) ...
const LENIENT_CORE: f64 = 6.0;
/// ... at least this many times the trace's FWHM (a grain is round) ...
const LENIENT_ASPECT: f64 = 1.5;
/// ... and, for a second spectrum inside another's light, a rise at least this sharp.
const LENIENT_SHARPNESS: f64 = 0.5;

/// Distance (pixels) from the 690 nm point toward the blue of the half-way point of the rise from
/// the 480-505 nm minimum to the 440-455 nm blue peak (about 470 nm), as the border fit measures
/// it: the median over 19 blue peaks taken for borders on the dev plates (their spread 31.7-37.4).
const BLUE_PEAK_EDGE_PX: f64 = 34.5;

/// Finds the traces in a box. `strictness` scales the significance thresholds (1 normally,
/// lower in the seeded search).
pub fn find_traces(band: &BandImage, cbox: &CandidateBox, params: &PipelineParams, strictness: f64) -> Vec<TraceFit> {
    find_traces_logged(band, cbox, params, strictness, None)
}

/// [`find_traces`], telling `log` why each candidate border was refused (for diagnostics).
pub fn find_traces_logged(
    band: &BandImage,
    cbox: &CandidateBox,
    params: &PipelineParams,
    strictness: f64,
    mut log: Option<&mut Vec<String>>,
) -> Vec<TraceFit> {
    // Diagnostics, formatted only when asked for.
    macro_rules! note {
        ($($arg:tt)*) => {
            if let Some(log) = log.as_deref_mut() {
                log.push(format!($($arg)*));
            }
        };
    }
    let lo = cbox.r0.saturating_sub(PROFILE_PAD);
    let hi = (cbox.r1 + PROFILE_PAD).min(band.rows - 1);
    // Blueward index step: rows grow with y, so blue is −1 when the red end is +y.
    let blue_step: isize = if params.sign() > 0.0 { -1 } else { 1 };
    // One profile per column of the box (and one either side): traces 1-3 px apart in x that
    // the threshold merged each get a profile centred on them.
    let columns: Vec<Column> = (cbox.c0.saturating_sub(1)..=(cbox.c1 + 1).min(band.width - 1))
        .map(|c| Column::new(band, c as f64, lo, hi, blue_step, None))
        .collect();
    let n = (hi - lo + 1) as isize;
    let noise = columns[0].profile.noise;
    let edge_limit = (params.edge_sigma * strictness) as f32 * noise * (2.0f32 / EDGE_ARM as f32).sqrt();
    // Local maxima of the step filter over ±3 rows and ±1 column, above the limit.
    let mut candidates: Vec<(isize, usize)> = Vec::new();
    for (ci, column) in columns.iter().enumerate() {
        for i in 0..n {
            let e = column.edge[i as usize];
            if !(e.is_finite() && e > edge_limit) {
                continue;
            }
            let mut best = true;
            let neighbours = ci.saturating_sub(1)..=(ci + 1).min(columns.len() - 1);
            'scan: for (cj, other_column) in columns.iter().enumerate().take(*neighbours.end() + 1).skip(*neighbours.start()) {
                for j in (i - 3).max(0)..=(i + 3).min(n - 1) {
                    if (cj, j) == (ci, i) {
                        continue;
                    }
                    let other = other_column.edge[j as usize];
                    if other > e || (other == e && (cj, j) < (ci, i)) {
                        best = false;
                        break 'scan;
                    }
                }
            }
            if best {
                candidates.push((i, ci));
            }
        }
    }
    // A faint spectrum whose border lies 6-16 rows redward of a much stronger one on its line:
    // the 8-row step filter of the strong border still rises there, so the faint border is no
    // local maximum of its own. A 3-row step filter separates them; its maxima there are
    // candidates too where the light between the two borders is a plateau (the faint spectrum's
    // red part), not the strong border's own rise.
    // (Only in boxes from the threshold: on a deblended residual the neighbours' light is gone,
    // and what remains is the leftover of their models, which makes no plateaus.)
    let from_threshold = cbox.significance > 0.0;
    let narrow_limit = (params.edge_sigma * strictness) as f32 * noise * (2.0f32 / NARROW_ARM as f32).sqrt();
    // (row, column, rows to the strong border)
    let mut extra: Vec<(isize, usize, isize)> = Vec::new();
    for &(j, cj) in candidates.iter().filter(|_| from_threshold) {
        let strong = columns[cj].edge[j as usize];
        for (ci, column) in columns.iter().enumerate().filter(|(ci, _)| ci.abs_diff(cj) <= 1) {
            let raw = column.walker(&column.profile.values);
            let narrow = |i: isize| -> Option<f32> {
                let (blue, nb) = raw.mean(i, 1, NARROW_ARM);
                let (red, nr) = raw.mean(i, -NARROW_ARM, -1);
                (nb == NARROW_ARM as usize && nr == NARROW_ARM as usize).then_some(blue - red)
            };
            for d in NARROW_REACH.0..=NARROW_REACH.1 {
                let i = j - blue_step * d;
                let Some(e) = narrow(i) else { continue };
                if e <= NARROW_SIGNIFICANCE * narrow_limit || strong < NARROW_STRONG * e {
                    continue;
                }
                if (1..=2).any(|k| narrow(i - k).is_some_and(|o| o > e) || narrow(i + k).is_some_and(|o| o >= e)) {
                    continue;
                }
                // The light between the two borders: a plateau at the faint border's level.
                let (near, _) = raw.mean(i, 2, d / 2);
                let (far, _) = raw.mean(i, d / 2 + 1, d - 3);
                let (sky, _) = raw.mean(i, -8, -2);
                if near - sky < NARROW_PLATEAU * e || far - sky < NARROW_PLATEAU * e || far - sky > (near - sky) / NARROW_PLATEAU {
                    continue;
                }
                let taken = candidates.iter().copied().chain(extra.iter().map(|&(k, ck, _)| (k, ck))).any(|(k, ck)| (k - i).abs() <= 3 && ck.abs_diff(ci) <= 1);
                if !taken {
                    extra.push((i, ci, d));
                }
            }
        }
    }
    candidates.extend(extra.iter().map(|&(i, ci, _)| (i, ci)));
    // From the red end toward the blue.
    candidates.sort_by_key(|&(i, ci)| (i * blue_step, ci));
    note!(
        "box {:?}: noise {noise:.4}, border candidates (row, column) {:?}",
        cbox,
        candidates.iter().map(|(i, ci)| (lo as isize + i, columns[*ci].x)).collect::<Vec<_>>()
    );
    let mut found: Vec<(isize, TraceFit)> = Vec::new();
    let mut unverified: Vec<(isize, f64)> = Vec::new();
    // Borders refused only for a step between the relaxed and the normal threshold.
    let mut weak: Vec<(isize, f64, f64)> = Vec::new();
    // Borders refused because a mask (a scratch) covers them or the rows just redward.
    let mut masked: Vec<(isize, f64)> = Vec::new();
    // Borders refused only for a shape just outside the limits (a core a little short with the
    // rest of a spectrum after it, a second spectrum's rise a little soft): rows, columns, steps.
    let mut near_miss: Vec<(isize, f64, f32)> = Vec::new();
    for &(i, ci) in &candidates {
        let column = &columns[ci];
        let raw = column.walker(&column.profile.values);
        let at_row = if log.is_some() { format!("{} col {}", lo as isize + i, column.x) } else { String::new() };
        // The red peak over 1-10 rows blueward, or up to 2 rows short of the strong border just
        // blueward of a border found by the narrow filter (whose light is not this trace's).
        let peak_rows = extra.iter().find(|e| (e.0, e.1) == (i, ci)).map_or(10, |e| (e.2 - 2).clamp(4, 10));
        let (mut peak, mut n_peak) = raw.mean(i, 1, peak_rows);
        // Where a scratch (masked rows) hides part of a border's light, the border may still be
        // a spectrum's, read past the mask (its red peak, the mask's edge, its core): not where
        // the rows 15-44 redward hold light (the red part of a trace whose blue peak this is,
        // the scratch lying across its 480-505 nm minimum), nor on a deblended residual.
        let mut read_past_mask = false;
        let no_red_part = |peak: f32| from_threshold && (15..=40).step_by(5).all(|d| raw.mean(i, -d - 4, -d).0 < BEYOND_MASK_FRACTION * peak);
        if n_peak < 6.min(peak_rows as usize) && (1..=peak_rows).any(|k| raw.at(i, k).is_none() && raw.at(i, k + 1).is_some()) {
            // A masked stretch (a scratch) crosses the red peak: take the rows beyond it too.
            let wide = raw.mean(i, 1, peak_rows + 4);
            if no_red_part(wide.0) {
                (peak, n_peak) = wide;
                read_past_mask = true;
            }
        }
        let (red_level, n_red) = raw.mean(i, -9, -2);
        // Rows of the profile, from 3 redward to 10 blueward of the border, that are masked.
        let masked_rows = (-3..=10isize).filter(|k| {
            let j = i + blue_step * k;
            j >= 0 && j < n && !column.profile.values[j as usize].is_finite()
        });
        if n_peak < 6.min(peak_rows as usize) || n_red < 2 {
            // At the end of the band or of the plate, or masked: cannot verify. A strong step
            // there still marks a trace, whose own features must not pass for new spectra.
            if n_peak >= 6 && column.edge[i as usize] > 3.0 * edge_limit {
                unverified.push((i, column.x));
            }
            if masked_rows.count() > 0 {
                masked.push((i, column.x));
            }
            note!("row {at_row}: cannot verify ({n_peak} peak, {n_red} red rows)");
            continue;
        }
        // Masked rows right redward (a scratch, the plate-holder mask): the edge of the mask,
        // where a trace it cuts reappears, is no red border.
        // (Unless the line beyond the mask is dark and the light starts right at this row: a
        // scratch crossing just redward of a real border, not the few dark rows between a
        // border and a mask.)
        let at_mask_edge = (-3..=-1).filter(|k| raw.at(i, *k).is_none()).count() >= 2;
        if at_mask_edge {
            let (first_rows, _) = raw.mean(i, 1, 2);
            // (The rows right beyond the mask dark too: where the mask covers a trace's red peak,
            // its real border lies a few rows on, and this edge would place it that far off.)
            let dark_beyond = matches!(beyond_mask(&raw, i), Some((level, n, first)) if n >= 3 && level < BEYOND_MASK_FRACTION * peak && first < 2.0 * BEYOND_MASK_FRACTION * peak);
            if !(dark_beyond && no_red_part(peak) && first_rows >= 0.5 * peak) {
                note!("row {at_row}: at the edge of a masked stretch");
                if masked_rows.count() > 0 {
                    masked.push((i, column.x));
                }
                continue;
            }
            read_past_mask = true;
        }
        let step = peak - red_level;
        let step_noise = noise * (1.0 / n_peak as f32 + 1.0 / n_red as f32).sqrt();
        if step < (params.step_sigma * strictness) as f32 * step_noise {
            note!("row {at_row}: step {:.1} sigma", step / step_noise);
            if step >= (params.step_sigma * params.fallback_strictness) as f32 * step_noise {
                weak.push((i, column.x, (step / step_noise) as f64));
            }
            continue;
        }
        // The same border seen from a neighbouring column.
        if found.iter().any(|(j, t)| (i - j).abs() <= 4 && (t.x - column.x).abs() <= (2.5 * t.sigma_x).max(2.0)) {
            note!("row {at_row}: border already taken");
            continue;
        }
        // The last trace accepted redward of this one on the same line.
        let previous = found.iter().rev().find(|(_, t)| (t.x - column.x).abs() <= 1.5);
        if let Some((j, _)) = previous
            && (i - j) * blue_step < params.min_border_separation as isize
        {
            note!("row {at_row}: too close to the previous border");
            continue;
        }
        // Across the trace over the red peak, for the scale of the image.
        let row_of = |k: isize| lo as isize + i + blue_step * k;
        // The rows of this trace clear of a neighbour's light (see rows_clear_of_neighbours).
        let clear_rows = if from_threshold { rows_clear_of_neighbours(band, &columns, &candidates, (i, ci), lo, blue_step) } else { isize::MAX };
        let Some((x, sigma_x)) = cross_profile(band, column.x, row_of(1), row_of(10.min(clear_rows))) else {
            note!("row {at_row}: no cross profile");
            continue;
        };
        // Inside another trace's light (a border accepted redward of it on this line, a strong
        // unverifiable border there, or a significant level well redward of it): it must look
        // like the start of a new spectrum.
        // (Not where a scratch covers the red border of the spectrum this is the blue peak of:
        // the light redward is that spectrum's own, and the trace is placed from its blue peak
        // below.)
        let (far_red, n_far) = raw.mean(i, -12, -4);
        let masked_border = previous.is_none() && masked.iter().any(|&m| blue_peak_of(&found, blue_step, (i, column.x), m));
        let inside = previous.is_some()
            || unverified.iter().any(|(j, ux)| (ux - column.x).abs() <= 1.5 && (i - j) * blue_step > 0 && !masked_border)
            || (n_far > 0 && far_red > (3.0 * noise / (n_far as f32).sqrt()).max(0.15 * step) && !masked_border);
        if inside {
            if step < params.secondary_step_ratio as f32 * red_level.max(0.0) {
                note!("row {at_row}: secondary step {step:.3} vs level {red_level:.3}");
                continue;
            }
            // A second spectrum starts with a sharp border (2-3 px) and a plateau after it; the
            // rise from the 500 nm gap to the blue peak takes 7 px, emission knots fall back.
            // (Arms scaled with the image: extended objects have softer borders.)
            let arm = ((1.2 * sigma_x).round() as isize).clamp(2, 4);
            let (near_blue, _) = raw.mean(i, 1, arm);
            let (near_red, _) = raw.mean(i, -arm, -1);
            let (plateau, _) = raw.mean(i, 3, 8);
            let sharp = (near_blue - near_red) / step;
            let flat = (plateau - red_level) / step;
            // A rise a little soft still starts a spectrum where it stands well above the light
            // it sits on and the light redward is faint (the blue part of a fainter or distant
            // spectrum), away from the blue peak's distance of the trace redward on its line.
            // (On the twelve dev seeds, borders refused for a sharpness of 0.45-0.65: true ones
            // step a median 4.4 times their red level, with 0.23 of their step 4-12 rows redward;
            // false ones, mostly blue peaks 34-36 px from their border, 0.82 and 1.27. The rule
            // keeps 16 true against 5 false.)
            let clear_start = sharp >= SOFT_START_SHARPNESS
                && step >= SOFT_START_LEVEL * red_level
                && far_red <= SOFT_START_FAR * step
                && !previous.is_some_and(|(j, _)| at_blue_peak_distance(((i - j) * blue_step) as f64));
            if (sharp < params.secondary_sharpness as f32 && !clear_start) || flat < 0.6 {
                note!("row {at_row}: secondary sharpness {sharp:.2}, plateau {flat:.2}");
                if sharp >= LENIENT_SHARPNESS as f32 && flat >= 0.6 {
                    near_miss.push((i, column.x, step));
                }
                continue;
            }
        }
        // Core: from the border to where the red part falls to half its level (3 rows running).
        let s2 = column.walker(&column.smooth2);
        let mut core = 0isize;
        let (mut below, mut masked_run, mut last_bright) = (0, 0, 0);
        for k in 1..=160isize {
            // Rows a scratch masks neither end the core nor count toward it (beyond a few: the
            // end of the band or of the mask's reach).
            match s2.at(i, k) {
                Some(v) if v - red_level >= 0.5 * step => (last_bright, below, masked_run) = (k, 0, 0),
                Some(_) => (below, masked_run) = (below + 1, 0),
                None if masked_run < MASK_SKIP && no_red_part(peak) => (masked_run, read_past_mask) = (masked_run + 1, true),
                None => below += 1,
            }
            if below >= 3 {
                core = last_bright;
                break;
            }
            core = k;
        }
        let core = core.max(1);
        if (core as f64) < SHORT_CORE {
            // Dust grains are short and nothing follows them; a spectrum goes on blueward of its
            // core (the declining blue part), and an emission-line object (a planetary nebula:
            // H-alpha 3 px, [O III] and H-beta 27-30 px from the border) shows a second knot.
            let noise2 = noise / (2.0 * 2.0 * std::f32::consts::PI.sqrt()).sqrt();
            let tail_values: Vec<f32> = (core + 2..=core + 14).filter_map(|k| s2.at(i, k)).collect();
            let tail = tail_values.iter().sum::<f32>() / tail_values.len().max(1) as f32 - red_level;
            let has_tail = tail >= (0.1 * step).max(2.5 * noise2 / (tail_values.len().max(1) as f32).sqrt());
            let body = (core + 4..=45).filter_map(|k| s2.at(i, k)).fold(f32::NEG_INFINITY, f32::max) - red_level;
            let has_knot = !inside && core >= 4 && body >= (0.4 * step).max(5.0 * noise2);
            if has_knot {
                // accepted as an emission-line spectrum
            } else if (core as f64) < params.min_core_length || !has_tail && ((core as f64) < TAIL_FREE_CORE || inside) || inside && previous.is_some() {
                note!("row {at_row}: core {core}, tail {tail:.3}, knot {body:.3}");
                if has_tail && !inside && (core as f64) >= LENIENT_CORE {
                    near_miss.push((i, column.x, step));
                }
                continue;
            }
        }
        // Across the trace over the core (at most 24 rows of it).
        let span = core.min(24).min(clear_rows);
        let Some((x, sigma_x)) = cross_profile(band, x, row_of(1), row_of(span)) else {
            note!("row {at_row}: no cross profile");
            continue;
        };
        if found.iter().any(|(j, t)| (i - j).abs() <= 4 && (t.x - x).abs() < 1.5) {
            note!("row {at_row}: border already taken (x {x:.2})");
            continue;
        }
        // An emission-line spectrum (short core) has knots all along: on its line, only a
        // brighter border starts a new spectrum.
        if let Some((_, trace)) = previous
            && trace.core_length < SHORT_CORE
            && (x - trace.x).abs() < 1.0
            && (step as f64) < trace.step
        {
            note!("row {at_row}: a knot of the previous (emission-line) trace");
            continue;
        }
        // The rise from the 480-505 nm minimum to the 440-455 nm blue peak of the trace just
        // redward, at the same x, is that trace's own feature unless the "new" one is brighter.
        // (Hot stars' blue peaks can step up to 1.3 times their red border, but refusing those
        // as well costs more second spectra on the line than it saves: dev plates −6/−2/−1.)
        if let Some((j, trace)) = previous {
            if at_blue_peak_distance(((i - j) * blue_step) as f64) && (x - trace.x).abs() < 1.0 && (step as f64) < trace.step {
                let distance = (i - j) * blue_step;
                note!("row {at_row}: the blue peak of the previous trace ({distance} px)");
                continue;
            }
        }
        let fwhm = 2.3548 * sigma_x.max(0.5);
        if (core as f64) < params.min_core_aspect * fwhm {
            note!("row {at_row}: core {core} vs fwhm {fwhm:.2}");
            continue;
        }
        // No drift in x between the two halves of the core (its first 24 rows: beyond, the light
        // of neighbours creeps in); a hair at 15° from y drifts 3 px over 12 rows.
        let tilt_span = core.min(24).min(clear_rows.max(TILT_ROWS_MIN));
        if tilt_span >= 8 {
            let a = cross_profile(band, x, row_of(1), row_of(tilt_span / 2));
            let b = cross_profile(band, x, row_of(tilt_span / 2 + 1), row_of(tilt_span));
            match (a, b) {
                (Some((xa, _)), Some((xb, _))) => {
                    if (xb - xa).abs() > (params.max_tilt * tilt_span as f64 / 2.0).max(1.2) {
                        note!("row {at_row}: tilt {xa:.2} -> {xb:.2} over {tilt_span}");
                        continue;
                    }
                }
                _ => {
                    note!("row {at_row}: no half profiles");
                    continue;
                }
            }
        }
        // A red border is a step in the light along the trace's own ridge. Where the light goes
        // on redward at the level of the core, evenly, along a line continuing the trace, the
        // "border" is only that line stepping from one pixel column to the next: a hair lying
        // within a few degrees of the dispersion, which the tilt test cannot see over a short
        // core (on a held-out plate one such hair gave 13 false spectra). The light of a
        // neighbouring spectrum redward is not even: it has its own red part and border.
        let core_rows = || (2..=core.clamp(2, 20)).map(row_of);
        if let Some(line) = light_line(band, x, core_rows()) {
            let core_level = median_light_along(band, line, core_rows());
            let near = median_light_along(band, line, (3..=13).map(|k| row_of(-k)));
            let far = median_light_along(band, line, (14..=24).map(|k| row_of(-k)));
            if let (Some(core_level), Some(near), Some(far)) = (core_level, near, far) {
                let row_noise = band.sigma * 3f32.sqrt();
                let even = |v: f32| v >= RIDGE_CONTINUATION * core_level && v <= core_level / RIDGE_CONTINUATION;
                if even(near) && even(far) && core_level > 4.0 * row_noise {
                    note!("row {at_row}: the light goes on redward along its line ({near:.3}, {far:.3} vs {core_level:.3} in the core)");
                    continue;
                }
            }
        }
        // The 690 nm point: half-way up the rise, on the profile re-taken at the trace's x.
        // (Linearised through the characteristic curve where a saturation density is given:
        // saturation flattens the top of the rise and moves its half-way point redward.)
        let headroom = (params.saturation_density > 0.0).then(|| {
            let background = band.background.at(x, lo as f64 + i as f64);
            (params.saturation_density as f32 - background).max(0.2)
        });
        let local = Column::new(band, x, lo, hi, blue_step, headroom);
        let local_raw = local.walker(&local.profile.values);
        let local_s1 = local.walker(&local.smooth1);
        // The levels either side are re-read around the fitted border once (the step filter's
        // maximum can sit a pixel off, which would bias the levels and with them the fit).
        // The levels are read beyond the rise, which is wider for extended objects (galaxies):
        // from 1.5 widths on either side.
        let width = (sigma_x.min(4.0).powi(2) + 0.5).sqrt();
        let clear = (1.5 * width).ceil() as isize;
        let reach = (2.5 * width).ceil().max(5.0) as isize;
        let mut centre = i;
        let mut position = None;
        for _ in 0..2 {
            let (top, _) = local_raw.mean(centre, clear, clear + 4);
            let (bottom, _) = local_raw.mean(centre, -clear - 5, -clear);
            position = fit_edge(&local_raw, centre, top, bottom, width, reach)
                .or_else(|| half_crossing(&local_s1, centre, 0.5 * (top + bottom)));
            match position {
                Some(p) if (p.round() as isize - centre).abs() >= 1 && (p - i as f64).abs() <= 4.0 => centre = p.round() as isize,
                _ => break,
            }
        }
        let position = position.or_else(|| half_crossing(&column.walker(&column.smooth1), i, 0.5 * (raw.mean(i, 1, 4).0 + red_level)));
        let Some(position) = position.or((!read_past_mask).then_some(i as f64)) else {
            // A scratch across the cut-off leaves too few rows to place the border on: the
            // candidate's row could be pixels off (the next valid row past the mask). The
            // spectrum may still be placed from its blue peak, as where a mask covers the border.
            note!("row {at_row}: a masked stretch hides where the border lies");
            masked.push((i, column.x));
            continue;
        };
        // Visible length: the rows whose centre pixel (smoothed along the trace, σ 3 px) stays
        // above `visible_sigma` times the grain noise, until 5 rows running fall below.
        let centre_column = x.round().clamp(0.0, (band.width - 1) as f64) as usize;
        let centre_values: Vec<f32> = (lo..=hi)
            .map(|r| if band.is_valid(centre_column, r) { band.delta_at(centre_column, r) } else { f32::NAN })
            .collect();
        let centre_smooth = smooth(&centre_values, 3.0);
        let centre_series = Walker { values: &centre_smooth, step: blue_step };
        let (centre_red, _) = Walker { values: &centre_values, step: blue_step }.mean(i, -12, -4);
        let visible = params.visible_sigma as f32 * band.sigma;
        let mut end = 1;
        let mut quiet = 0;
        for k in 1..=170isize {
            match centre_series.at(i, k) {
                Some(v) if v - centre_red > visible => {
                    quiet = 0;
                    end = k;
                }
                _ => quiet += 1,
            }
            if quiet >= 5 {
                break;
            }
        }
        let y690 = lo as f64 + position;
        // σ of the image: the pixels' own width (1/12) taken out of the measured spread.
        let sigma_x = (sigma_x * sigma_x - 1.0 / 12.0).max(0.25).sqrt();
        note!("row {at_row}: accepted, x {x:.2} y690 row {y690:.2}, step {:.1} sigma, core {core}", step / step_noise);
        found.push((
            i,
            TraceFit {
                x,
                y690,
                sigma_x,
                length: (end as f64 + crate::pipeline::wavelength::RED_BORDER_TO_690_PIXELS).max(1.0),
                step_snr: (step / step_noise) as f64,
                core_length: core as f64,
                step: step as f64,
                residual: None,
            },
        ));
    }
    // A border found at the blue peak's distance blueward of a near miss on its line (a border
    // refused only for a core a little short or a rise a little soft), and stepping less than
    // it, is that spectrum's blue peak: the spectrum starts at the near miss, if the search with
    // the lenient limits accepts it there. (On the dev plates: stars at B 16-17.4 whose red
    // part falls to half within 7-8 px, refused for it, and then found 31-38 px blueward with a
    // step a tenth of their border's.)
    if params.min_core_length > LENIENT_CORE && !near_miss.is_empty() {
        let misplaced: Vec<usize> = (0..found.len())
            .filter(|&a| {
                let (i, ref t) = found[a];
                near_miss.iter().any(|&(m, mx, m_step)| (t.step as f32) < m_step && blue_peak_of(&found, blue_step, (i, t.x), (m, mx)))
            })
            .collect();
        if !misplaced.is_empty() {
            note!("borders {:?} may be blue peaks of near misses: lenient search", misplaced.iter().map(|a| lo as isize + found[*a].0).collect::<Vec<_>>());
            let lenient = PipelineParams {
                min_core_length: LENIENT_CORE,
                min_core_aspect: LENIENT_ASPECT,
                secondary_sharpness: LENIENT_SHARPNESS,
                ..params.clone()
            };
            let again = find_traces_logged(band, cbox, &lenient, strictness, log.as_deref_mut());
            for a in misplaced {
                let (i, ref t) = found[a];
                let own_border = again.iter().find_map(|r| {
                    let &(m, ..) = near_miss.iter().find(|(m, mx, _)| (mx - t.x).abs() <= 1.5 && (lo as f64 + *m as f64 - r.y690).abs() <= 4.0)?;
                    ((r.x - t.x).abs() <= 1.5 && at_blue_peak_distance(((i - m) * blue_step) as f64)).then_some((m, r))
                });
                if let Some((m, r)) = own_border {
                    note!("row {}: the blue peak of the spectrum at y690 row {:.2}", lo as isize + i, r.y690);
                    found[a] = (m, r.clone());
                }
            }
            found.sort_by_key(|(i, _)| i * blue_step);
        }
    }
    // A region well above the threshold holds a spectrum even when its border is faint (blue
    // objects have weak red parts): take its strongest border with lowered thresholds, unless
    // that border is the blue peak of a spectrum whose own border the relaxed search found too.
    if found.is_empty() && strictness >= 1.0 && cbox.significance as f64 >= params.fallback_box_sigma {
        note!("no border accepted in a {:.1} sigma region: relaxed search", cbox.significance);
        let relaxed = find_traces_logged(band, cbox, params, params.fallback_strictness, log);
        let Some(strongest) = relaxed.iter().max_by(|a, b| a.step_snr.total_cmp(&b.step_snr)) else {
            return relaxed;
        };
        let own_border = |traces: &[TraceFit]| {
            traces.iter().find(|r| (r.x - strongest.x).abs() <= 1.5 && at_blue_peak_distance((strongest.y690 - r.y690) * blue_step as f64)).cloned()
        };
        // Where the relaxed search found no border there, a deeper one may: the faintest hot
        // subdwarfs and white dwarfs step 3-3.5 σ at their red border and 1.2 times as hard at
        // their blue peak. Taken only where the blue peak steps at most BLUE_PEAK_STEP_RATIO
        // times as hard as that border, as in the search at full strictness.
        let own = own_border(&relaxed).or_else(|| {
            let deeper = find_traces(band, cbox, params, DEEP_STRICTNESS);
            own_border(&deeper).filter(|r| strongest.step_snr <= BLUE_PEAK_STEP_RATIO * r.step_snr)
        });
        return vec![own.unwrap_or_else(|| strongest.clone())];
    }
    // A border accepted where a weak one lies on its line at the distance of the blue peak
    // redward is that blue peak (hot stars' and F stars' blue peaks step harder than their red
    // borders on the blue-sensitive emulsions): the spectrum starts at the weak border, if the
    // relaxed search accepts it there.
    if strictness >= 1.0 {
        let misread: Vec<usize> = (0..found.len())
            .filter(|&a| {
                let (i, ref t) = found[a];
                weak.iter().any(|&(w, wx, w_snr)| t.step_snr <= BLUE_PEAK_STEP_RATIO * w_snr && blue_peak_of(&found, blue_step, (i, t.x), (w, wx)))
            })
            .collect();
        if !misread.is_empty() {
            note!("borders {:?} may be blue peaks: relaxed search", misread.iter().map(|a| lo as isize + found[*a].0).collect::<Vec<_>>());
            let relaxed = find_traces_logged(band, cbox, params, params.fallback_strictness, log.as_deref_mut());
            for a in misread {
                let (i, ref t) = found[a];
                let own_border = relaxed.iter().find_map(|r| {
                    let &(w, ..) = weak.iter().find(|(w, wx, _)| (wx - t.x).abs() <= 1.5 && (lo as f64 + *w as f64 - r.y690).abs() <= 4.0)?;
                    ((r.x - t.x).abs() <= 1.5 && at_blue_peak_distance(((i - w) * blue_step) as f64)).then_some((w, r))
                });
                if let Some((w, r)) = own_border {
                    note!("row {}: the blue peak of the spectrum at y690 row {:.2}", lo as isize + i, r.y690);
                    found[a] = (w, r.clone());
                }
            }
            found.sort_by_key(|(i, _)| i * blue_step);
        }
        // A border with a masked one on its line at the blue peak's distance redward is the blue
        // peak of a spectrum whose red border a scratch covers: placed from its blue peak.
        let mut moved = false;
        for a in 0..found.len() {
            let (i, ref t) = found[a];
            if masked.iter().any(|&m| blue_peak_of(&found, blue_step, (i, t.x), m)) {
                note!("row {}: the blue peak of a spectrum whose border is masked", lo as isize + i);
                let trace = &mut found[a].1;
                trace.y690 -= blue_step as f64 * BLUE_PEAK_EDGE_PX;
                trace.length += BLUE_PEAK_EDGE_PX;
                found[a].0 = i - blue_step * BLUE_PEAK_EDGE_PX.round() as isize;
                moved = true;
            }
        }
        if moved {
            found.sort_by_key(|(i, _)| i * blue_step);
        }
    }
    // A trace ends where the next one on its line (toward the blue) begins.
    for a in 0..found.len() {
        let next = found[a + 1..].iter().find(|(_, t)| (t.x - found[a].1.x).abs() <= 1.5).map(|(j, _)| *j);
        if let Some(j) = next {
            let gap = ((j - found[a].0) * blue_step) as f64;
            let trace = &mut found[a].1;
            trace.length = trace.length.min(gap.max(1.0));
        }
    }
    found.into_iter().map(|(_, t)| t).collect()
}
