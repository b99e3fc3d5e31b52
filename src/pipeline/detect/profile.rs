//! Along-dispersion profiles of a trace and the measurements made on them: Gaussian-weighted
//! sums across the trace, NaN-aware smoothing, the step filter that finds red borders, the
//! centroid across the trace, and the least-squares position of the red border.

use super::image::{gaussian_kernel, BandImage};

/// Along-dispersion profile of a box: weighted sums across the trace, one per band row.
pub(super) struct Profile {
    pub(super) values: Vec<f32>,
    /// Noise σ of one value.
    pub(super) noise: f32,
}

/// Half-width (columns) of the profile's weights.
pub(super) const PROFILE_HALF: i64 = 3;
/// σ (pixels) of the profile's Gaussian weights across the trace.
pub(super) const PROFILE_SIGMA: f64 = 1.0;

/// Rows on either side of the step filter.
pub(super) const EDGE_ARM: isize = 8;
/// Rows added before and after a box when its profile is taken.
pub(super) const PROFILE_PAD: usize = 40;

pub(super) fn weighted_profile(band: &BandImage, xc: f64, lo: usize, hi: usize, headroom: Option<f32>) -> Profile {
    let centre = xc.round() as i64;
    let columns: Vec<(usize, f32)> = (centre - PROFILE_HALF..=centre + PROFILE_HALF)
        .filter(|c| *c >= 0 && (*c as usize) < band.width)
        .map(|c| (c as usize, (-0.5 * ((c as f64 - xc) / PROFILE_SIGMA).powi(2)).exp() as f32))
        .collect();
    let total: f32 = columns.iter().map(|(_, w)| w).sum();
    let norm2: f32 = columns.iter().map(|(_, w)| w * w).sum();
    let values = (lo..=hi)
        .map(|r| {
            let mut sum = 0.0f32;
            let mut used = 0.0f32;
            for &(c, w) in &columns {
                if band.is_valid(c, r) {
                    let d = band.delta_at(c, r);
                    let value = match headroom {
                        // Back through the characteristic curve D = D_s (1 − e^(−E)).
                        Some(s) => -s * (1.0 - (d / s).min(0.98)).ln(),
                        None => d,
                    };
                    sum += w * value;
                    used += w;
                }
            }
            if used < 0.5 * total { f32::NAN } else { sum * total / used }
        })
        .collect();
    Profile { values, noise: band.sigma * norm2.sqrt() }
}

/// Gaussian smoothing that skips missing (NaN) values (normalised convolution).
pub(super) fn smooth(values: &[f32], sigma: f64) -> Vec<f32> {
    let kernel = gaussian_kernel(sigma);
    let half = (kernel.len() / 2) as isize;
    let n = values.len() as isize;
    (0..n)
        .map(|i| {
            let mut sum = 0.0f32;
            let mut weight = 0.0f32;
            for (j, w) in kernel.iter().enumerate() {
                let k = i + j as isize - half;
                if k >= 0 && k < n && values[k as usize].is_finite() {
                    sum += w * values[k as usize];
                    weight += w;
                }
            }
            if weight < 0.5 { f32::NAN } else { sum / weight }
        })
        .collect()
}

/// Reads a series at index i + step·k (k pixels blueward when step is the blueward index step).
pub(super) struct Walker<'a> {
    pub(super) values: &'a [f32],
    pub(super) step: isize,
}

impl Walker<'_> {
    pub(super) fn at(&self, i: isize, k: isize) -> Option<f32> {
        let j = i + self.step * k;
        if j < 0 || j as usize >= self.values.len() {
            return None;
        }
        let v = self.values[j as usize];
        v.is_finite().then_some(v)
    }

    /// Mean of values k = a..=b pixels blueward of i, and how many were there.
    pub(super) fn mean(&self, i: isize, a: isize, b: isize) -> (f32, usize) {
        let (mut sum, mut n) = (0.0f32, 0usize);
        for k in a..=b {
            if let Some(v) = self.at(i, k) {
                sum += v;
                n += 1;
            }
        }
        if n == 0 { (0.0, 0) } else { (sum / n as f32, n) }
    }
}

