//! Photometric calibration of a plate against a reference catalogue, and the plate's limiting
//! magnitude measured from it.
//!
//! A photographic plate has no zero point of its own: the density a star leaves depends on the
//! exposure, the sky, the emulsion's batch and its development, and the characteristic curve
//! bends at both ends. The classical remedy (e.g. the APPLAUSE and DASCH plate archives) is to
//! match the plate's objects with a catalogue of known magnitudes and fit the instrumental
//! magnitude against the catalogue's, plate by plate. Here:
//!
//! 1. every reference object within [`MATCH_RADIUS_ARCSEC`] of an extracted spectrum is a pair;
//! 2. the pairs of unblended spectra (quality OK) with a B-band instrumental magnitude are
//!    binned by instrumental magnitude ([`BIN_WIDTH`] mag) and each bin with at least
//!    [`MIN_BIN_PAIRS`] pairs gives a node (median instrumental, median B − instrumental);
//!    the correction is linear between nodes and constant beyond them. Medians make the fit
//!    robust to mismatches and to objects whose colour is far from the catalogue's typical
//!    one; binning by the measured magnitude makes it the regression of B on what is measured,
//!    so it is unbiased near the plate limit, where noise scatters faint objects both ways;
//! 3. the limiting magnitude is where the fraction of reference objects on the plate that have
//!    a spectrum falls to one half (the 50 % completeness limit), from a running window of
//!    [`COMPLETENESS_WINDOW`] mag. It needs a catalogue deeper than the plate.
//!
//! The catalogue is a CSV file with a header naming right ascension, declination (degrees,
//! ICRS) and the B magnitude; any B catalogue works (e.g. B synthesised from Gaia DR3 XP
//! spectra, or APASS); the simulator writes one per plate (`*.ref.csv`).

use std::collections::HashMap;

use super::evaluate::{median, robust_location_scale, separation_arcsec};

/// Pairs and detections closer than this are the same object (arcsec; the plate's anchors are
/// good to about 1", DFBS.md gives 1.54"/pixel).
pub const MATCH_RADIUS_ARCSEC: f64 = 3.0;
/// Width of the instrumental-magnitude bins of the calibration curve (mag).
pub const BIN_WIDTH: f64 = 0.5;
/// A bin needs this many pairs to give a node.
pub const MIN_BIN_PAIRS: usize = 8;
/// Width of the running window of the completeness curve (mag), and its step.
pub const COMPLETENESS_WINDOW: f64 = 0.3;
const COMPLETENESS_STEP: f64 = 0.05;
/// A window needs this many reference objects.
const MIN_WINDOW_REFERENCES: usize = 20;
/// B − R of the reference objects the completeness limit counts when the catalogue gives R:
/// the colours of F-K stars (Johnson-Cousins B − R about 0.5 at F0 to 1.4 at K0), the
/// "ordinary stars" a plate limit is quoted for, so that the limit does not depend on how many
/// blue or red objects the field holds (a hot subdwarf of the same B leaves a fainter trace on
/// a red-sensitive emulsion, an M star a brighter one).
pub const LIMIT_COLOURS: std::ops::RangeInclusive<f64> = 0.4..=1.4;
/// A reference file larger than this is refused (bytes): cut the catalogue to the plates'
/// fields first.
pub const MAX_REFERENCE_BYTES: u64 = 512 << 20;

/// One object of the reference catalogue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reference {
    pub ra: f64,
    pub dec: f64,
    pub mag_b: f64,
    /// B − R, when the catalogue gives R.
    pub colour: Option<f64>,
}

/// What the calibration sees of one extracted spectrum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub ra: f64,
    pub dec: f64,
    /// B-band instrumental magnitude (None: too faint in B to measure).
    pub instrumental_b: Option<f64>,
    /// R-band instrumental magnitude (None: too faint in R to measure).
    pub instrumental_r: Option<f64>,
    /// Unblended (quality OK): only these enter the fit.
    pub clean: bool,
}

