//! `dfbs-vo evaluate`: the catalogue of a simulated plate against the simulator's truth.
//!
//! A catalogue spectrum matches the nearest unmatched truth object within
//! `match_radius_arcsec` (greedy, closest pairs first); purity is the fraction of spectra that
//! match any truth object. Completeness counts the truth objects whose trace is visible and not
//! clipped by the plate's edge. Reported: completeness and purity by B magnitude bin and by
//! class, the astrometric error distribution of the matches, the agreement of the quality flag
//! NL with the truth's `overlaps`, and how many unmatched detections lie on plate defects.
//! Over all plates given: the classification (per-class scores, confusion matrix, calibration)
//! at B <= 17.5 and at every magnitude, each class's recall by magnitude and by the
//! extraction's S/N. Per plate also: the injected anomalies against its top 1% of anomaly scores.

use std::collections::HashMap;
use std::fmt::Write as _;

/// One truth object (a row of the simulator's `*.truth.csv`).
#[derive(Debug, Clone)]
pub struct TruthObject {
    pub id: String,
    pub ra: f64,
    pub dec: f64,
    pub class: String,
    pub subclass: String,
    pub mag_b: f64,
    pub mag_r: f64,
    /// Anchor point in FITS pixels.
    pub x: f64,
    pub y: f64,
    pub visible: bool,
    pub overlaps: bool,
    pub clipped: bool,
    /// Galaxies' and quasars' redshift; None for stars (an empty field).
    pub redshift: Option<f64>,
}

/// One defect's bounding box (a row of `*.defects.csv`).
#[derive(Debug, Clone)]
pub struct DefectBox {
    pub kind: String,
    pub bbox: [f64; 4],
}

/// One catalogue spectrum of the plate.
#[derive(Debug, Clone)]
pub struct CatalogueObject {
    pub specid: String,
    pub ra: f64,
    pub dec: f64,
    pub px_x: Option<f64>,
    pub px_y: Option<f64>,
    pub quality: Option<String>,
    pub class_label: Option<String>,
    /// prob_star .. prob_qso, in the order of `sim::templates::ObjectClass::ALL`.
    pub probabilities: Option<[f32; 10]>,
    pub anomaly_score: Option<f32>,
    /// The extraction's signal-to-noise ratio (the catalogue's `snr`).
    pub snr: Option<f32>,
    /// The catalogue's B and R magnitudes (calibrated when the plate has a reference catalogue).
    pub magb: Option<f32>,
    pub magr: Option<f32>,
    /// The subclass within `class_label` (pipeline::subclass).
    pub subclass: Option<String>,
}

/// The catalogue rows of a plate, as the evaluation needs them.
pub async fn catalogue_objects(client: &tokio_postgres::Client, plate: &str) -> Result<Vec<CatalogueObject>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT specid, ra, dec, px_x, px_y, sp_class, class_label, ARRAY[prob_star, prob_mstar, prob_carbon, prob_sd, \
             prob_wd, prob_cv, prob_pn, prob_uvx, prob_sy, prob_qso], anomaly_score, snr, magb, magr, subclass FROM dfbs.spectra WHERE plate = $1",
            &[&plate],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| CatalogueObject {
            specid: r.get(0),
            ra: r.get(1),
            dec: r.get(2),
            px_x: r.get::<_, Option<f32>>(3).map(f64::from),
            px_y: r.get::<_, Option<f32>>(4).map(f64::from),
            quality: r.get(5),
            class_label: r.get(6),
            probabilities: {
                let values: Vec<Option<f32>> = r.get(7);
                let values: Option<Vec<f32>> = values.into_iter().collect();
                values.and_then(|v| v.try_into().ok())
            },
            anomaly_score: r.get(8),
            snr: r.get(9),
            magb: r.get(10),
            magr: r.get(11),
            subclass: r.get(12),
        })
        .collect())
}

/// Parses a CSV file with a header line into maps (the simulator's files have no quoted
/// commas).
fn csv_rows(text: &str) -> Result<Vec<HashMap<String, String>>, String> {
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().ok_or("empty file")?.split(',').map(|s| s.trim().to_string()).collect();
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != header.len() {
            return Err(format!("line {}: {} fields, the header has {}", n + 2, fields.len(), header.len()));
        }
        rows.push(header.iter().cloned().zip(fields.iter().map(|f| f.trim().to_string())).collect());
    }
    Ok(rows)
}

fn field<'a>(row: &'a HashMap<String, String>, key: &str) -> Result<&'a str, String> {
    row.get(key).map(String::as_str).ok_or_else(|| format!("no column {key:?}: is this a dfbs-vo simulate truth file?"))
}

fn number(row: &HashMap<String, String>, key: &str) -> Result<f64, String> {
    let text = field(row, key)?;
    text.parse().map_err(|_| format!("column {key}: {text:?} is not a number"))
}

/// Reads a `*.truth.csv` written by `dfbs-vo simulate`.
pub fn read_truth_csv(text: &str) -> Result<Vec<TruthObject>, String> {
    csv_rows(text)?
        .iter()
        .map(|row| {
            Ok(TruthObject {
                id: field(row, "id")?.to_string(),
                ra: number(row, "ra")?,
                dec: number(row, "dec")?,
                class: field(row, "class")?.to_string(),
                subclass: field(row, "subclass")?.to_string(),
                mag_b: number(row, "mag_b")?,
                mag_r: number(row, "mag_r")?,
                x: number(row, "x")?,
                y: number(row, "y")?,
                visible: field(row, "visible")? == "true",
                overlaps: field(row, "overlaps")? == "true",
                clipped: field(row, "clipped")? == "true",
                redshift: match row.get("redshift").map(String::as_str) {
                    None | Some("") => None,
                    Some(_) => Some(number(row, "redshift")?),
                },
            })
        })
        .collect()
}

/// Reads a `*.defects.csv` written by `dfbs-vo simulate`.
pub fn read_defects_csv(text: &str) -> Result<Vec<DefectBox>, String> {
    csv_rows(text)?
        .iter()
        .map(|row| {
            Ok(DefectBox {
                kind: field(row, "kind")?.to_string(),
                bbox: [number(row, "bbox_xmin")?, number(row, "bbox_ymin")?, number(row, "bbox_xmax")?, number(row, "bbox_ymax")?],
            })
        })
        .collect()
}

