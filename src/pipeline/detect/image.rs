//! Band preprocessing: scan values → photographic density → masks → background → the
//! background-subtracted density ΔD, then the blurred image and the adaptive-mean threshold.
//!
//! Steps (each O(1) work per pixel, so a full 9601 × 9602 scan stays within seconds):
//! 1. Density D = log10(16383 / value): the scan is a positive transparency (DFBS.md: 0 dark …
//!    16383 clear), density is what the emulsion recorded and adds over overlapping exposures
//!    far better than transmission does (a lookup table for integer scan values).
//! 2. Masks: non-finite values; the black plate-holder corners (runs of dark pixels that start
//!    at the left or right edge of the scan, dilated); scratches (density well *below* the
//!    background: the emulsion is missing).
//! 3. Background: the median of D in a coarse grid of cells (robust against the traces, which
//!    cover a few per cent of a cell), interpolated bilinearly between cell centres (the sky,
//!    fog and vignetting change over hundreds of pixels). ΔD = D − background; masked pixels get
//!    ΔD = 0, i.e. they look like sky to everything downstream.
//! 4. Noise: σ = 1.4826 · MAD of ΔD (robust standard deviation of the grain noise).
//! 5. Blur: separable Gaussian, σ_y ≈ 8 along the dispersion, σ_x ≈ 0.5 across (DFBS.md); the
//!    kernel is renormalised where it leaves the band so edges are not darkened.
//! 6. Adaptive mean threshold (as OpenCV's ADAPTIVE_THRESH_MEAN_C, block 19): a pixel is
//!    foreground where the blurred image exceeds the mean of its block × block neighbourhood by
//!    an offset; the block sums come from running column sums and per-row prefix sums (the
//!    separable form of an integral image), so the cost does not depend on the block size.
//!    The offset is given in robust σ of (blurred − block mean), measured on the band itself,
//!    so the same setting works for plates of any grain. Pixels whose blurred ΔD alone lies
//!    `absolute_sigma` σ above the background are foreground too: between two bright traces a
//!    few pixels apart the block mean is raised enough to hide a fainter third one.

use std::sync::OnceLock;

use rayon::prelude::*;

use crate::pipeline::params::PipelineParams;

/// Largest scan value (DFBS.md: 14-bit scans).
pub const SCAN_MAX: f32 = 16383.0;

/// One band of the scan, preprocessed.
pub struct BandImage {
    pub width: usize,
    pub rows: usize,
    /// Image row (0-based) of band row 0; FITS y = first_row + r + 1.
    pub first_row: usize,
    /// Image column (0-based) of band column 0: 0 for a band, where a window of one starts
    /// otherwise; FITS x = first_column + c + 1.
    pub first_column: usize,
    /// Columns of the whole scan.
    pub plate_width: usize,
    /// Rows of the whole scan.
    pub plate_height: usize,
    /// The scan values as read (for cutouts).
    pub scan: Vec<f32>,
    /// Background-subtracted density; 0 where masked.
    pub delta: Vec<f32>,
    /// 1 where the pixel is usable, 0 where masked.
    pub valid: Vec<u8>,
    /// Background density grid (cell medians).
    pub background: BackgroundGrid,
    /// Robust σ of ΔD per pixel (grain noise of the sky).
    pub sigma: f32,
}

/// Density of a scan value: D = log10(16383 / value), with values at or below 0.5 clamped.
pub fn density(value: f32) -> f32 {
    static TABLE: OnceLock<Vec<f32>> = OnceLock::new();
    let table = TABLE.get_or_init(|| (0..=16383).map(|v| (SCAN_MAX as f64 / (v as f64).max(0.5)).log10() as f32).collect());
    if (0.0..=SCAN_MAX).contains(&value) && value.fract() == 0.0 {
        table[value as usize]
    } else {
        (SCAN_MAX / value.max(0.5)).log10()
    }
}

