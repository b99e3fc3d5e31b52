//! Connected regions of the thresholded band and their outer contours.
//!
//! The regions are found as runs of foreground pixels per row, joined across rows by a
//! union-find (8-connectivity: runs touching diagonally belong together), which is one pass over
//! the mask and needs memory only for the runs. The outer contour of each region is then traced
//! with Theo Pavlidis' algorithm (T. Pavlidis, *Algorithms for Graphics and Image Processing*,
//! Computer Science Press, 1982, ch. 7; the form described in G. Ghuneim's *Contour Tracing*
//! tutorial): standing on a boundary pixel and facing a direction, look at the three pixels in
//! front (front-left P1, front P2, front-right P3); step to P1 and turn left if it is set, else
//! to P2, else to P3, else turn right (three right turns in a row: an isolated pixel). Started
//! on the region's top-left pixel facing up (its left and upper neighbours are background, the
//! condition for a correct trace), it follows the outer boundary of an 8-connected region; it
//! stops when it re-enters its first state (Jacob's stopping criterion), with a step limit as a
//! guard. The contour gives the region's bounding rectangle (as in the earlier pipelines) and
//! its perimeter.

/// A run of foreground pixels: row and inclusive column range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub row: u32,
    pub c0: u32,
    pub c1: u32,
}

/// One connected region.
#[derive(Debug, Clone)]
pub struct Region {
    /// Runs in raster order (row, then column).
    pub runs: Vec<Run>,
    /// Bounding rectangle from the contour: c0, r0, c1, r1 (band coordinates, inclusive).
    pub bbox: [usize; 4],
    pub area: usize,
    /// Steps of the traced outer contour.
    pub perimeter: usize,
}

impl Region {
    pub fn height(&self) -> usize {
        self.bbox[3] - self.bbox[1] + 1
    }
    pub fn width(&self) -> usize {
        self.bbox[2] - self.bbox[0] + 1
    }
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let grand = parent[parent[i as usize] as usize];
        parent[i as usize] = grand;
        i = grand;
    }
    i
}

/// Runs of the mask, row by row.
fn runs_of(mask: &[u8], width: usize, rows: usize) -> Vec<Run> {
    let mut runs = Vec::new();
    for r in 0..rows {
        let line = &mask[r * width..(r + 1) * width];
        let mut c = 0;
        while c < width {
            if line[c] != 0 {
                let start = c;
                while c < width && line[c] != 0 {
                    c += 1;
                }
                runs.push(Run { row: r as u32, c0: start as u32, c1: (c - 1) as u32 });
            } else {
                c += 1;
            }
        }
    }
    runs
}

/// The 8-connected regions of `mask` at least `min_height` rows tall, each with its contour
/// traced (Pavlidis) for the bounding rectangle and perimeter. Regions come in raster order of
/// their top-left pixel (deterministic).
pub fn regions(mask: &[u8], width: usize, rows: usize, min_height: usize) -> Vec<Region> {
    let runs = runs_of(mask, width, rows);
    let mut parent: Vec<u32> = (0..runs.len() as u32).collect();
    // Join runs with the runs of the previous row they touch (8-connectivity).
    let mut previous = 0..0;
    let mut index = 0;
    while index < runs.len() {
        let row = runs[index].row;
        let start = index;
        while index < runs.len() && runs[index].row == row {
            index += 1;
        }
        if previous.end > previous.start && runs[previous.start].row + 1 == row {
            let mut p = previous.start;
            for i in start..index {
                let b = runs[i];
                while p < previous.end && runs[p].c1 + 1 < b.c0 {
                    p += 1;
                }
                let mut q = p;
                while q < previous.end && runs[q].c0 <= b.c1 + 1 {
                    let (x, y) = (find(&mut parent, q as u32), find(&mut parent, i as u32));
                    if x != y {
                        // Keep the earlier run as the root (its region's top-left pixel).
                        let (low, high) = if x < y { (x, y) } else { (y, x) };
                        parent[high as usize] = low;
                    }
                    q += 1;
                }
            }
        }
        previous = start..index;
    }
    // Gather runs per root, in the order of the roots (raster order of top-left pixels).
    let mut slot = vec![u32::MAX; runs.len()];
    let mut groups: Vec<Vec<Run>> = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let root = find(&mut parent, i as u32) as usize;
        if slot[root] == u32::MAX {
            slot[root] = groups.len() as u32;
            groups.push(Vec::new());
        }
        groups[slot[root] as usize].push(*run);
    }
    groups
        .into_iter()
        .filter_map(|runs| {
            let (r0, r1) = (runs[0].row as usize, runs[runs.len() - 1].row as usize);
            if r1 - r0 + 1 < min_height {
                return None;
            }
            let area = runs.iter().map(|r| (r.c1 - r.c0 + 1) as usize).sum();
            let (bbox, perimeter) = trace_contour(mask, width, rows, (runs[0].c0 as usize, r0), area);
            Some(Region { runs, bbox, area, perimeter })
        })
        .collect()
}