/// Angular distance in arcsec (haversine, accurate at small separations).
pub fn separation_arcsec(ra1: f64, dec1: f64, ra2: f64, dec2: f64) -> f64 {
    let (d1, d2) = (dec1.to_radians(), dec2.to_radians());
    let dra = (ra2 - ra1).to_radians();
    let h = ((d2 - d1) / 2.0).sin().powi(2) + d1.cos() * d2.cos() * (dra / 2.0).sin().powi(2);
    2.0 * h.sqrt().min(1.0).asin().to_degrees() * 3600.0
}

/// Completeness counts of one bin.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bin {
    pub truth: usize,
    pub found: usize,
}

impl Bin {
    pub fn fraction(&self) -> Option<f64> {
        (self.truth > 0).then(|| self.found as f64 / self.truth as f64)
    }
}

/// A matched spectrum with probabilities.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Classified {
    /// The truth's class, an index into `sim::templates::ObjectClass::ALL`.
    pub truth: usize,
    /// The truth's B magnitude.
    pub mag_b: f64,
    /// The catalogue's S/N of the extraction.
    pub snr: Option<f32>,
    /// The B limit of the spectrum's plate (LIMMAG: where an ordinary star's red peak is 3.5 σ).
    pub plate_limit: f64,
    pub probabilities: [f32; 10],
    /// What the catalogue itself says: the spectrum's `magb` and its plate's `magb_limit`
    /// (measured against the reference catalogue), when there are both.
    pub measured_headroom: Option<f64>,
    /// The truth's subclass (the simulator's: DA3.5, M4, C-N, ...).
    pub truth_subclass: String,
    /// The catalogue's class label and subclass.
    pub label: Option<String>,
    pub subclass: Option<String>,
}

impl Classified {
    /// How much brighter than its plate's limit the object is, in magnitudes (negative:
    /// fainter than the limit).
    pub fn headroom(&self) -> f64 {
        self.plate_limit - self.mag_b
    }
}

/// The evaluation of one plate.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub plate: String,
    pub match_radius_arcsec: f64,
    /// (upper edge of the B bin, counts).
    pub by_magnitude: Vec<(f64, Bin)>,
    pub by_class: Vec<(String, Bin)>,
    pub bright: Bin,
    pub to_limit: Bin,
    pub limit: f64,
    pub detections: usize,
    pub matched: usize,
    pub unmatched_on_defects: usize,
    pub errors_arcsec: Vec<f64>,
    /// Matches: (truth overlaps, catalogue NL).
    pub nl_table: [[usize; 2]; 2],
    /// (truth class, catalogue class or "unclassified"): count.
    pub confusion: Vec<((String, String), usize)>,
    /// Matched pairs with probabilities.
    pub classified: Vec<Classified>,
    /// Injected anomalies (truth class `anomaly`): how many there are, how many were detected,
    /// and how many of those have an anomaly score in the plate's top 1%.
    pub anomalies: (usize, usize, usize),
    /// Matches of quality OK with a `magb`: (truth B, catalogue magb).
    pub photometry: Vec<(f64, f64)>,
    /// Likewise (truth R, catalogue magr).
    pub photometry_r: Vec<(f64, f64)>,
    /// The plate's measured limit (`dfbs.plates.magb_limit`).
    pub measured_limit: Option<f64>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
}