/// Coarse median grid of the background density, interpolated bilinearly between cell centres.
#[derive(Clone)]
pub struct BackgroundGrid {
    /// Where position (0, 0) of [`BackgroundGrid::at`] lies on the grid's own band (columns,
    /// rows): zero, except for the grid of a window cut from a band.
    origin: (f64, f64),
    cell: usize,
    nx: usize,
    ny: usize,
    width: usize,
    rows: usize,
    values: Vec<f32>,
}

impl BackgroundGrid {
    /// Medians of the valid densities in each cell (every second pixel in x and y); cells with
    /// too few valid pixels take the mean of their valid neighbours. None when no cell is valid.
    fn measure(density: &[f32], valid: &[u8], width: usize, rows: usize, cell: usize) -> Option<BackgroundGrid> {
        let nx = width.div_ceil(cell);
        let ny = rows.div_ceil(cell);
        let medians: Vec<Option<f32>> = (0..nx * ny)
            .into_par_iter()
            .map(|index| {
                let (i, j) = (index % nx, index / nx);
                let (c0, c1) = (i * cell, ((i + 1) * cell).min(width));
                let (r0, r1) = (j * cell, ((j + 1) * cell).min(rows));
                let mut samples = Vec::with_capacity(cell * cell / 4 + 1);
                let mut total = 0usize;
                for r in (r0..r1).step_by(2) {
                    for c in (c0..c1).step_by(2) {
                        total += 1;
                        if valid[r * width + c] != 0 {
                            samples.push(density[r * width + c]);
                        }
                    }
                }
                if samples.len() < 8 || samples.len() * 5 < total {
                    return None;
                }
                let middle = samples.len() / 2;
                let (_, median, _) = samples.select_nth_unstable_by(middle, |a, b| a.total_cmp(b));
                Some(*median)
            })
            .collect();
        if medians.iter().all(Option::is_none) {
            return None;
        }
        // Fill the empty cells from their neighbours, ring by ring.
        let mut grid = medians;
        while grid.iter().any(Option::is_none) {
            let previous = grid.clone();
            for j in 0..ny {
                for i in 0..nx {
                    if previous[j * nx + i].is_some() {
                        continue;
                    }
                    let mut sum = 0.0;
                    let mut n = 0;
                    for (di, dj) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1), (-1, 1), (1, -1)] {
                        let (ii, jj) = (i as i64 + di, j as i64 + dj);
                        if ii >= 0
                            && jj >= 0
                            && (ii as usize) < nx
                            && (jj as usize) < ny
                            && let Some(v) = previous[jj as usize * nx + ii as usize]
                        {
                            sum += v;
                            n += 1;
                        }
                    }
                    if n > 0 {
                        grid[j * nx + i] = Some(sum / n as f32);
                    }
                }
            }
        }
        Some(BackgroundGrid { origin: (0.0, 0.0), cell, nx, ny, width, rows, values: grid.into_iter().map(|v| v.unwrap_or(0.0)).collect() })
    }

    /// Cell-index coordinate of pixel position p along an axis of `n` cells: where p lies
    /// between cell centres (i0, i1, fraction).
    fn axis(&self, p: f64, n: usize, extent: usize) -> (usize, usize, f32) {
        let cell = self.cell as f64;
        // Centre of cell i: middle of its actual extent (the last cell may be partial).
        let centre = |i: usize| -> f64 {
            let a = (i * self.cell) as f64;
            let b = (((i + 1) * self.cell).min(extent)) as f64;
            (a + b - 1.0) / 2.0
        };
        let guess = ((p - (cell - 1.0) / 2.0) / cell).floor();
        if guess < 0.0 || n == 1 {
            return (0, 0, 0.0);
        }
        let i0 = (guess as usize).min(n - 1);
        if i0 >= n - 1 {
            return (n - 1, n - 1, 0.0);
        }
        let (a, b) = (centre(i0), centre(i0 + 1));
        let t = ((p - a) / (b - a)).clamp(0.0, 1.0);
        (i0, i0 + 1, t as f32)
    }

    /// Background density at band position (c, r) (fractional allowed).
    pub fn at(&self, c: f64, r: f64) -> f32 {
        let (i0, i1, s) = self.axis(c + self.origin.0, self.nx, self.width);
        let (j0, j1, t) = self.axis(r + self.origin.1, self.ny, self.rows);
        let v = |i: usize, j: usize| self.values[j * self.nx + i];
        let top = v(i0, j0) * (1.0 - s) + v(i1, j0) * s;
        let bottom = v(i0, j1) * (1.0 - s) + v(i1, j1) * s;
        top * (1.0 - t) + bottom * t
    }

    /// The same grid for a window of its band whose first column and row are (c0, r0).
    pub fn window(&self, c0: usize, r0: usize) -> BackgroundGrid {
        BackgroundGrid { origin: (self.origin.0 + c0 as f64, self.origin.1 + r0 as f64), ..self.clone() }
    }

    /// Fills `out` with the background of band row r (of an unshifted grid).
    fn row(&self, r: usize, columns: &[(usize, usize, f32)], out: &mut [f32]) {
        debug_assert_eq!(self.origin, (0.0, 0.0), "row() reads an unshifted grid only");
        let (j0, j1, t) = self.axis(r as f64, self.ny, self.rows);
        let line: Vec<f32> = (0..self.nx)
            .map(|i| self.values[j0 * self.nx + i] * (1.0 - t) + self.values[j1 * self.nx + i] * t)
            .collect();
        for (value, &(i0, i1, s)) in out.iter_mut().zip(columns) {
            *value = line[i0] * (1.0 - s) + line[i1] * s;
        }
    }
}