/// A plate's photometric calibration.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Calibration {
    /// The B band's curve (its nodes, pairs and scatter sit at the top level of the JSON).
    #[serde(flatten)]
    pub b_band: Curve,
    /// 50 % completeness limit in B; None when the catalogue is not deep enough to show it.
    pub limit: Option<f64>,
    /// Reference objects on the plate.
    pub references_on_plate: usize,
    /// Those the completeness curve counted (of F-K colours, [`LIMIT_COLOURS`], when the
    /// catalogue gives colours; else all).
    pub limit_references: usize,
    /// The R band's curve, when the catalogue gives R and enough pairs match.
    pub r_band: Option<Curve>,
}

impl Calibration {
    /// The calibrated B magnitude of an instrumental one.
    pub fn apply(&self, instrumental: f64) -> f64 {
        self.b_band.apply(instrumental)
    }

    /// The calibrated R magnitude of an instrumental one; None without an R curve.
    pub fn apply_r(&self, instrumental: f64) -> Option<f64> {
        self.r_band.as_ref().map(|c| c.apply(instrumental))
    }
}

/// The catalogue's `magb` and `magr` of a spectrum's instrumental B and R magnitudes: each
/// calibrated by its band's curve where the plate has one, else instrumental; None where the
/// band was too faint to measure (or the value is not finite).
pub fn catalogue_magnitudes(calibration: Option<&Calibration>, b: Option<f64>, r: Option<f64>) -> (Option<f32>, Option<f32>) {
    let finite = |v: f64| Some(v as f32).filter(|v| v.is_finite());
    let magb = b.and_then(|b| finite(calibration.map_or(b, |c| c.apply(b))));
    let magr = r.and_then(|r| finite(calibration.and_then(|c| c.apply_r(r)).unwrap_or(r)));
    (magb, magr)
}

/// Linear interpolation in `nodes` (sorted by x), constant beyond the ends.
fn interpolate(nodes: &[(f64, f64)], x: f64) -> f64 {
    match nodes {
        [] => 0.0,
        [only] => only.1,
        _ => {
            let i = nodes.partition_point(|n| n.0 < x);
            if i == 0 {
                return nodes[0].1;
            }
            if i == nodes.len() {
                return nodes[nodes.len() - 1].1;
            }
            let (a, b) = (nodes[i - 1], nodes[i]);
            a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0)
        }
    }
}

/// Points in cells of about the match radius, for matching without a search tree: bands of
/// declination `cell_deg` high, each cut into RA cells `cell_deg / cos(dec)` wide with the cos
/// of the band's edge nearer the pole, the same for every point of the band. (Scaling each
/// point's RA by its own cos(dec) would not do: near the pole a 1" step in declination moves
/// RA × cos(dec) by RA × sin(dec) × 1", seconds of arc at RA 300°.)
struct Grid {
    cell_deg: f64,
    cells: HashMap<(i64, i64), Vec<usize>>,
}

impl Grid {
    fn band(&self, dec: f64) -> i64 {
        (dec / self.cell_deg).floor() as i64
    }

    /// RA cell width of declination band `band` (degrees of RA).
    fn ra_width(&self, band: i64) -> f64 {
        let (low, high) = (band as f64 * self.cell_deg, (band + 1) as f64 * self.cell_deg);
        let polemost = low.abs().max(high.abs()).min(90.0);
        let width = self.cell_deg / polemost.to_radians().cos();
        // Bands at the pole (and next to it) are one cell: every RA is near.
        if width.is_finite() && width <= 120.0 { width } else { 360.0 }
    }

    fn new(points: impl Iterator<Item = (f64, f64)>) -> Grid {
        let mut grid = Grid { cell_deg: MATCH_RADIUS_ARCSEC / 3600.0, cells: HashMap::new() };
        for (i, (ra, dec)) in points.enumerate() {
            let band = grid.band(dec);
            let key = ((ra.rem_euclid(360.0) / grid.ra_width(band)).floor() as i64, band);
            grid.cells.entry(key).or_default().push(i);
        }
        grid
    }