/// Matches the catalogue against the truth.
pub fn evaluate(
    plate: &str,
    truth: &[TruthObject],
    catalogue: &[CatalogueObject],
    defects: &[DefectBox],
    limit: f64,
    measured_limit: Option<f64>,
    match_radius_arcsec: f64,
) -> Evaluation {
    // Every truth object can be matched (a detection of a real object is never a false one,
    // even when the truth calls the object too faint or clipped); completeness counts the
    // visible, unclipped ones.
    let counted: Vec<&TruthObject> = truth.iter().collect();
    // Candidate pairs within the radius, by a declination-sorted sweep.
    let mut by_dec: Vec<usize> = (0..counted.len()).collect();
    by_dec.sort_by(|a, b| counted[*a].dec.total_cmp(&counted[*b].dec));
    let decs: Vec<f64> = by_dec.iter().map(|&i| counted[i].dec).collect();
    let radius_deg = match_radius_arcsec / 3600.0;
    let mut pairs = Vec::new();
    for (c, object) in catalogue.iter().enumerate() {
        let start = decs.partition_point(|d| *d < object.dec - radius_deg);
        for &t in &by_dec[start..] {
            let candidate = counted[t];
            if candidate.dec > object.dec + radius_deg {
                break;
            }
            let distance = separation_arcsec(object.ra, object.dec, candidate.ra, candidate.dec);
            if distance <= match_radius_arcsec {
                pairs.push((distance, c, t));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut truth_match = vec![None; counted.len()];
    let mut catalogue_matched = vec![false; catalogue.len()];
    let mut errors = Vec::new();
    for (distance, c, t) in pairs {
        if truth_match[t].is_none() && !catalogue_matched[c] {
            truth_match[t] = Some(c);
            catalogue_matched[c] = true;
            errors.push(distance);
        }
    }
    errors.sort_by(f64::total_cmp);
    let edges = [12.0, 13.0, 14.0, 15.0, 16.0, 16.5, 17.0, 17.5, 18.0, 18.5, 19.0, 99.0];
    let mut by_magnitude: Vec<(f64, Bin)> = edges.iter().map(|e| (*e, Bin::default())).collect();
    let mut by_class: Vec<(String, Bin)> = Vec::new();
    let mut evaluation = Evaluation { plate: plate.into(), match_radius_arcsec, limit, measured_limit, ..Evaluation::default() };
    let mut confusion: HashMap<(String, String), usize> = HashMap::new();
    for (t, object) in counted.iter().enumerate() {
        if !object.visible || object.clipped {
            continue;
        }
        let found = truth_match[t].is_some();
        let bin = by_magnitude.iter_mut().find(|(edge, _)| object.mag_b < *edge).map(|(_, b)| b);
        if let Some(bin) = bin {
            bin.truth += 1;
            bin.found += found as usize;
        }
        if object.mag_b <= 17.5 {
            evaluation.bright.truth += 1;
            evaluation.bright.found += found as usize;
        }
        if object.mag_b <= limit {
            evaluation.to_limit.truth += 1;
            evaluation.to_limit.found += found as usize;
            let class_bin = match by_class.iter_mut().find(|(c, _)| *c == object.class) {
                Some((_, bin)) => bin,
                None => {
                    by_class.push((object.class.clone(), Bin::default()));
                    &mut by_class.last_mut().expect("just pushed").1
                }
            };
            class_bin.truth += 1;
            class_bin.found += found as usize;
        }
        if let Some(c) = truth_match[t] {
            if let (Some(p), Some(class)) = (catalogue[c].probabilities, crate::sim::templates::ObjectClass::from_label(&object.class)) {
                let index = crate::sim::templates::ObjectClass::ALL.iter().position(|k| *k == class).unwrap_or(0);
                evaluation.classified.push(Classified {
                    truth: index,
                    mag_b: object.mag_b,
                    snr: catalogue[c].snr,
                    plate_limit: limit,
                    probabilities: p,
                    measured_headroom: measured_limit.zip(catalogue[c].magb).map(|(l, m)| l - m as f64),
                    truth_subclass: object.subclass.clone(),
                    label: catalogue[c].class_label.clone(),
                    subclass: catalogue[c].subclass.clone(),
                });
            }
            if catalogue[c].quality.as_deref() == Some("OK") {
                if let Some(m) = catalogue[c].magb {
                    evaluation.photometry.push((object.mag_b, m as f64));
                }
                if let Some(m) = catalogue[c].magr {
                    evaluation.photometry_r.push((object.mag_r, m as f64));
                }
            }
            let nl = catalogue[c].quality.as_deref() == Some("NL");
            evaluation.nl_table[object.overlaps as usize][nl as usize] += 1;
            let predicted = catalogue[c].class_label.clone().unwrap_or_else(|| "unclassified".into());
            *confusion.entry((object.class.clone(), predicted)).or_insert(0) += 1;
        }
    }
    // Injected anomalies against the plate's top 1% of anomaly scores.
    let mut scores: Vec<f32> = catalogue.iter().filter_map(|c| c.anomaly_score).collect();
    scores.sort_by(f32::total_cmp);
    let top_one_percent = scores.get(scores.len().saturating_sub(1) * 99 / 100).copied();
    for (t, object) in counted.iter().enumerate() {
        if object.class != "anomaly" {
            continue;
        }
        evaluation.anomalies.0 += 1;
        if let Some(c) = truth_match[t] {
            evaluation.anomalies.1 += 1;
            if let (Some(score), Some(threshold)) = (catalogue[c].anomaly_score, top_one_percent)
                && score >= threshold
            {
                evaluation.anomalies.2 += 1;
            }
        }
    }
    by_class.sort_by(|a, b| a.0.cmp(&b.0));
    evaluation.by_magnitude = by_magnitude.into_iter().filter(|(_, b)| b.truth > 0).collect();
    evaluation.by_class = by_class;
    evaluation.detections = catalogue.len();
    evaluation.matched = catalogue_matched.iter().filter(|m| **m).count();
    evaluation.unmatched_on_defects = catalogue
        .iter()
        .zip(&catalogue_matched)
        .filter(|(object, matched)| {
            !**matched
                && match (object.px_x, object.px_y) {
                    (Some(x), Some(y)) => defects
                        .iter()
                        .any(|d| x >= d.bbox[0] - 10.0 && x <= d.bbox[2] + 10.0 && y >= d.bbox[1] - 130.0 && y <= d.bbox[3] + 130.0),
                    _ => false,
                }
        })
        .count();
    evaluation.errors_arcsec = errors;
    let mut confusion: Vec<_> = confusion.into_iter().collect();
    confusion.sort();
    evaluation.confusion = confusion;
    evaluation
}

/// Per-class precision, recall and F1 of argmax predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassScores {
    pub label: &'static str,
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Upper edges of the magnitude bins of [`ClassReport::by_magnitude`] (the last bin runs to the
/// report's faintest magnitude): where a class's recall is lost, at the faint end or not.
const RECALL_BIN_EDGES: [f64; 6] = [16.0, 16.5, 17.0, 17.5, 18.0, 18.5];

/// Classification quality of matched spectra with B <= `faintest`: per-class scores, the
/// confusion matrix (rows truth, columns predicted, by argmax), macro-F1, accuracy, the
/// expected calibration error (15 bins of the top probability; Guo et al. 2017), the
/// fraction whose top probability reaches `threshold`, and each class's recall by magnitude.
#[derive(Debug, Clone)]
pub struct ClassReport {
    pub faintest: f64,
    pub scores: Vec<ClassScores>,
    pub confusion: [[usize; 10]; 10],
    pub macro_f1: f64,
    pub accuracy: f64,
    pub ece: f64,
    pub coverage: f64,
    pub accuracy_above_threshold: f64,
    /// Per magnitude bin, its upper edge and, per class (truth), the spectra and those
    /// classified right (the last bin holds B up to and including `faintest`).
    pub by_magnitude: Vec<(f64, [(usize, usize); 10])>,
}

/// The predicted class (index) and its probability.
fn argmax(p: &[f32; 10]) -> (usize, f32) {
    p.iter().enumerate().fold((0, f32::NEG_INFINITY), |a, (i, v)| if *v > a.1 { (i, *v) } else { a })
}

pub fn class_report<'a>(classified: impl IntoIterator<Item = &'a Classified>, faintest: f64, threshold: f32) -> Option<ClassReport> {
    let rows: Vec<(usize, f64, &[f32; 10])> =
        classified.into_iter().filter(|c| c.mag_b <= faintest).map(|c| (c.truth, c.mag_b, &c.probabilities)).collect();
    if rows.is_empty() {
        return None;
    }
    let mut confusion = [[0usize; 10]; 10];
    let mut bins = [(0usize, 0usize, 0.0f64); 15];
    let (mut confident, mut confident_right) = (0usize, 0usize);
    let mut edges: Vec<f64> = RECALL_BIN_EDGES.iter().copied().filter(|&e| e < faintest).collect();
    edges.push(faintest);
    let mut by_magnitude: Vec<(f64, [(usize, usize); 10])> = edges.iter().map(|&e| (e, [(0, 0); 10])).collect();
    for &(truth, mag, p) in &rows {
        let (predicted, top) = argmax(p);
        confusion[truth][predicted] += 1;
        let mag_bin = edges.iter().position(|&e| mag < e).unwrap_or(edges.len() - 1);
        by_magnitude[mag_bin].1[truth].0 += 1;
        by_magnitude[mag_bin].1[truth].1 += (predicted == truth) as usize;
        let bin = ((top as f64 * 15.0).ceil() as usize).clamp(1, 15) - 1;
        bins[bin].0 += 1;
        bins[bin].1 += (predicted == truth) as usize;
        bins[bin].2 += top as f64;
        if top >= threshold {
            confident += 1;
            confident_right += (predicted == truth) as usize;
        }
    }
    let n = rows.len() as f64;
    let ece = bins.iter().filter(|b| b.0 > 0).map(|b| (b.0 as f64 / n) * (b.1 as f64 / b.0 as f64 - b.2 / b.0 as f64).abs()).sum();
    let mut scores = Vec::new();
    for (i, class) in crate::sim::templates::ObjectClass::ALL.iter().enumerate() {
        let support: usize = confusion[i].iter().sum();
        let predicted: usize = (0..10).map(|t| confusion[t][i]).sum();
        if support == 0 && predicted == 0 {
            continue;
        }
        let tp = confusion[i][i] as f64;
        let precision = if predicted > 0 { tp / predicted as f64 } else { 0.0 };
        let recall = if support > 0 { tp / support as f64 } else { 0.0 };
        let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
        scores.push(ClassScores { label: class.label(), support, precision, recall, f1 });
    }
    let with_support: Vec<&ClassScores> = scores.iter().filter(|s| s.support > 0).collect();
    let macro_f1 = with_support.iter().map(|s| s.f1).sum::<f64>() / with_support.len().max(1) as f64;
    let accuracy = (0..10).map(|i| confusion[i][i]).sum::<usize>() as f64 / n;
    Some(ClassReport {
        faintest,
        scores,
        confusion,
        macro_f1,
        accuracy,
        ece,
        coverage: confident as f64 / n,
        accuracy_above_threshold: if confident > 0 { confident_right as f64 / confident as f64 } else { f64::NAN },
        by_magnitude,
    })
}

impl ClassReport {
    /// The lowest recall of a class with spectra, as "0.712 (qso)".
    pub fn lowest_recall(&self) -> String {
        let lowest = self.scores.iter().filter(|s| s.support > 0).min_by(|a, b| a.recall.total_cmp(&b.recall));
        lowest.map(|s| format!("{:.3} ({})", s.recall, s.label)).unwrap_or_default()
    }

    /// Whether the report covers every magnitude (`faintest` beyond any plate's limit).
    pub fn all_magnitudes(&self) -> bool {
        self.faintest > 90.0
    }

    /// Each class's recall by magnitude bin, with the number of spectra in brackets.
    pub fn recall_by_magnitude_table(&self) -> String {
        let mut out = String::new();
        let mut heads = Vec::new();
        for (k, (edge, _)) in self.by_magnitude.iter().enumerate() {
            heads.push(match k {
                0 => format!("B < {edge}"),
                _ if k + 1 == self.by_magnitude.len() && self.all_magnitudes() => format!("B >= {}", self.by_magnitude[k - 1].0),
                _ => format!("{}-{edge}", self.by_magnitude[k - 1].0),
            });
        }
        let _ = writeln!(out, "recall by magnitude (recall, spectra in brackets)\n");
        write_recall_rows(&mut out, &heads, |class, bin| self.by_magnitude[bin].1[class]);
        out
    }

    pub fn table(&self, threshold: f32) -> String {
        let labels: Vec<&str> = crate::sim::templates::ObjectClass::ALL.iter().map(|c| c.label()).collect();
        let mut out = String::new();
        let limit = if self.all_magnitudes() { "all magnitudes".to_string() } else { format!("B <= {}", self.faintest) };
        let _ = writeln!(out, "classification ({limit}; argmax of the calibrated probabilities)\n");
        let _ = writeln!(out, "| class | support | precision | recall | F1 |\n|---|---|---|---|---|");
        for s in &self.scores {
            let _ = writeln!(out, "| {} | {} | {:.3} | {:.3} | {:.3} |", s.label, s.support, s.precision, s.recall, s.f1);
        }
        let _ = writeln!(
            out,
            "\nmacro-F1 {:.3}, accuracy {:.3}, expected calibration error {:.3}; top probability >= {threshold}: {:.1}% of spectra, {:.1}% of those right",
            self.macro_f1,
            self.accuracy,
            self.ece,
            100.0 * self.coverage,
            100.0 * self.accuracy_above_threshold
        );
        let _ = writeln!(out, "\nconfusion (rows: truth, columns: predicted)\n");
        let _ = writeln!(out, "| truth \\ predicted | {} |", labels.join(" | "));
        let _ = writeln!(out, "|---|{}", "---|".repeat(10));
        for (i, row) in self.confusion.iter().enumerate() {
            if row.iter().sum::<usize>() == 0 {
                continue;
            }
            let cells: Vec<String> = row.iter().map(|c| c.to_string()).collect();
            let _ = writeln!(out, "| {} | {} |", labels[i], cells.join(" | "));
        }
        out
    }
}

/// A table of each class's recall per bin (columns `heads`; `counts(class, bin)` gives the
/// spectra and those classified right), classes without spectra left out.
fn write_recall_rows(out: &mut String, heads: &[String], counts: impl Fn(usize, usize) -> (usize, usize)) {
    let _ = writeln!(out, "| class | {} |\n|---|{}", heads.join(" | "), "---|".repeat(heads.len()));
    for (i, class) in crate::sim::templates::ObjectClass::ALL.iter().enumerate() {
        if (0..heads.len()).all(|bin| counts(i, bin).0 == 0) {
            continue;
        }
        let cells: Vec<String> = (0..heads.len())
            .map(|bin| match counts(i, bin) {
                (0, _) => "-".to_string(),
                (n, right) => format!("{:.2} ({n})", right as f64 / n as f64),
            })
            .collect();
        let _ = writeln!(out, "| {} | {} |", class.label(), cells.join(" | "));
    }
}

/// Lower edges of the S/N bins of [`recall_by_snr_table`].
const SNR_BIN_EDGES: [f64; 5] = [0.0, 5.0, 10.0, 20.0, 40.0];

/// Each class's recall by the extraction's S/N (the catalogue's `snr`), at every magnitude, and
/// for the spectra at or above each S/N edge the macro-F1, the accuracy and the lowest class
/// recall. A plate's depth sets how faint a given S/N lies (the same B is twice the S/N on a
/// plate 0.75 mag deeper), so this is the table that says which labels to trust on any plate.
/// Spectra without an S/N are left out; `None` if none has one.
pub fn recall_by_snr_table(classified: &[Classified], threshold: f32) -> Option<String> {
    let rows: Vec<(f64, &Classified)> =
        classified.iter().filter_map(|c| c.snr.filter(|v| v.is_finite()).map(|v| (v as f64, c))).collect();
    binned_recall_table(&rows, &SNR_BIN_EDGES, &|e| format!("{e}"), threshold, "S/N of the extraction", "S/N")
}

/// Lower edges of the bins of [`recall_by_headroom_table`] (magnitudes brighter than the plate
/// limit; the first bin holds everything fainter than 0.5 mag above it, the limit included).
const HEADROOM_BIN_EDGES: [f64; 5] = [f64::NEG_INFINITY, 0.5, 1.0, 1.5, 2.0];

/// Each class's recall by how far above its plate's limit the object is (LIMMAG - B), at every
/// magnitude, and for the spectra at least that far above it the macro-F1, accuracy and lowest
/// recall. Plate limits range over 16.5-19 in DFBS (DFBS.md), so a fixed B cut such as 17.5 is
/// 1.5 mag above the limit on a deep plate and at the limit on a shallow one: this table puts
/// every plate on the same footing. `None` without spectra.
pub fn recall_by_headroom_table(classified: &[Classified], threshold: f32) -> Option<String> {
    let rows: Vec<(f64, &Classified)> = classified.iter().map(|c| (c.headroom(), c)).filter(|(h, _)| h.is_finite()).collect();
    let what = "magnitudes above the plate limit (LIMMAG - B)";
    binned_recall_table(&rows, &HEADROOM_BIN_EDGES, &|e| format!("{e:.1}"), threshold, what, "LIMMAG - B")
}

/// Column heads of bins with lower `edges` ("a-b", the last ">= a", a first edge of -inf "< b").
fn bin_heads(edges: &[f64], show: &dyn Fn(f64) -> String) -> Vec<String> {
    edges
        .iter()
        .enumerate()
        .map(|(k, &e)| match edges.get(k + 1) {
            Some(&next) if e == f64::NEG_INFINITY => format!("< {}", show(next)),
            Some(&next) => format!("{}-{}", show(e), show(next)),
            None => format!(">= {}", show(e)),
        })
        .collect()
}

/// The table of [`recall_by_snr_table`] and [`recall_by_headroom_table`] for spectra with a
/// `value` each: recall per class and bin (lower `edges`, shown by `show`), then the cumulative
/// rows (value at or above each edge but the first) with macro-F1, accuracy and the lowest class
/// recall.
fn binned_recall_table(
    rows: &[(f64, &Classified)],
    edges: &[f64],
    show: &dyn Fn(f64) -> String,
    threshold: f32,
    what: &str,
    name: &str,
) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let heads = bin_heads(edges, show);
    let mut counts = vec![[(0usize, 0usize); 10]; edges.len()];
    for (value, c) in rows {
        let bin = edges.iter().rposition(|e| value >= e).unwrap_or(0);
        counts[bin][c.truth].0 += 1;
        counts[bin][c.truth].1 += (argmax(&c.probabilities).0 == c.truth) as usize;
    }
    let mut out = String::new();
    let _ = writeln!(out, "recall by {what}, all magnitudes (recall, spectra in brackets)\n");
    write_recall_rows(&mut out, &heads, |class, bin| counts[bin][class]);
    let _ = writeln!(out, "\n| {name} | spectra | macro-F1 | accuracy | lowest recall |\n|---|---|---|---|---|");
    for &edge in &edges[1..] {
        let above = rows.iter().filter(|(value, _)| *value >= edge).map(|(_, c)| *c);
        let Some(report) = class_report(above.clone(), f64::INFINITY, threshold) else { continue };
        let lowest = report.lowest_recall();
        let n = above.count();
        let share = 100.0 * n as f64 / rows.len() as f64;
        let _ = writeln!(out, "| >= {} | {n} ({share:.0}%) | {:.3} | {:.3} | {lowest} |", show(edge), report.macro_f1, report.accuracy);
    }
    Some(out)
}

/// One row per plate of the classification at B <= `faintest`: the plate's limit, the spectra,
/// macro-F1, accuracy and the lowest class recall. `plates` are (plate id, its spectra).
pub fn by_plate_table(plates: &[(String, &[Classified])], faintest: f64, threshold: f32) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "classification by plate (B <= {faintest})\n");
    let _ = writeln!(out, "| plate | plate limit B | spectra | macro-F1 | accuracy | lowest recall |\n|---|---|---|---|---|---|");
    for (plate, classified) in plates {
        let limit = classified.first().map_or("-".to_string(), |c| format!("{:.2}", c.plate_limit));
        match class_report(classified.iter(), faintest, threshold) {
            Some(report) => {
                let n: usize = report.confusion.iter().flatten().sum();
                let lowest = report.lowest_recall();
                let _ = writeln!(out, "| {plate} | {limit} | {n} | {:.3} | {:.3} | {lowest} |", report.macro_f1, report.accuracy);
            }
            None => {
                let _ = writeln!(out, "| {plate} | {limit} | 0 | - | - | - |");
            }
        }
    }
    out
}