/// Robust σ (1.4826 × median absolute deviation from the median) of the selected values.
pub fn robust_sigma(mut samples: Vec<f32>) -> Option<f32> {
    if samples.len() < 16 {
        return None;
    }
    let middle = samples.len() / 2;
    let median = *samples.select_nth_unstable_by(middle, |a, b| a.total_cmp(b)).1;
    for v in samples.iter_mut() {
        *v = (*v - median).abs();
    }
    let mad = *samples.select_nth_unstable_by(middle, |a, b| a.total_cmp(b)).1;
    Some(1.4826 * mad)
}

/// Every `stride`-th valid value of `data` (a fixed pattern: deterministic).
fn sample_valid(data: &[f32], valid: &[u8], stride: usize) -> Vec<f32> {
    data.iter().zip(valid).step_by(stride).filter(|(_, ok)| **ok != 0).map(|(v, _)| *v).collect()
}

impl BandImage {
    /// Preprocesses rows `first_row..first_row + rows` of a scan `plate_height` rows high.
    /// Returns None when the band holds no usable pixel (all masked or not finite).
    pub fn prepare(
        scan: Vec<f32>,
        width: usize,
        first_row: usize,
        plate_height: usize,
        params: &PipelineParams,
    ) -> Option<BandImage> {
        let rows = scan.len() / width.max(1);
        if rows == 0 || width == 0 {
            return None;
        }
        let mut valid: Vec<u8> = scan.iter().map(|v| v.is_finite() as u8).collect();
        mask_plate_holder(&scan, &mut valid, width, rows, params);
        let mut delta: Vec<f32> = scan.par_iter().map(|&v| if v.is_finite() { density(v) } else { 0.0 }).collect();
        let background = BackgroundGrid::measure(&delta, &valid, width, rows, params.background_cell)?;
        let columns: Vec<(usize, usize, f32)> =
            (0..width).map(|c| background.axis(c as f64, background.nx, background.width)).collect();
        delta.par_chunks_mut(width).zip(valid.par_chunks(width)).enumerate().for_each(|(r, (line, ok))| {
            let mut bg = vec![0.0f32; width];
            background.row(r, &columns, &mut bg);
            for ((d, b), ok) in line.iter_mut().zip(&bg).zip(ok) {
                *d = if *ok != 0 { *d - b } else { 0.0 };
            }
        });
        let sigma = robust_sigma(sample_valid(&delta, &valid, 7))?.max(1e-4);
        mask_bright_defects(&mut delta, &mut valid, width, rows, -params.bright_defect_sigma * sigma);
        Some(BandImage { width, rows, first_row, first_column: 0, plate_width: width, plate_height, scan, delta, valid, background, sigma })
    }