/// Intensity-weighted centroid and σ across the trace, over band rows `rows` (from `from` to
/// `to` inclusive, any order), in a window around `guess`.
pub(super) fn cross_profile(band: &BandImage, guess: f64, from: isize, to: isize) -> Option<(f64, f64)> {
    let (a, b) = (from.min(to).max(0) as usize, (from.max(to).max(0) as usize).min(band.rows - 1));
    let half = 5i64;
    let centre = guess.round() as i64;
    let mut column = Vec::new();
    for c in centre - half..=centre + half {
        if c < 0 || c as usize >= band.width {
            column.push((c, 0.0f64));
            continue;
        }
        let sum: f64 = (a..=b).filter(|r| band.is_valid(c as usize, *r)).map(|r| band.delta_at(c as usize, r) as f64).sum();
        column.push((c, sum));
    }
    // Centroid in a window of ±2.5 px around the current estimate, twice.
    let mut x = guess;
    let mut spread = 1.0;
    for _ in 0..3 {
        let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
        for &(c, v) in &column {
            let d = c as f64 - x;
            if d.abs() <= 2.5 && v > 0.0 {
                s0 += v;
                s1 += v * c as f64;
                s2 += v * d * d;
            }
        }
        if s0 <= 0.0 {
            return None;
        }
        let next = s1 / s0;
        spread = (s2 / s0).sqrt();
        if (next - guess).abs() > 3.0 {
            return None;
        }
        x = next;
    }
    // σ from the wider window (saturated traces are broader than ±2.5 px).
    let (mut s0, mut s2) = (0.0, 0.0);
    for &(c, v) in &column {
        let d = c as f64 - x;
        if d.abs() <= 4.5 && v > 0.0 {
            s0 += v;
            s2 += v * d * d;
        }
    }
    let sigma = if s0 > 0.0 { (s2 / s0).sqrt().max(spread) } else { spread };
    Some((x, sigma))
}

/// Sub-pixel position (profile index) where the smoothed profile crosses `half` between the
/// red side and the blue side, nearest to index i.
pub(super) fn half_crossing(series: &Walker, i: isize, half: f32) -> Option<f64> {
    let mut best: Option<(f64, f64)> = None;
    for k in -4..=3isize {
        // From k (redder) to k + 1 (bluer).
        let (Some(red), Some(blue)) = (series.at(i, k), series.at(i, k + 1)) else { continue };
        if red < half && blue >= half && blue > red {
            let t = ((half - red) / (blue - red)) as f64;
            let offset = k as f64 + t; // pixels blueward of i
            if best.is_none_or(|(d, _)| offset.abs() < d) {
                best = Some((offset.abs(), offset));
            }
        }
    }
    best.map(|(_, offset)| i as f64 + series.step as f64 * offset)
}

/// Least-squares position of the red border: the raw profile `reach` px either side of index i,
/// normalised between the red-side level (`bottom`) and the red peak (`top`), fitted with a
/// cumulative Gaussian Φ((k − k0)/w) of width w (the image and the emulsion's cut-off along the
/// dispersion). The 690 nm point, where the response is 0.45 of the peak, is its half-way point
/// k0. Returns the index of k0 (fractional), or None with too few rows.
pub(super) fn fit_edge(series: &Walker, i: isize, top: f32, bottom: f32, width: f64, reach: isize) -> Option<f64> {
    let range = (top - bottom) as f64;
    if range <= 0.0 {
        return None;
    }
    let points: Vec<(f64, f64)> = (-reach..=reach)
        .filter_map(|k| series.at(i, k).map(|v| (k as f64, (v - bottom) as f64 / range)))
        .collect();
    if points.len() < 7 {
        return None;
    }
    let cost = |k0: f64| -> f64 {
        points.iter().map(|(k, u)| {
            let model = 0.5 * (1.0 + crate::sim::population::erf((k - k0) / (std::f64::consts::SQRT_2 * width)));
            (u - model).powi(2)
        }).sum()
    };
    // Grid search over ±(reach − 2) px, then a parabola through the best three.
    let span = (reach - 2).max(3) as f64;
    let steps = (40.0 * span) as usize;
    let grid: Vec<f64> = (0..=steps).map(|n| -span + 2.0 * span * n as f64 / steps as f64).collect();
    let costs: Vec<f64> = grid.iter().map(|k0| cost(*k0)).collect();
    let best = (0..costs.len()).min_by(|a, b| costs[*a].total_cmp(&costs[*b]))?;
    let mut k0 = grid[best];
    if best > 0 && best < steps {
        let (a, b, c) = (costs[best - 1], costs[best], costs[best + 1]);
        let denominator = a - 2.0 * b + c;
        if denominator > 0.0 {
            k0 += 0.5 * (a - c) / denominator * (grid[1] - grid[0]);
        }
    }
    Some(i as f64 + series.step as f64 * k0)
}

