//! Plate defects: dust grains and hairs (dark on the scan) and emulsion scratches (bright).
//! They are listed in the truth so the pipeline's false detections on defects can be counted.

use super::plate::PlateSpec;
use super::random::SimRng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefectKind {
    /// A dark blob of a few pixels.
    Dust,
    /// A dark curved-free thin line (a fibre), tens to hundreds of pixels.
    Hair,
    /// A bright thin line where the emulsion is scratched off, hundreds of pixels.
    Scratch,
}

/// One defect: a blob (dust) or a segment (hair, scratch) of the given half-width, with the
/// density it adds (negative for scratches).
#[derive(Debug, Clone)]
pub struct Defect {
    pub number: u32,
    pub kind: DefectKind,
    /// FITS pixels (1-based) of the ends; equal for dust.
    pub start: (f64, f64),
    pub end: (f64, f64),
    pub half_width: f64,
    pub density: f64,
}

impl Defect {
    /// Bounding box (FITS pixels, inclusive): x_min, y_min, x_max, y_max.
    pub fn bbox(&self) -> [i64; 4] {
        let pad = self.half_width + 1.0;
        [
            (self.start.0.min(self.end.0) - pad).floor() as i64,
            (self.start.1.min(self.end.1) - pad).floor() as i64,
            (self.start.0.max(self.end.0) + pad).ceil() as i64,
            (self.start.1.max(self.end.1) + pad).ceil() as i64,
        ]
    }

    /// Adds this defect's density to rows first_row..first_row+rows (0-based) of a band.
    pub fn add_density(&self, first_row: usize, rows: usize, width: usize, density: &mut [f32]) {
        let [x0, y0, x1, y1] = self.bbox();
        let y_low = (first_row + 1) as i64;
        let y_high = (first_row + rows) as i64;
        if y1 < y_low || y0 > y_high {
            return;
        }
        let (ax, ay) = self.start;
        let (bx, by) = self.end;
        let (dx, dy) = (bx - ax, by - ay);
        let length2 = dx * dx + dy * dy;
        for y in y0.max(y_low)..=y1.min(y_high) {
            for x in x0.max(1)..=x1.min(width as i64) {
                let (px, py) = (x as f64, y as f64);
                // Distance to the segment.
                let t = if length2 > 0.0 { (((px - ax) * dx + (py - ay) * dy) / length2).clamp(0.0, 1.0) } else { 0.0 };
                let distance = (px - (ax + t * dx)).hypot(py - (ay + t * dy));
                // A soft edge one pixel wide.
                let weight = (self.half_width + 0.5 - distance).clamp(0.0, 1.0);
                if weight > 0.0 {
                    let index = (y - y_low) as usize * width + (x - 1) as usize;
                    density[index] += (self.density * weight) as f32;
                }
            }
        }
    }
}

/// Draws the defects of a plate: per full plate (92 megapixels) about 250 dust grains, 12
/// hairs and 6 scratches, in proportion to the area [inferred].
pub fn draw_defects(plate: &PlateSpec) -> Vec<Defect> {
    let mut rng = SimRng::for_plate(plate.seed, plate.index, 0x4445_4645);
    let area = plate.width as f64 * plate.height as f64 / 92.2e6;
    let poisson_like = |mean: f64, rng: &mut SimRng| -> usize {
        (mean + mean.sqrt() * rng.normal()).round().max(0.0) as usize
    };
    let dust = poisson_like(250.0 * area, &mut rng);
    let hairs = poisson_like(12.0 * area, &mut rng);
    let scratches = poisson_like(6.0 * area, &mut rng);
    let mut defects = Vec::new();
    let mut number = 0;
    let (w, h) = (plate.width as f64, plate.height as f64);
    for _ in 0..dust {
        number += 1;
        let x = rng.range(1.0, w);
        let y = rng.range(1.0, h);
        // Some grains are elongated.
        let (ex, ey) = if rng.chance(0.3) { (rng.range(-3.0, 3.0), rng.range(-3.0, 3.0)) } else { (0.0, 0.0) };
        defects.push(Defect {
            number,
            kind: DefectKind::Dust,
            start: (x, y),
            end: (x + ex, y + ey),
            half_width: rng.range(0.6, 3.5),
            density: rng.range(0.15, 1.5),
        });
    }
    let mut segment = |kind: DefectKind, length: (f64, f64), half_width: (f64, f64), density: (f64, f64), rng: &mut SimRng| {
        number += 1;
        let x = rng.range(1.0, w);
        let y = rng.range(1.0, h);
        let length = rng.range(length.0, length.1);
        let angle = rng.range(0.0, std::f64::consts::PI);
        defects.push(Defect {
            number,
            kind,
            start: (x, y),
            end: (x + length * angle.cos(), y + length * angle.sin()),
            half_width: rng.range(half_width.0, half_width.1),
            density: rng.range(density.0, density.1),
        });
    };
    for _ in 0..hairs {
        segment(DefectKind::Hair, (40.0, 400.0), (0.4, 1.2), (0.2, 0.8), &mut rng);
    }
    // A scratch removes the emulsion: a large negative density, clipped to the base's fog.
    for _ in 0..scratches {
        segment(DefectKind::Scratch, (200.0, 2000.0), (0.3, 1.0), (-2.0, -2.0), &mut rng);
    }
    defects
}