    /// A copy of columns c0..=c1 and rows r0..=r1 (band coordinates, inside the band) as a band
    /// of its own, without the scan values (see [`BandImage::rescan`]): for searches on a
    /// modified image (deblending).
    pub fn window(&self, c0: usize, c1: usize, r0: usize, r1: usize) -> BandImage {
        let (width, rows) = (c1 - c0 + 1, r1 - r0 + 1);
        let mut delta = Vec::with_capacity(width * rows);
        let mut valid = Vec::with_capacity(width * rows);
        for r in r0..=r1 {
            delta.extend_from_slice(&self.delta[r * self.width + c0..=r * self.width + c1]);
            valid.extend_from_slice(&self.valid[r * self.width + c0..=r * self.width + c1]);
        }
        BandImage {
            width,
            rows,
            first_row: self.first_row + r0,
            first_column: self.first_column + c0,
            plate_width: self.plate_width,
            plate_height: self.plate_height,
            scan: Vec::new(),
            delta,
            valid,
            background: self.background.window(c0, r0),
            sigma: self.sigma,
        }
    }

    /// Scan values from the (modified) densities: value = 16383 · 10^(−(ΔD + background)); masked
    /// pixels are NaN.
    pub fn rescan(&mut self) {
        self.scan = (0..self.rows * self.width)
            .map(|index| {
                let (r, c) = (index / self.width, index % self.width);
                if self.valid[index] == 0 {
                    return f32::NAN;
                }
                let density = self.delta[index] + self.background.at(c as f64, r as f64);
                SCAN_MAX * 10f32.powf(-density)
            })
            .collect();
    }

    #[inline]
    pub fn delta_at(&self, c: usize, r: usize) -> f32 {
        self.delta[r * self.width + c]
    }

    #[inline]
    pub fn is_valid(&self, c: usize, r: usize) -> bool {
        self.valid[r * self.width + c] != 0
    }

    /// The blurred image (separable Gaussian, renormalised at the band's edges).
    pub fn blurred(&self, params: &PipelineParams) -> Vec<f32> {
        let (width, rows) = (self.width, self.rows);
        let kx = gaussian_kernel(params.blur_sigma_x);
        let ky = gaussian_kernel(params.blur_sigma_y);
        let (hx, hy) = (kx.len() / 2, ky.len() / 2);
        // Across the dispersion first (a few taps), row by row.
        let mut across = vec![0.0f32; width * rows];
        across.par_chunks_mut(width).zip(self.delta.par_chunks(width)).for_each(|(out, line)| {
            for (c, value) in out.iter_mut().enumerate() {
                let lo = c.saturating_sub(hx);
                let hi = (c + hx).min(width - 1);
                let mut sum = 0.0f32;
                let mut norm = 0.0f32;
                for (source, w) in line[lo..=hi].iter().zip(&kx[lo + hx - c..]) {
                    sum += w * source;
                    norm += w;
                }
                *value = sum / norm;
            }
        });
        // Along the dispersion: each output row is a weighted sum of whole input rows.
        let mut blurred = vec![0.0f32; width * rows];
        blurred.par_chunks_mut(width).enumerate().for_each(|(r, out)| {
            let lo = r.saturating_sub(hy);
            let hi = (r + hy).min(rows - 1);
            let mut norm = 0.0f32;
            for source in lo..=hi {
                let w = ky[source + hy - r];
                norm += w;
                let line = &across[source * width..(source + 1) * width];
                for (o, v) in out.iter_mut().zip(line) {
                    *o += w * v;
                }
            }
            let inverse = 1.0 / norm;
            for o in out.iter_mut() {
                *o *= inverse;
            }
        });
        blurred
    }