    /// Candidates near (ra, dec): the neighbouring cells in its band and the two next to it,
    /// across the RA wrap at 0/360.
    fn near(&self, ra: f64, dec: f64) -> impl Iterator<Item = usize> + '_ {
        let mut keys = Vec::with_capacity(27);
        let band = self.band(dec);
        for b in band - 1..=band + 1 {
            let width = self.ra_width(b);
            let cells = (360.0 / width).ceil() as i64;
            let k = (ra.rem_euclid(360.0) / width).floor() as i64;
            for dk in -1..=1 {
                // The last cell of a band may be narrower: wrap to its neighbours by count.
                keys.push(((k + dk).rem_euclid(cells.max(1)), b));
            }
        }
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter().filter_map(|k| self.cells.get(&k)).flatten().copied()
    }
}

/// For each reference, the nearest spectrum within [`MATCH_RADIUS_ARCSEC`].
fn match_references(measured: &[Measured], references: &[Reference]) -> Vec<Option<usize>> {
    let grid = Grid::new(measured.iter().map(|m| (m.ra, m.dec)));
    references
        .iter()
        .map(|r| {
            grid.near(r.ra, r.dec)
                .map(|i| (i, separation_arcsec(r.ra, r.dec, measured[i].ra, measured[i].dec)))
                .filter(|&(_, d)| d <= MATCH_RADIUS_ARCSEC)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| i)
        })
        .collect()
}

/// The calibration of a plate whose spectra are `measured`, from the reference objects that
/// lie on it (`references`: those whose traces would fall wholly on the plate; the caller
/// decides with the plate's WCS). Errors say why no calibration is possible.
pub fn calibrate(measured: &[Measured], references: &[Reference]) -> Result<Calibration, String> {
    let matches = match_references(measured, references);
    let pairs = |instrumental: &dyn Fn(&Measured) -> Option<f64>, catalogue: &dyn Fn(&Reference) -> Option<f64>| {
        matches
            .iter()
            .zip(references)
            .filter_map(|(m, r)| {
                let m = &measured[(*m)?];
                let x = instrumental(m).filter(|v| v.is_finite())?;
                let y = catalogue(r).filter(|v| v.is_finite())?;
                m.clean.then_some((x, y - x))
            })
            .collect::<Vec<(f64, f64)>>()
    };
    let b_pairs = pairs(&|m| m.instrumental_b, &|r| Some(r.mag_b));
    let matched = b_pairs.len();
    let Some(b_band) = Curve::fit(b_pairs) else {
        return Err(format!(
            "{matched} of {} reference objects match an unblended spectrum with a B magnitude: too few for a calibration curve \
             (it needs {MIN_BIN_PAIRS} in each of two {BIN_WIDTH}-mag bins); is the catalogue for this field, with B magnitudes?",
            references.len()
        ));
    };
    let r_band = Curve::fit(pairs(&|m| m.instrumental_r, &|r| r.colour.map(|c| r.mag_b - c)));
    // Counted for the limit: the F-K colours when the catalogue has colours for most objects.
    let coloured = references.iter().filter(|r| r.colour.is_some()).count();
    let counted = |r: &Reference| coloured * 2 < references.len() || r.colour.is_some_and(|c| LIMIT_COLOURS.contains(&c));
    let found: Vec<(f64, bool)> =
        references.iter().zip(&matches).filter(|(r, _)| counted(r)).map(|(r, m)| (r.mag_b, m.is_some())).collect();
    Ok(Calibration {
        b_band,
        limit_references: found.len(),
        limit: completeness_limit(found),
        references_on_plate: references.len(),
        r_band,
    })
}

/// A calibration curve of one band: catalogue − instrumental against instrumental.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Curve {
    /// (instrumental magnitude, catalogue − instrumental), by instrumental magnitude.
    pub nodes: Vec<(f64, f64)>,
    pub pairs: usize,
    /// Robust standard deviation (1.4826 × MAD) of catalogue − calibrated.
    pub rms: f64,
}

