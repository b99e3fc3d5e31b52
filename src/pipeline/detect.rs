//! Detection: from the scan of a plate to the boxes and red borders of its spectra.
//!
//! The scan is read band by band through a [`BandSource`] (FITS for real plates, the
//! simulator's renderer in tests), so memory stays bounded whatever the plate size: a band is
//! `band_rows` rows plus `band_overlap` rows on either side, enough to hold every trace anchored
//! in the band's own rows whole (see [`super::params::PipelineParams`]). Per band
//! ([`image`]): density, masks, background, blur, adaptive threshold; then ([`contour`]) the
//! connected regions and their Pavlidis contours; then here the boxes: regions at least
//! `min_box_height` rows tall, split where traces touch in x (at the deepest minima of the
//! column profile; parts still too wide — a hair lying across several traces, a merged crowd —
//! cut into a window around each peak of the profile), at most `max_box_width` wide and taller
//! than wide; and ([`trace`], on [`profile`]s) the spectra in each box, split where they
//! overlap along y (at their red borders), tested against dust, hairs and scratches, with
//! their anchors; then ([`deblend`]) each box's dominant traces are subtracted in a window and
//! the search runs again on what is left, for faint spectra hidden in bright ones' light.
//! [`super::extract`] turns those into catalogue rows and holds the entry points (re-exported
//! here).

pub mod contour;
pub mod deblend;
pub mod image;
pub mod profile;
pub mod trace;

#[cfg(test)]
mod tests;

use rayon::prelude::*;

pub use super::extract::{detect_and_extract, extract_at, Detection, Quality};
use super::params::PipelineParams;
use self::contour::Region;
use self::image::BandImage;
use self::trace::{find_traces, CandidateBox, TraceFit};

/// Where the scan comes from: FITS (fitsio) for real plates, an in-memory image or the
/// simulator's `PlateScene::render_band` in tests.
pub trait BandSource {
    fn width(&self) -> usize;
    fn height(&self) -> usize;
    /// Reads image rows first_row..first_row+rows (0-based; FITS y = row + 1) as scan values
    /// (0 dark .. 16383 clear) into `out` (cleared first, row-major, width values per row).
    fn read_rows(&mut self, first_row: usize, rows: usize, out: &mut Vec<f32>) -> Result<(), String>;
}

/// A scan held in memory (row-major, `width` values per row): for tests and small images.
pub struct MemorySource<'a> {
    pub width: usize,
    pub height: usize,
    pub values: &'a [f32],
}

impl BandSource for MemorySource<'_> {
    fn width(&self) -> usize {
        self.width
    }
    fn height(&self) -> usize {
        self.height
    }
    fn read_rows(&mut self, first_row: usize, rows: usize, out: &mut Vec<f32>) -> Result<(), String> {
        if first_row + rows > self.height {
            return Err(format!("rows {first_row}..{} lie outside the image of {} rows", first_row + rows, self.height));
        }
        out.clear();
        out.extend_from_slice(&self.values[first_row * self.width..(first_row + rows) * self.width]);
        Ok(())
    }
}

/// One band of the plan: the rows it owns (`core`) and the rows it reads (`read`), image rows,
/// half-open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BandPlan {
    pub core: (usize, usize),
    pub read: (usize, usize),
}

/// Cuts a scan of `height` rows into bands of `band_rows` owned rows, each read with
/// `band_overlap` rows more on either side.
pub fn plan_bands(height: usize, params: &PipelineParams) -> Vec<BandPlan> {
    (0..height)
        .step_by(params.band_rows.max(1))
        .map(|start| {
            let end = (start + params.band_rows).min(height);
            BandPlan { core: (start, end), read: (start.saturating_sub(params.band_overlap), (end + params.band_overlap).min(height)) }
        })
        .collect()
}

/// Reads and preprocesses image rows `first..last` (None when nothing in them is usable).
pub fn read_band(
    source: &mut dyn BandSource,
    first: usize,
    last: usize,
    buffer: &mut Vec<f32>,
    params: &PipelineParams,
) -> Result<Option<BandImage>, String> {
    let width = source.width();
    let rows = last - first;
    source.read_rows(first, rows, buffer)?;
    if buffer.len() != width * rows {
        return Err(format!("the scan source gave {} values for {rows} rows of {width}", buffer.len()));
    }
    let scan = std::mem::take(buffer);
    Ok(BandImage::prepare(scan, width, first, source.height(), params))
}