    /// The adaptive mean threshold of the blurred image: foreground (1) where blurred − block
    /// mean > threshold_sigma · σ(blurred − block mean). Returns the mask, the excess
    /// (blurred − block mean) and its σ.
    pub fn threshold(&self, blurred: &[f32], params: &PipelineParams) -> (Vec<u8>, Vec<f32>, f32) {
        let (width, rows) = (self.width, self.rows);
        let half = params.threshold_block / 2;
        let mut excess = vec![0.0f32; width * rows];
        const CHUNK: usize = 64;
        excess.par_chunks_mut(width * CHUNK).enumerate().for_each(|(chunk, out)| {
            let first = chunk * CHUNK;
            let last = (first + CHUNK).min(rows);
            // Column sums over the rows [r - half, r + half] ∩ band, kept as the row moves.
            let mut columns = vec![0.0f64; width];
            let (mut lo, mut hi) = (first.saturating_sub(half), first.saturating_sub(half));
            let mut prefix = vec![0.0f64; width + 1];
            for r in first..last {
                let want_lo = r.saturating_sub(half);
                let want_hi = (r + half + 1).min(rows);
                while hi < want_hi {
                    for (s, v) in columns.iter_mut().zip(&blurred[hi * width..(hi + 1) * width]) {
                        *s += *v as f64;
                    }
                    hi += 1;
                }
                while lo < want_lo {
                    for (s, v) in columns.iter_mut().zip(&blurred[lo * width..(lo + 1) * width]) {
                        *s -= *v as f64;
                    }
                    lo += 1;
                }
                let n_rows = (hi - lo) as f64;
                for c in 0..width {
                    prefix[c + 1] = prefix[c] + columns[c];
                }
                let line = &blurred[r * width..(r + 1) * width];
                let out_line = &mut out[(r - first) * width..(r - first + 1) * width];
                for c in 0..width {
                    let a = c.saturating_sub(half);
                    let b = (c + half + 1).min(width);
                    let mean = (prefix[b] - prefix[a]) / (n_rows * (b - a) as f64);
                    out_line[c] = line[c] - mean as f32;
                }
            }
        });
        let sigma = robust_sigma(sample_valid(&excess, &self.valid, 5)).unwrap_or(f32::INFINITY).max(1e-6);
        let limit = params.threshold_sigma as f32 * sigma;
        // Also foreground: well above the background itself. The block mean is raised by bright
        // neighbours a few pixels away, which would hide a fainter trace between them.
        let blurred_sigma = robust_sigma(sample_valid(blurred, &self.valid, 5)).unwrap_or(f32::INFINITY).max(1e-6);
        let absolute = params.absolute_sigma as f32 * blurred_sigma;
        let mask = excess
            .par_iter()
            .zip(blurred.par_iter())
            .zip(self.valid.par_iter())
            .map(|((e, b), ok)| (*ok != 0 && (*e > limit || *b > absolute)) as u8)
            .collect();
        (mask, excess, sigma)
    }
}

/// Normalised Gaussian kernel of radius ceil(3σ) (at least 1).
pub fn gaussian_kernel(sigma: f64) -> Vec<f32> {
    let radius = (3.0 * sigma).ceil().max(1.0) as i64;
    let weights: Vec<f64> = (-radius..=radius).map(|d| (-0.5 * (d as f64 / sigma).powi(2)).exp()).collect();
    let norm: f64 = weights.iter().sum();
    weights.iter().map(|w| (w / norm) as f32).collect()
}

/// Masks the black plate-holder corners: in each row, a run of at least `dark_min_run` pixels
/// darker than `dark_level` that starts at the left or right edge of the scan, widened by
/// `mask_margin` pixels in x and y.
fn mask_plate_holder(scan: &[f32], valid: &mut [u8], width: usize, rows: usize, params: &PipelineParams) {
    let dark = |v: f32| !v.is_finite() || v < params.dark_level;
    let runs: Vec<(usize, usize)> = scan
        .chunks(width)
        .map(|line| {
            let left = line.iter().take_while(|v| dark(**v)).count();
            let right = if left == width { 0 } else { line.iter().rev().take_while(|v| dark(**v)).count() };
            let keep = |n: usize| if n >= params.dark_min_run { n + params.mask_margin } else { 0 };
            (keep(left), keep(right))
        })
        .collect();
    if runs.iter().all(|(a, b)| *a == 0 && *b == 0) {
        return;
    }
    let m = params.mask_margin;
    for r in 0..rows {
        let (mut left, mut right) = (0usize, 0usize);
        for &(a, b) in &runs[r.saturating_sub(m)..=(r + m).min(rows - 1)] {
            left = left.max(a);
            right = right.max(b);
        }
        let line = &mut valid[r * width..(r + 1) * width];
        for v in line.iter_mut().take(left.min(width)) {
            *v = 0;
        }
        for v in line.iter_mut().rev().take(right.min(width)) {
            *v = 0;
        }
    }
}