impl Curve {
    /// The curve through the binned medians of (instrumental, catalogue − instrumental) pairs;
    /// None with fewer than two bins of [`MIN_BIN_PAIRS`].
    fn fit(mut pairs: Vec<(f64, f64)>) -> Option<Curve> {
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut nodes = Vec::new();
        let mut start = 0;
        while start < pairs.len() {
            let low = (pairs[start].0 / BIN_WIDTH).floor() * BIN_WIDTH;
            let end = start + pairs[start..].partition_point(|p| p.0 < low + BIN_WIDTH);
            if end - start >= MIN_BIN_PAIRS {
                let xs: Vec<f64> = pairs[start..end].iter().map(|p| p.0).collect();
                let ys: Vec<f64> = pairs[start..end].iter().map(|p| p.1).collect();
                nodes.extend(median(&xs).zip(median(&ys)));
            }
            start = end;
        }
        if nodes.len() < 2 {
            return None;
        }
        let residuals: Vec<f64> = pairs.iter().map(|&(x, dy)| dy - interpolate(&nodes, x)).collect();
        let (_, rms) = robust_location_scale(&residuals)?;
        Some(Curve { nodes, pairs: pairs.len(), rms })
    }

    /// The calibrated magnitude of an instrumental one.
    pub fn apply(&self, instrumental: f64) -> f64 {
        instrumental + interpolate(&self.nodes, instrumental)
    }
}

/// The B magnitude where the fraction of reference objects found first falls to one half,
/// interpolated between the centres of running windows; None when the catalogue does not
/// reach that far.
fn completeness_limit(mut found: Vec<(f64, bool)>) -> Option<f64> {
    found.retain(|f| f.0.is_finite());
    found.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (first, last) = (found.first()?.0, found.last()?.0);
    let half = COMPLETENESS_WINDOW / 2.0;
    let fraction = |centre: f64| {
        let lo = found.partition_point(|f| f.0 < centre - half);
        let hi = found.partition_point(|f| f.0 < centre + half);
        let window = &found[lo..hi];
        (window.len() >= MIN_WINDOW_REFERENCES).then(|| window.iter().filter(|f| f.1).count() as f64 / window.len() as f64)
    };
    // From the faint end toward the bright: the last point where the curve is still above one
    // half, so that a dip among the few bright stars (saturated, blended) does not count.
    let mut previous: Option<(f64, f64)> = None;
    let steps = ((last - first) / COMPLETENESS_STEP).ceil() as usize;
    let mut fainter_below = false;
    for i in (0..=steps).rev() {
        let centre = first + i as f64 * COMPLETENESS_STEP;
        let Some(f) = fraction(centre) else { continue };
        if f >= 0.5 {
            if !fainter_below {
                return None;
            }
            let (c1, f1) = previous?;
            return Some(centre + (c1 - centre) * (f - 0.5) / (f - f1));
        }
        fainter_below = true;
        previous = Some((centre, f));
    }
    None
}

/// Column names accepted for the right ascension and the declination (degrees, ICRS).
const RA_NAMES: &[&str] = &["ra", "raj2000", "ra_icrs"];
const DEC_NAMES: &[&str] = &["dec", "dej2000", "de_icrs", "decj2000"];

/// A catalogue CSV: its header (lower case, quotes trimmed) and its data rows with their
/// 1-based line numbers; `#` comment lines and blank lines are skipped.
struct CatalogueCsv<'a> {
    header: Vec<String>,
    rows: Vec<(usize, Vec<&'a str>)>,
}

impl<'a> CatalogueCsv<'a> {
    fn parse(text: &'a str) -> CatalogueCsv<'a> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
        let header = lines
            .next()
            .map(|(_, h)| h.split(',').map(|h| h.trim().trim_matches('"').to_ascii_lowercase()).collect())
            .unwrap_or_default();
        let rows = lines.map(|(n, l)| (n + 1, l.split(',').map(|f| f.trim().trim_matches('"')).collect())).collect();
        CatalogueCsv { header, rows }
    }

    fn column(&self, names: &[&str]) -> Option<usize> {
        self.header.iter().position(|h| names.contains(&h.as_str()))
    }
}