impl Evaluation {
    pub fn purity(&self) -> Option<f64> {
        (self.detections > 0).then(|| self.matched as f64 / self.detections as f64)
    }

    pub fn error_percentile(&self, p: f64) -> f64 {
        percentile(&self.errors_arcsec, p)
    }

    /// The report as a text table (Markdown, so it can be pasted into notes).
    pub fn table(&self) -> String {
        let pct = |f: Option<f64>| f.map_or("-".to_string(), |f| format!("{:.1}%", 100.0 * f));
        let mut out = String::new();
        let _ = writeln!(out, "plate {} (match radius {:.1}\", plate limit B = {:.2})\n", self.plate, self.match_radius_arcsec, self.limit);
        let _ = writeln!(out, "| B below | truth | found | completeness |\n|---|---|---|---|");
        for (edge, bin) in &self.by_magnitude {
            let label = if *edge > 90.0 { "fainter".to_string() } else { format!("{edge:.1}") };
            let _ = writeln!(out, "| {label} | {} | {} | {} |", bin.truth, bin.found, pct(bin.fraction()));
        }
        let _ = writeln!(out, "\n| class (B <= limit) | truth | found | completeness |\n|---|---|---|---|");
        for (class, bin) in &self.by_class {
            let _ = writeln!(out, "| {class} | {} | {} | {} |", bin.truth, bin.found, pct(bin.fraction()));
        }
        let _ = writeln!(
            out,
            "\ncompleteness B <= 17.5: {} ({}/{}); to the plate limit: {} ({}/{})",
            pct(self.bright.fraction()),
            self.bright.found,
            self.bright.truth,
            pct(self.to_limit.fraction()),
            self.to_limit.found,
            self.to_limit.truth
        );
        let _ = writeln!(
            out,
            "purity: {} ({} of {} detections match a truth object; {} unmatched lie on plate defects)",
            pct(self.purity()),
            self.matched,
            self.detections,
            self.unmatched_on_defects
        );
        let _ = writeln!(
            out,
            "astrometric error (arcsec): median {:.3}, 68% {:.3}, 95% {:.3}, max {:.3}",
            self.error_percentile(50.0),
            self.error_percentile(68.0),
            self.error_percentile(95.0),
            self.errors_arcsec.last().copied().unwrap_or(f64::NAN)
        );
        let (injected, detected, top) = self.anomalies;
        if injected > 0 {
            let _ = writeln!(
                out,
                "injected anomalies: {injected}, {detected} detected, {top} of those in the top 1% of anomaly scores ({})",
                pct((detected > 0).then(|| top as f64 / detected as f64))
            );
        }
        let [[ok_ok, ok_nl], [ov_ok, ov_nl]] = self.nl_table;
        let _ = writeln!(
            out,
            "quality flag NL vs truth overlaps: agree {} of {} (truth isolated: {ok_ok} not NL, {ok_nl} NL; truth overlapping: {ov_nl} NL, {ov_ok} not NL)",
            ok_ok + ov_nl,
            ok_ok + ok_nl + ov_ok + ov_nl
        );
        out.push_str(&self.photometry_lines());
        out
    }