/// Masks pixels whose ΔD lies below `limit` (scratches: clearer than clear plate), with a one
/// pixel margin, and sets their ΔD to 0.
fn mask_bright_defects(delta: &mut [f32], valid: &mut [u8], width: usize, rows: usize, limit: f32) {
    let hits: Vec<usize> = delta.iter().enumerate().filter(|(_, d)| **d < limit).map(|(i, _)| i).collect();
    for i in hits {
        let (c, r) = (i % width, i / width);
        for rr in r.saturating_sub(1)..=(r + 1).min(rows - 1) {
            for cc in c.saturating_sub(1)..=(c + 1).min(width - 1) {
                valid[rr * width + cc] = 0;
                delta[rr * width + cc] = 0.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn density_matches_the_definition() {
        assert_eq!(density(16383.0), 0.0);
        assert!((density(1638.3) - 1.0).abs() < 1e-5);
        assert!((density(1638.0) - (16383.0f32 / 1638.0).log10()).abs() < 1e-6);
        assert!(density(0.0) > 4.0 && density(-5.0).is_finite());
    }

    #[test]
    fn flat_band_has_zero_delta_and_a_noise_estimate() {
        let width = 200;
        let rows = 150;
        // A deterministic "noise" pattern around 14000.
        let scan: Vec<f32> = (0..width * rows).map(|i| 14000.0 + ((i * 7919) % 201) as f32 - 100.0).collect();
        let band = BandImage::prepare(scan, width, 0, rows, &PipelineParams::default()).unwrap();
        let mean: f32 = band.delta.iter().sum::<f32>() / band.delta.len() as f32;
        assert!(mean.abs() < 1e-3, "{mean}");
        assert!(band.sigma > 0.0 && band.sigma < 0.01, "{}", band.sigma);
        assert!(band.valid.iter().all(|v| *v == 1));
    }

    #[test]
    fn corners_are_masked_and_nan_bands_refused() {
        let (width, rows) = (120, 60);
        let mut scan = vec![14000.0f32; width * rows];
        for r in 0..rows {
            for c in 0..width {
                if c + r < 40 {
                    scan[r * width + c] = 600.0;
                }
            }
        }
        let band = BandImage::prepare(scan, width, 0, rows, &PipelineParams::default()).unwrap();
        assert!(!band.is_valid(0, 0) && !band.is_valid(30, 5) && !band.is_valid(40, 1));
        assert!(band.is_valid(80, 30) && band.is_valid(119, 0));
        assert!(BandImage::prepare(vec![f32::NAN; width * rows], width, 0, rows, &PipelineParams::default()).is_none());
    }

    #[test]
    fn the_blur_keeps_a_constant_image() {
        let (width, rows) = (40, 70);
        let band = BandImage {
            width,
            rows,
            first_row: 0,
            first_column: 0,
            plate_width: width,
            plate_height: rows,
            scan: vec![1.0; width * rows],
            delta: vec![0.25; width * rows],
            valid: vec![1; width * rows],
            background: BackgroundGrid { origin: (0.0, 0.0), cell: 64, nx: 1, ny: 1, width, rows, values: vec![0.0] },
            sigma: 0.01,
        };
        let blurred = band.blurred(&PipelineParams::default());
        assert!(blurred.iter().all(|v| (v - 0.25).abs() < 1e-5));
    }
}