/// Directions clockwise on the screen (rows grow downward): up, right, down, left.
const STEPS: [(i64, i64); 4] = [(0, -1), (1, 0), (0, 1), (-1, 0)];

/// Traces the outer contour of the region whose top-left pixel is `start` (Pavlidis). Returns
/// its bounding rectangle [c0, r0, c1, r1] and the number of steps.
pub fn trace_contour(mask: &[u8], width: usize, rows: usize, start: (usize, usize), area: usize) -> ([usize; 4], usize) {
    let set = |c: i64, r: i64| c >= 0 && r >= 0 && (c as usize) < width && (r as usize) < rows && mask[r as usize * width + c as usize] != 0;
    let (mut c, mut r) = (start.0 as i64, start.1 as i64);
    let mut facing = 0usize; // up: the start's left neighbour is background
    let mut bbox = [start.0, start.1, start.0, start.1];
    let mut steps = 0usize;
    let mut turns = 0;
    let mut first_state: Option<(i64, i64, usize)> = None;
    let limit = 4 * area + 16;
    loop {
        let (fx, fy) = STEPS[facing];
        let (lx, ly) = STEPS[(facing + 3) % 4];
        let (rx, ry) = STEPS[(facing + 1) % 4];
        let p1 = (c + fx + lx, r + fy + ly);
        let p2 = (c + fx, r + fy);
        let p3 = (c + fx + rx, r + fy + ry);
        if set(p1.0, p1.1) {
            (c, r) = p1;
            facing = (facing + 3) % 4;
        } else if set(p2.0, p2.1) {
            (c, r) = p2;
        } else if set(p3.0, p3.1) {
            (c, r) = p3;
        } else {
            facing = (facing + 1) % 4;
            turns += 1;
            if turns > 3 {
                break; // an isolated pixel
            }
            continue;
        }
        turns = 0;
        steps += 1;
        let state = (c, r, facing);
        match first_state {
            None => first_state = Some(state),
            Some(first) if first == state => {
                steps -= 1;
                break;
            }
            _ => {}
        }
        bbox[0] = bbox[0].min(c as usize);
        bbox[1] = bbox[1].min(r as usize);
        bbox[2] = bbox[2].max(c as usize);
        bbox[3] = bbox[3].max(r as usize);
        if steps > limit {
            break;
        }
    }
    (bbox, steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_bbox(runs: &[Run]) -> [usize; 4] {
        let mut b = [usize::MAX, usize::MAX, 0, 0];
        for run in runs {
            b[0] = b[0].min(run.c0 as usize);
            b[1] = b[1].min(run.row as usize);
            b[2] = b[2].max(run.c1 as usize);
            b[3] = b[3].max(run.row as usize);
        }
        b
    }

    #[test]
    fn contour_boxes_equal_region_boxes_on_random_blobs() {
        // Random masks of varied density: the traced rectangle must equal the region's.
        let mut state = 12345u64;
        for density in [0.25, 0.45, 0.6] {
            let (width, rows) = (37, 41);
            let mask: Vec<u8> = (0..width * rows)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (((state >> 33) as f64 / (1u64 << 31) as f64) < density) as u8
                })
                .collect();
            let found = regions(&mask, width, rows, 1);
            let total: usize = found.iter().map(|r| r.area).sum();
            assert_eq!(total, mask.iter().filter(|v| **v != 0).count());
            for region in &found {
                assert_eq!(region.bbox, run_bbox(&region.runs), "density {density}");
            }
        }
    }

    #[test]
    fn a_vertical_bar_and_a_diagonal() {
        let (width, rows) = (10, 30);
        let mut mask = vec![0u8; width * rows];
        for r in 2..27 {
            mask[r * width + 3] = 1;
            mask[r * width + 4] = 1;
        }
        for i in 0..4 {
            mask[(i + 1) * width + 9 - i] = 1; // diagonal: 8-connected only
        }
        let found = regions(&mask, width, rows, 1);
        assert_eq!(found.len(), 2);
        let bar = found.iter().find(|r| r.bbox[0] == 3).unwrap();
        assert_eq!(bar.bbox, [3, 2, 4, 26]);
        assert_eq!(bar.area, 50);
        assert!(bar.perimeter >= 48 && bar.perimeter <= 52, "{}", bar.perimeter);
        let diagonal = found.iter().find(|r| r.bbox[0] == 6).unwrap();
        assert_eq!(diagonal.bbox, [6, 1, 9, 4]);
        assert_eq!(regions(&mask, width, rows, 20).len(), 1);
        // A lone pixel.
        let mut single = vec![0u8; 9];
        single[4] = 1;
        let found = regions(&single, 3, 3, 1);
        assert_eq!(found[0].bbox, [1, 1, 1, 1]);
        assert_eq!(found[0].perimeter, 0);
    }
}