/// The candidate boxes of a band: blur, threshold, regions (Pavlidis contours), splits and the
/// box size tests.
pub fn candidate_boxes(band: &BandImage, params: &PipelineParams) -> Vec<CandidateBox> {
    let blurred = band.blurred(params);
    let (mask, excess, sigma) = band.threshold(&blurred, params);
    let regions = contour::regions(&mask, band.width, band.rows, params.min_box_height);
    drop(mask);
    regions
        .par_iter()
        .flat_map_iter(|region| boxes_of_region(region, &blurred, &excess, sigma, band.width, params))
        .collect()
}

/// Splits a region at the valleys of its column profile (traces touching in x) and keeps the
/// parts that have the size and shape of a trace.
fn boxes_of_region(
    region: &Region,
    blurred: &[f32],
    excess: &[f32],
    sigma: f32,
    width: usize,
    params: &PipelineParams,
) -> Vec<CandidateBox> {
    let [c0, _, c1, _] = region.bbox;
    // A guard against pathological regions (the column split costs width² at worst); hairs
    // lying across traces make regions some hundred pixels wide, and those are cut up below.
    if region.width() > 2000 {
        return Vec::new();
    }
    let mut profile = vec![0.0f32; c1 - c0 + 1];
    for run in &region.runs {
        let line = &blurred[run.row as usize * width..];
        for c in run.c0..=run.c1 {
            profile[c as usize - c0] += line[c as usize].max(0.0);
        }
    }
    let mut split = Vec::new();
    split_columns(&profile, 0, profile.len() - 1, params.split_valley as f32, &mut split);
    // Parts still too wide for one trace (a hair lying across several, a merged crowd): a
    // window around each peak of their column profile.
    let mut parts = Vec::new();
    for (a, b) in split {
        if b - a < params.max_box_width {
            parts.push((a, b));
        } else {
            peak_windows(&profile, a, b, params.max_box_width.saturating_sub(1) / 2, &mut parts);
        }
    }
    let mut boxes = Vec::new();
    for (a, b) in parts {
        let (a, b) = (a + c0, b + c0);
        let (mut r0, mut r1) = (usize::MAX, 0);
        let (mut low, mut high) = (usize::MAX, 0);
        let mut peak_excess = 0.0f32;
        for run in &region.runs {
            if run.c1 as usize >= a && run.c0 as usize <= b {
                r0 = r0.min(run.row as usize);
                r1 = r1.max(run.row as usize);
                let (c0, c1) = ((run.c0 as usize).max(a), (run.c1 as usize).min(b));
                low = low.min(c0);
                high = high.max(c1);
                let line = &excess[run.row as usize * width..];
                peak_excess = line[c0..=c1].iter().fold(peak_excess, |m, v| m.max(*v));
            }
        }
        if r0 > r1 {
            continue;
        }
        let height = r1 - r0 + 1;
        let box_width = high - low + 1;
        if height < params.min_box_height || box_width > params.max_box_width || height <= box_width {
            continue;
        }
        let peak = (low..=high)
            .max_by(|x, y| profile[x - c0].total_cmp(&profile[y - c0]).then(y.cmp(x)))
            .unwrap_or(low);
        boxes.push(CandidateBox { c0: low, c1: high, r0, r1, peak_column: peak, significance: peak_excess / sigma });
    }
    boxes
}

/// Recursively splits profile[a..=b] at its deepest valley below `valley` × the lower of the
/// peaks on either side; pushes the parts.
fn split_columns(profile: &[f32], a: usize, b: usize, valley: f32, out: &mut Vec<(usize, usize)>) {
    let mut best: Option<(f32, usize)> = None;
    if b >= a + 2 {
        for v in a + 1..b {
            if profile[v] > profile[v - 1] || profile[v] > profile[v + 1] {
                continue;
            }
            let left = profile[a..v].iter().cloned().fold(0.0f32, f32::max);
            let right = profile[v + 1..=b].iter().cloned().fold(0.0f32, f32::max);
            let lower = left.min(right);
            if lower <= 0.0 {
                continue;
            }
            let ratio = profile[v] / lower;
            if ratio < valley && best.is_none_or(|(r, _)| ratio < r) {
                best = Some((ratio, v));
            }
        }
    }
    match best {
        Some((_, v)) => {
            split_columns(profile, a, v - 1, valley, out);
            split_columns(profile, v + 1, b, valley, out);
        }
        None => out.push((a, b)),
    }
}