/// The profile of one column position with its smoothed versions and step filter.
pub(super) struct Column {
    pub(super) x: f64,
    pub(super) profile: Profile,
    pub(super) smooth1: Vec<f32>,
    pub(super) smooth2: Vec<f32>,
    pub(super) edge: Vec<f32>,
    pub(super) blue_step: isize,
}

impl Column {
    pub(super) fn new(band: &BandImage, x: f64, lo: usize, hi: usize, blue_step: isize, headroom: Option<f32>) -> Column {
        let profile = weighted_profile(band, x, lo, hi, headroom);
        let n = profile.values.len() as isize;
        let raw = Walker { values: &profile.values, step: blue_step };
        // Step filter toward the red: mean of the 8 rows blueward minus the 8 rows redward of a
        // row (a box-difference edge detector: for faint traces the steepness of the border is
        // buried in the noise of single rows, its step is not).
        let edge: Vec<f32> = (0..n)
            .map(|i| {
                let (blue, nb) = raw.mean(i, 1, EDGE_ARM);
                let (red, nr) = raw.mean(i, -EDGE_ARM, -1);
                if nb >= 4 && nr >= 3 { blue - red } else { f32::NAN }
            })
            .collect();
        Column {
            x,
            smooth1: smooth(&profile.values, 1.0),
            smooth2: smooth(&profile.values, 2.0),
            edge,
            profile,
            blue_step,
        }
    }

    pub(super) fn walker<'a>(&self, values: &'a [f32]) -> Walker<'a> {
        Walker { values, step: self.blue_step }
    }
}

/// The straight line the light of a trace follows over band rows `rows` (any order): the
/// centroid of the positive ΔD within ±2 columns of `x` in each row, fitted by least squares as
/// x = a + s·r. Returns (a, s), or None with fewer than 6 rows with light.
pub(super) fn light_line(band: &BandImage, x: f64, rows: impl Iterator<Item = isize>) -> Option<(f64, f64)> {
    let c0 = x.round() as i64;
    let mut points = Vec::new();
    for r in rows {
        if r < 0 || r as usize >= band.rows {
            continue;
        }
        let (mut sum, mut moment) = (0.0f64, 0.0f64);
        for c in (c0 - 2..=c0 + 2).filter(|c| *c >= 0 && (*c as usize) < band.width) {
            if band.is_valid(c as usize, r as usize) {
                let v = band.delta_at(c as usize, r as usize).max(0.0) as f64;
                sum += v;
                moment += v * c as f64;
            }
        }
        if sum > 0.0 {
            points.push((r as f64, moment / sum));
        }
    }
    if points.len() < 6 {
        return None;
    }
    let n = points.len() as f64;
    let (mr, mx) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let srr: f64 = points.iter().map(|p| (p.0 - mr).powi(2)).sum();
    let srx: f64 = points.iter().map(|p| (p.0 - mr) * (p.1 - mx)).sum();
    let slope = if srr > 0.0 { srx / srr } else { 0.0 };
    Some((mx - slope * mr, slope))
}

/// Median light along the line x = a + s·r over band rows `rows`: per row, the sum of ΔD over
/// the 3 columns centred on the line. None when fewer than half the rows are in the band and
/// unmasked.
pub(super) fn median_light_along(band: &BandImage, line: (f64, f64), rows: impl Iterator<Item = isize>) -> Option<f32> {
    let mut total = 0;
    let mut present: Vec<f32> = rows
        .inspect(|_| total += 1)
        .filter_map(|r| {
            if r < 0 || r as usize >= band.rows {
                return None;
            }
            let c = (line.0 + line.1 * r as f64).round() as i64;
            let mut sum = 0.0f32;
            for k in c - 1..=c + 1 {
                if k < 0 || k as usize >= band.width || !band.is_valid(k as usize, r as usize) {
                    return None;
                }
                sum += band.delta_at(k as usize, r as usize);
            }
            Some(sum)
        })
        .collect();
    if present.is_empty() || present.len() * 2 < total {
        return None;
    }
    present.sort_by(f32::total_cmp);
    Some(present[present.len() / 2])
}