    /// magb and magr against the truth ([`magnitude_error_line`]) and the measured plate limit against
    /// LIMMAG; empty without magnitudes.
    pub fn photometry_lines(&self) -> String {
        if self.photometry.is_empty() {
            return String::new();
        }
        let measured = self.measured_limit.map_or("none (no reference catalogue deep enough)".to_string(), |m| format!("{m:.2} ({:+.2})", m - self.limit));
        format!(
            "{}{}plate limit measured from the reference catalogue (magb_limit): {measured}\n",
            magnitude_error_line('B', &self.photometry),
            magnitude_error_line('R', &self.photometry_r)
        )
    }
}

/// One line: the catalogue's magnitude in `band` (B: magb, R: magr) minus the truth's, of
/// (truth, catalogue) pairs by truth bin, median / robust sd (n); empty without pairs.
pub fn magnitude_error_line(band: char, pairs: &[(f64, f64)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let mut out = format!("mag{} - {band} (unblended matches; median / robust sd (n)):", band.to_ascii_lowercase());
    for (low, high) in [(0.0, 13.0), (13.0, 15.0), (15.0, 16.0), (16.0, 17.0), (17.0, 17.5), (17.5, 18.0), (18.0, 99.0)] {
        let d: Vec<f64> = pairs.iter().filter(|(t, _)| *t > low && *t <= high).map(|(t, m)| m - t).collect();
        if let Some((median, sd)) = robust_location_scale(&d) {
            let label = if low == 0.0 { format!("{band} <= {high}") } else if high > 90.0 { format!("{band} > {low}") } else { format!("{low}-{high}") };
            let _ = write!(out, " {label}: {median:+.2} / {sd:.2} ({});", d.len());
        }
    }
    out.push('\n');
    out
}

/// Median of `values` (the mean of the middle two for an even count); None when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(percentile(&sorted, 50.0))
}