/// Windows around the peaks of profile[a..=b] (smoothed 1-2-1): from the lowest point toward
/// the previous peak to the lowest point toward the next, at most `half` columns either side.
fn peak_windows(profile: &[f32], a: usize, b: usize, half: usize, out: &mut Vec<(usize, usize)>) {
    let smoothed: Vec<f32> = (a..=b)
        .map(|i| {
            let left = profile[i.saturating_sub(1).max(a)];
            let right = profile[(i + 1).min(b)];
            0.25 * left + 0.5 * profile[i] + 0.25 * right
        })
        .collect();
    let n = smoothed.len();
    let peaks: Vec<usize> = (0..n)
        .filter(|&i| smoothed[i] > 0.0 && (i == 0 || smoothed[i] > smoothed[i - 1]) && (i + 1 == n || smoothed[i] >= smoothed[i + 1]))
        .collect();
    let lowest = |from: usize, to: usize| (from..=to).min_by(|x, y| smoothed[*x].total_cmp(&smoothed[*y])).unwrap_or(from);
    for (n_peak, &p) in peaks.iter().enumerate() {
        let left = if n_peak == 0 { 0 } else { lowest(peaks[n_peak - 1], p) };
        let right = if n_peak + 1 == peaks.len() { n - 1 } else { lowest(p, peaks[n_peak + 1]) };
        out.push((a + left.max(p.saturating_sub(half)), a + right.min(p + half)));
    }
}

/// The traces of a band: every candidate box searched (in parallel; results in box order).
pub fn band_traces(band: &BandImage, params: &PipelineParams) -> Vec<TraceFit> {
    let boxes = candidate_boxes(band, params);
    boxes
        .par_iter()
        .flat_map_iter(|b| {
            let mut found = find_traces(band, b, params, 1.0);
            deblend::deblend(band, b, &mut found, params);
            found
        })
        .collect()
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn bands_cover_the_plate_once() {
        let params = PipelineParams::default();
        let plan = plan_bands(1300, &params);
        assert_eq!(plan.len(), 3);
        assert_eq!(plan[0].core, (0, 512));
        assert_eq!(plan[0].read, (0, 512 + params.band_overlap));
        assert_eq!(plan[2].core, (1024, 1300));
        assert_eq!(plan[2].read, (1024 - params.band_overlap, 1300));
        assert!(plan.windows(2).all(|w| w[0].core.1 == w[1].core.0));
    }

    #[test]
    fn wide_parts_are_cut_around_their_peaks() {
        let profile = [5.0, 5.0, 9.0, 6.0, 5.0, 5.0, 5.0, 8.0, 5.0, 5.0, 5.0, 5.0];
        let mut parts = Vec::new();
        peak_windows(&profile, 0, profile.len() - 1, 3, &mut parts);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts[0].0 <= 2 && parts[0].1 >= 2 && parts[0].1 < 7);
        assert!(parts[1].0 > 2 && parts[1].0 <= 7 && parts[1].1 >= 7 && parts[1].1 <= 10);
    }

    #[test]
    fn column_profiles_split_at_deep_valleys() {
        let profile = [0.0, 5.0, 10.0, 5.0, 1.0, 6.0, 8.0, 3.0, 0.0];
        let mut parts = Vec::new();
        split_columns(&profile, 0, profile.len() - 1, 0.6, &mut parts);
        assert_eq!(parts, vec![(0, 3), (5, 8)]);
        let mut parts = Vec::new();
        split_columns(&[1.0, 4.0, 3.5, 4.0, 1.0], 0, 4, 0.6, &mut parts);
        assert_eq!(parts, vec![(0, 4)]);
    }
}