fn field<'a>(fields: &[&'a str], i: usize) -> &'a str {
    fields.get(i).copied().unwrap_or("")
}

fn number(fields: &[&str], i: usize) -> Option<f64> {
    field(fields, i).parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The position of a row, when both are numbers in range.
fn position(fields: &[&str], ra: usize, dec: usize) -> Option<(f64, f64)> {
    match (number(fields, ra), number(fields, dec)) {
        (Some(r), Some(d)) if (0.0..360.0).contains(&r) && (-90.0..=90.0).contains(&d) => Some((r, d)),
        _ => None,
    }
}

/// Reads positions from a catalogue CSV with a header naming the right ascension (`ra`,
/// `raj2000`, `ra_icrs`) and the declination (`dec`, `dej2000`, `de_icrs`, `decj2000`) in
/// degrees (the seeded mode's catalogue); an unreadable row is an error naming its line.
pub fn read_positions_csv(text: &str) -> Result<Vec<(f64, f64)>, String> {
    let csv = CatalogueCsv::parse(text);
    let (Some(ra), Some(dec)) = (csv.column(RA_NAMES), csv.column(DEC_NAMES)) else {
        return Err("the header must name the columns ra and dec (degrees)".into());
    };
    csv.rows
        .iter()
        .map(|(line, fields)| position(fields, ra, dec).ok_or_else(|| format!("line {line}: ra and dec must be numbers in degrees")))
        .collect()
}

/// Reads a reference catalogue: a catalogue CSV (as [`read_positions_csv`]) that also names the
/// B magnitude (`mag_b`, `bmag`, `b`, `phot_b_mean_mag`), optionally the R magnitude (`mag_r`,
/// `rmag`, `r`) for the colour. Rows with an empty B are skipped (an empty R leaves the colour
/// unknown); anything else unreadable is an error naming the line.
pub fn read_reference_csv(text: &str) -> Result<Vec<Reference>, String> {
    let csv = CatalogueCsv::parse(text);
    let (Some(ra), Some(dec), Some(mag)) =
        (csv.column(RA_NAMES), csv.column(DEC_NAMES), csv.column(&["mag_b", "bmag", "b", "phot_b_mean_mag"]))
    else {
        return Err("the header must name the columns ra, dec (degrees, ICRS) and mag_b (B magnitude)".into());
    };
    let mag_r = csv.column(&["mag_r", "rmag", "r"]);
    let magnitude = |fields: &[&str], i: usize| number(fields, i).filter(|m| (-2.0..=30.0).contains(m));
    let mut references = Vec::new();
    for (line, fields) in &csv.rows {
        if field(fields, mag).is_empty() {
            continue;
        }
        let r_mag = match mag_r {
            Some(i) if !field(fields, i).is_empty() => {
                Some(magnitude(fields, i).ok_or_else(|| format!("line {line}: mag_r must be a magnitude or empty"))?)
            }
            _ => None,
        };
        match (position(fields, ra, dec), magnitude(fields, mag)) {
            (Some((ra, dec)), Some(mag_b)) => references.push(Reference { ra, dec, mag_b, colour: r_mag.map(|r| mag_b - r) }),
            _ => {
                return Err(format!("line {line}: ra and dec must be degrees (0 <= ra < 360, |dec| <= 90) and mag_b a magnitude"))
            }
        }
    }
    Ok(references)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plate-like field: stars on a 10" grid from B 12 to 19.5. The plate records a star when
    /// B < `limit` (all brighter, none fainter) with B − instrumental = `offset` + 0.3 for the
    /// saturated stars brighter than 13.
    fn field(limit: f64, offset: f64) -> (Vec<Reference>, Vec<Measured>) {
        let mut references = Vec::new();
        let mut measured = Vec::new();
        for i in 0..3000 {
            let (ra, dec) = (150.0 + (i % 60) as f64 * 10.0 / 3600.0, 30.0 + (i / 60) as f64 * 10.0 / 3600.0);
            let mag_b = 12.0 + 7.5 * (i as f64 * 0.618_034).fract();
            references.push(Reference { ra, dec, mag_b, colour: None });
            if mag_b < limit {
                let saturation = if mag_b < 13.0 { 0.3 * (13.0 - mag_b) } else { 0.0 };
                let instrumental = mag_b - offset + saturation;
                // Positions good to 1": the match must still find them.
                measured.push(Measured { ra: ra + 0.5 / 3600.0, dec: dec - 0.5 / 3600.0, instrumental_b: Some(instrumental), instrumental_r: None, clean: true });
            }
        }
        (references, measured)
    }

    #[test]
    fn the_curve_recovers_offset_and_saturation_and_the_limit() {
        let (references, measured) = field(17.6, 0.8);
        let calibration = calibrate(&measured, &references).unwrap();
        for b in [13.5, 15.0, 17.0] {
            let inst = b - 0.8;
            assert!((calibration.apply(inst) - b).abs() < 0.02, "B {b}: {}", calibration.apply(inst));
        }
        // Saturated: instrumental 12.3 for B 12 (0.3 mag too faint); the node medians follow it
        // to within the bin's curvature.
        assert!((calibration.apply(12.0 - 0.8 + 0.3) - 12.0).abs() < 0.15, "{:?}", calibration.b_band.nodes);
        assert!(calibration.b_band.rms < 0.1, "{}", calibration.b_band.rms);
        let limit = calibration.limit.unwrap();
        assert!((limit - 17.6).abs() < 0.05, "limit {limit}");
        assert_eq!(calibration.references_on_plate, 3000);
    }

    #[test]
    fn the_limit_counts_ordinary_colours_when_the_catalogue_has_them() {
        // Two objects in three are blue (B − R −0.5) and found only to B 16.6; the F-K stars
        // (B − R 0.9) to 17.6. Without colours the limit mixes both; with them it is the F-K
        // stars'.
        let (all, _) = field(99.0, 0.8);
        let mut references = Vec::new();
        let mut measured = Vec::new();
        for (i, r) in all.iter().enumerate() {
            let blue = i % 3 != 0;
            let colour = if blue { -0.5 } else { 0.9 };
            references.push(Reference { colour: Some(colour), ..*r });
            if r.mag_b < if blue { 16.6 } else { 17.6 } {
                measured.push(Measured { ra: r.ra, dec: r.dec, instrumental_b: Some(r.mag_b - 0.8), instrumental_r: Some(r.mag_b - colour + 0.3), clean: true });
            }
        }
        let calibration = calibrate(&measured, &references).unwrap();
        assert!((calibration.limit.unwrap() - 17.6).abs() < 0.05, "{:?}", calibration.limit);
        assert_eq!(calibration.limit_references, 1000);
        // R = B − colour, and the instrumental R is 0.3 fainter than R.
        let r = calibration.r_band.as_ref().expect("the catalogue gives R");
        assert!(r.pairs > 1000 && r.rms < 0.01, "{r:?}");
        assert!((calibration.apply_r(15.3).unwrap() - 15.0).abs() < 0.01);
        assert_eq!(calibrate(&measured, &references.iter().map(|r| Reference { colour: None, ..*r }).collect::<Vec<_>>()).unwrap().r_band, None);
        let colourless: Vec<Reference> = references.iter().map(|r| Reference { colour: None, ..*r }).collect();
        let mixed = calibrate(&measured, &colourless).unwrap().limit.unwrap();
        assert!((mixed - 16.6).abs() < 0.1, "{mixed}");
    }

    #[test]
    fn a_shallow_catalogue_gives_no_limit_and_too_few_pairs_an_error() {
        let (references, measured) = field(17.6, 0.8);
        let shallow: Vec<Reference> = references.iter().copied().filter(|r| r.mag_b < 16.0).collect();
        let calibration = calibrate(&measured, &shallow).unwrap();
        assert_eq!(calibration.limit, None);
        let few: Vec<Reference> = references.iter().copied().take(10).collect();
        let error = calibrate(&measured, &few).unwrap_err();
        assert!(error.contains("too few"), "{error}");
        // Blended or B-less spectra do not calibrate.
        let blended: Vec<Measured> = measured.iter().map(|m| Measured { clean: false, ..*m }).collect();
        assert!(calibrate(&blended, &references).is_err());
        let far: Vec<Measured> = measured.iter().map(|m| Measured { ra: m.ra + 5.0 / 3600.0, ..*m }).collect();
        assert!(calibrate(&far, &references).is_err(), "5\" away is not a match");
    }

    #[test]
    fn interpolation_is_linear_inside_and_flat_outside() {
        let nodes = [(13.0, -0.5), (15.0, 0.5)];
        assert_eq!(interpolate(&nodes, 14.0), 0.0);
        assert_eq!(interpolate(&nodes, 10.0), -0.5);
        assert_eq!(interpolate(&nodes, 20.0), 0.5);
        assert_eq!(interpolate(&[], 3.0), 0.0);
    }

    #[test]
    fn matching_works_near_the_pole() {
        // At dec 87 and RA 300, 1" in declination is 5" of RA × cos(dec): the pairs must still
        // match, and a point 4" away must not.
        let references = [Reference { ra: 300.0, dec: 87.0, mag_b: 15.0, colour: None }];
        let near = Measured { ra: 300.0 + 1.0 / 3600.0 / 87f64.to_radians().cos(), dec: 87.0 + 1.5 / 3600.0, instrumental_b: Some(15.0), instrumental_r: None, clean: true };
        assert_eq!(match_references(&[near], &references), vec![Some(0)]);
        let far = Measured { dec: 87.0 - 4.0 / 3600.0, ..near };
        assert_eq!(match_references(&[far], &references), vec![None]);
        // And at the pole itself.
        let pole = [Reference { ra: 10.0, dec: 89.9999, mag_b: 15.0, colour: None }];
        let across = Measured { ra: 190.0, dec: 89.9999, instrumental_b: Some(15.0), instrumental_r: None, clean: true };
        assert_eq!(match_references(&[across], &pole), vec![Some(0)], "0.72\" apart across the pole");
    }

    #[test]
    fn matching_crosses_ra_zero() {
        let references = [Reference { ra: 359.9999, dec: 10.0, mag_b: 15.0, colour: None }];
        let measured = [Measured { ra: 0.0002, dec: 10.0, instrumental_b: Some(15.0), instrumental_r: None, clean: true }];
        assert_eq!(match_references(&measured, &references), vec![Some(0)]);
    }

    #[test]
    fn reference_files_are_read_or_refused_with_the_line() {
        let text = "# from the simulator\nRA,Dec,mag_b\n10.5,20.25,15.125\n11,21,\n";
        assert_eq!(read_reference_csv(text).unwrap(), vec![Reference { ra: 10.5, dec: 20.25, mag_b: 15.125, colour: None }]);
        let coloured = read_reference_csv("ra,dec,mag_b,mag_r\n1,2,15.5,14.75\n1,2,15,\n").unwrap();
        assert_eq!(coloured.iter().map(|r| r.colour).collect::<Vec<_>>(), vec![Some(0.75), None]);
        assert!(read_reference_csv("ra,dec,mag_b,mag_r\n1,2,15,red\n").unwrap_err().contains("mag_r"));
        assert!(read_reference_csv("ra,dec\n1,2\n").unwrap_err().contains("mag_b"));
        assert!(read_reference_csv("ra,dec,bmag\n1,95,15\n").unwrap_err().contains("line 2"));
        assert!(read_reference_csv("ra,dec,bmag\n1,5,x\n").unwrap_err().contains("line 2"));
        assert!(read_reference_csv("# note\nra,dec,bmag\n1,5,x\n").unwrap_err().contains("line 3"), "the file's own line");
        assert_eq!(read_positions_csv("RAJ2000,DEJ2000\n10,20\n").unwrap(), vec![(10.0, 20.0)]);
        assert!(read_positions_csv("ra,dec\n10,95\n").unwrap_err().contains("line 2"));
        assert!(read_reference_csv("").is_err());
    }
}