/// Median and robust standard deviation (1.4826 × MAD) of `values`; None when empty.
pub fn robust_location_scale(values: &[f64]) -> Option<(f64, f64)> {
    let centre = median(values)?;
    let deviations: Vec<f64> = values.iter().map(|v| (v - centre).abs()).collect();
    Some((centre, 1.4826 * median(&deviations)?))
}

/// Each class's recall by how far above its plate's measured limit the spectrum is by its own
/// magnitude (`magb_limit - magb`, both from the catalogue, so the cut works on real plates),
/// and the cumulative rows as in [`recall_by_headroom_table`]. `None` without such spectra.
pub fn recall_by_measured_headroom_table(classified: &[Classified], threshold: f32) -> Option<String> {
    let rows: Vec<(f64, &Classified)> =
        classified.iter().filter_map(|c| c.measured_headroom.filter(|h| h.is_finite()).map(|h| (h, c))).collect();
    let what = "magnitudes above the measured plate limit (magb_limit - magb, from the catalogue alone)";
    binned_recall_table(&rows, &HEADROOM_BIN_EDGES, &|e| format!("{e:.1}"), threshold, what, "magb_limit - magb")
}

/// Over several plates: each plate's measured limit against LIMMAG (difference, its mean and
/// scatter, the correlation). `None` when no plate has a measured limit.
pub fn plate_limits_table(plates: &[(String, f64, Option<f64>)]) -> Option<String> {
    let pairs: Vec<(f64, f64)> = plates.iter().filter_map(|(_, l, m)| m.map(|m| (*l, m))).collect();
    if pairs.is_empty() {
        return None;
    }
    let mut out = String::new();
    let _ = writeln!(out, "plate limits: measured (magb_limit, 50% completeness of the reference catalogue) against LIMMAG\n");
    let _ = writeln!(out, "| plate | LIMMAG | magb_limit | difference |\n|---|---|---|---|");
    for (plate, limit, measured) in plates {
        let cell = measured.map_or(("-".to_string(), "-".to_string()), |m| (format!("{m:.2}"), format!("{:+.2}", m - limit)));
        let _ = writeln!(out, "| {plate} | {limit:.2} | {} | {} |", cell.0, cell.1);
    }
    let n = pairs.len() as f64;
    let differences: Vec<f64> = pairs.iter().map(|(l, m)| m - l).collect();
    let mean = differences.iter().sum::<f64>() / n;
    let sd = (differences.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    let (ml, mm) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
    let cov: f64 = pairs.iter().map(|(l, m)| (l - ml) * (m - mm)).sum();
    let var_l: f64 = pairs.iter().map(|(l, _)| (l - ml).powi(2)).sum();
    let var_m: f64 = pairs.iter().map(|(_, m)| (m - mm).powi(2)).sum();
    let r = cov / (var_l * var_m).sqrt();
    let _ = writeln!(
        out,
        "\n{} of {} plates measured; magb_limit - LIMMAG: mean {mean:+.3}, sd {sd:.3}; correlation {r:.3}",
        pairs.len(),
        plates.len()
    );
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(id: &str, ra: f64, mag: f64) -> TruthObject {
        TruthObject {
            id: id.into(),
            ra,
            dec: 10.0,
            class: "star".into(),
            subclass: "G2".into(),
            mag_b: mag,
            mag_r: mag - 0.8,
            x: 0.0,
            y: 0.0,
            visible: true,
            overlaps: false,
            clipped: false,
            redshift: None,
        }
    }

    fn found(ra: f64) -> CatalogueObject {
        CatalogueObject {
            specid: format!("s{ra}"),
            ra,
            dec: 10.0,
            px_x: Some(100.0),
            px_y: Some(100.0),
            quality: Some("OK".into()),
            class_label: None,
            probabilities: None,
            anomaly_score: None,
            snr: None,
            magb: Some(15.0),
            magr: Some(14.2),
            subclass: None,
        }
    }

    #[test]
    fn completeness_purity_and_errors() {
        let one_arcsec = 1.0 / 3600.0 / 10f64.to_radians().cos();
        let truth = vec![truth("a", 10.0, 14.0), truth("b", 10.01, 17.0), truth("c", 10.02, 18.2)];
        let catalogue = vec![found(10.0 + one_arcsec), found(10.01), found(10.5)];
        let defects = vec![DefectBox { kind: "dust".into(), bbox: [95.0, 95.0, 105.0, 105.0] }];
        let e = evaluate("p", &truth, &catalogue, &defects, 18.0, None, 3.0);
        assert_eq!(e.bright, Bin { truth: 2, found: 2 });
        assert_eq!(e.to_limit, Bin { truth: 2, found: 2 });
        assert_eq!(e.matched, 2);
        assert_eq!(e.unmatched_on_defects, 1);
        assert!((e.error_percentile(100.0) - 1.0).abs() < 1e-6);
        assert!(e.table().contains("purity: 66.7%"));
    }

    /// Probabilities all on class `i`.
    fn one_hot(i: usize) -> [f32; 10] {
        let mut p = [0.0f32; 10];
        p[i] = 1.0;
        p
    }

    #[test]
    fn recall_by_snr_bins_and_cumulative_rows() {
        let row = |truth, snr, predicted| Classified { truth, mag_b: 16.0, snr, plate_limit: 17.8, probabilities: one_hot(predicted), measured_headroom: None, ..Default::default() };
        // Three stars at S/N 30 right; M stars at S/N 12 right, at 4 wrong (called stars), one
        // without an S/N (left out).
        let rows = vec![row(0, Some(30.0), 0), row(0, Some(30.0), 0), row(0, Some(30.0), 0), row(1, Some(12.0), 1), row(1, Some(4.0), 0), row(1, None, 1)];
        let table = recall_by_snr_table(&rows, 0.5).unwrap();
        assert!(table.contains("| class | 0-5 | 5-10 | 10-20 | 20-40 | >= 40 |"), "{table}");
        assert!(table.contains("| star | - | - | - | 1.00 (3) | - |"), "{table}");
        assert!(table.contains("| m_star | 0.00 (1) | - | 1.00 (1) | - | - |"), "{table}");
        // At S/N >= 5 the wrong M star is gone: both classes perfect; at >= 20 only the stars.
        assert!(table.contains("| >= 5 | 4 (80%) | 1.000 | 1.000 | 1.000 (star) |"), "{table}");
        assert!(table.contains("| >= 20 | 3 (60%) | 1.000 | 1.000 | 1.000 (star) |"), "{table}");
        assert!(!table.contains("\n| >= 40 |"), "{table}");
        assert_eq!(recall_by_snr_table(&[row(0, None, 0)], 0.5), None);
    }

    #[test]
    fn recall_by_headroom_and_by_plate() {
        let row = |truth, mag_b, plate_limit, predicted| Classified { truth, mag_b, snr: None, plate_limit, probabilities: one_hot(predicted), measured_headroom: None, ..Default::default() };
        // A deep plate (limit 18.5): two stars at B 16 right (2.5 mag of headroom), an M star at
        // 17.2 right (1.3). A shallow plate (limit 17.3): an M star at 17.2 wrong (0.1), a star at
        // 17.6 wrong (below the limit).
        let deep = vec![row(0, 16.0, 18.5, 0), row(0, 16.0, 18.5, 0), row(1, 17.2, 18.5, 1)];
        let shallow = vec![row(1, 17.2, 17.3, 0), row(0, 17.6, 17.3, 1)];
        let all: Vec<Classified> = deep.iter().chain(&shallow).cloned().collect();
        let table = recall_by_headroom_table(&all, 0.5).unwrap();
        assert!(table.contains("| class | < 0.5 | 0.5-1.0 | 1.0-1.5 | 1.5-2.0 | >= 2.0 |"), "{table}");
        assert!(table.contains("| star | 0.00 (1) | - | - | - | 1.00 (2) |"), "{table}");
        assert!(table.contains("| m_star | 0.00 (1) | - | 1.00 (1) | - | - |"), "{table}");
        // At least 0.5 mag above the limit only the deep plate's three remain, all right.
        assert!(table.contains("| >= 0.5 | 3 (60%) | 1.000 | 1.000 | 1.000 (star) |"), "{table}");
        assert!(table.contains("| >= 2.0 | 2 (40%) | 1.000 | 1.000 | 1.000 (star) |"), "{table}");
        let plates = vec![("deep".to_string(), deep.as_slice()), ("shallow".to_string(), shallow.as_slice()), ("empty".to_string(), &[][..])];
        let table = by_plate_table(&plates, 17.5, 0.5);
        assert!(table.contains("| deep | 18.50 | 3 | 1.000 | 1.000 | 1.000 (star) |"), "{table}");
        // B <= 17.5 leaves the shallow plate its M star, called a star.
        assert!(table.contains("| shallow | 17.30 | 1 | 0.000 | 0.000 | 0.000 (m_star) |"), "{table}");
        assert!(table.contains("| empty | - | 0 | - | - | - |"), "{table}");
    }

    #[test]
    fn class_report_scores_and_calibration() {
        let mut p_star = [0.0f32; 10];
        p_star[0] = 0.9;
        p_star[1] = 0.1;
        let mut p_m = [0.0f32; 10];
        p_m[1] = 0.6;
        p_m[0] = 0.4;
        // Three stars predicted star, one M star predicted M, one M star predicted star.
        let rows: Vec<Classified> = [(0, 15.0, p_star), (0, 15.0, p_star), (0, 15.0, p_star), (1, 16.0, p_m), (1, 17.0, p_star), (1, 18.0, p_m)]
            .into_iter()
            .map(|(truth, mag_b, probabilities)| Classified { truth, mag_b, snr: None, plate_limit: 17.8, probabilities, measured_headroom: None, ..Default::default() })
            .collect();
        let report = class_report(&rows, 17.5, 0.8).unwrap();
        assert_eq!(report.confusion[0][0], 3);
        assert_eq!(report.confusion[1][0], 1);
        assert_eq!(report.confusion[1][1], 1);
        let star = &report.scores[0];
        assert!((star.precision - 0.75).abs() < 1e-12 && (star.recall - 1.0).abs() < 1e-12);
        let m = &report.scores[1];
        assert!((m.precision - 1.0).abs() < 1e-12 && (m.recall - 0.5).abs() < 1e-12);
        assert!((report.accuracy - 0.8).abs() < 1e-12);
        // Confidence 0.9 for four (3 right), 0.6 for one (right): ECE = 0.8*|0.75-0.9| + 0.2*|1-0.6|.
        assert!((report.ece - (0.8 * 0.15 + 0.2 * 0.4)).abs() < 1e-6, "{}", report.ece);
        assert!((report.coverage - 0.8).abs() < 1e-12);
        assert!(report.table(0.8).contains("| m_star | 2 | 1.000 | 0.500 | 0.667 |"));
        // By magnitude: the M star at B 16.0 (bin 16-16.5) right, the one at B 17.0 (17-17.5,
        // the last bin, up to and including 17.5) wrong; the one at B 18.0 lies beyond.
        let bins: Vec<f64> = report.by_magnitude.iter().map(|(edge, _)| *edge).collect();
        assert_eq!(bins, [16.0, 16.5, 17.0, 17.5]);
        assert_eq!(report.by_magnitude[0].1[0], (3, 3));
        assert_eq!(report.by_magnitude[1].1[1], (1, 1));
        assert_eq!(report.by_magnitude[3].1[1], (1, 0));
        let table = report.recall_by_magnitude_table();
        assert!(table.contains("| class | B < 16 | 16-16.5 | 16.5-17 | 17-17.5 |"), "{table}");
        assert!(table.contains("| m_star | - | 1.00 (1) | - | 0.00 (1) |"), "{table}");
        let all = class_report(&rows, 99.0, 0.8).unwrap();
        assert!(all.recall_by_magnitude_table().contains("| 18-18.5 | B >= 18.5 |"));
        assert_eq!(all.by_magnitude[5].1[1], (1, 1));
    }

    #[test]
    fn reads_the_simulators_csv() {
        let text = "id,plate,ra,dec,class,subclass,mag_b,mag_r,redshift,x,y,bbox_xmin,bbox_ymin,bbox_xmax,bbox_ymax,visible,overlaps,clipped,extent\n\
                    fbs5001-000001,fbs5001,1.5,2.5,star,G2,17.594,16.776,,1.0,2.0,1,2,3,4,true,false,false,0\n\
                    fbs5001-000002,fbs5001,1.6,2.5,qso,QSO,17.894,17.696,1.938,5.0,6.0,,,,,false,false,false,0\n";
        let rows = read_truth_csv(text).unwrap();
        assert_eq!(rows[0].class, "star");
        assert!(rows[0].visible && !rows[0].overlaps);
        assert_eq!((rows[0].redshift, rows[1].redshift), (None, Some(1.938)));
        assert!(read_truth_csv("id,ra\nx,1\n").unwrap_err().contains("no column"));
    }
}
