//! Training sets for the classifier, made by the same extraction the pipeline runs: the 2D
//! cutouts and 1D spectra of the detections on simulated plates, labelled with the class of the
//! truth object each detection matches. Written as NumPy `.npy` arrays (streamed; the header is
//! rewritten with the final row count) and a CSV of labels, so training and inference see
//! identical preprocessing.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

/// Fixed header length: NPY format 1.0 pads the header so the data starts at a multiple of 64
/// bytes (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
const NPY_HEADER_LEN: usize = 128;

/// A float32 `.npy` file of shape (rows, *item_shape), written row by row.
pub struct NpyWriter {
    file: BufWriter<File>,
    item_shape: Vec<usize>,
    item_len: usize,
    rows: usize,
}

fn npy_header(rows: usize, item_shape: &[usize]) -> Vec<u8> {
    let mut shape = format!("({rows},");
    for dim in item_shape {
        shape.push_str(&format!(" {dim},"));
    }
    if !item_shape.is_empty() {
        shape.pop();
    }
    shape.push(')');
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    let mut header = b"\x93NUMPY\x01\x00".to_vec();
    let body_len = NPY_HEADER_LEN - 10;
    header.extend_from_slice(&(body_len as u16).to_le_bytes());
    let mut body = dict.into_bytes();
    body.resize(body_len - 1, b' ');
    body.push(b'\n');
    header.extend_from_slice(&body);
    header
}

impl NpyWriter {
    pub fn create(path: &Path, item_shape: &[usize]) -> std::io::Result<NpyWriter> {
        let mut file = BufWriter::new(File::create(path)?);
        file.write_all(&npy_header(0, item_shape))?;
        Ok(NpyWriter { file, item_shape: item_shape.to_vec(), item_len: item_shape.iter().product(), rows: 0 })
    }

    /// Appends one row; its length must be the product of the item shape.
    pub fn push(&mut self, values: &[f32]) -> std::io::Result<()> {
        if values.len() != self.item_len {
            return Err(std::io::Error::other(format!("row of {} values, expected {}", values.len(), self.item_len)));
        }
        for value in values {
            self.file.write_all(&value.to_le_bytes())?;
        }
        self.rows += 1;
        Ok(())
    }

    /// Rewrites the header with the final shape and closes the file.
    pub fn finish(mut self) -> std::io::Result<usize> {
        self.file.flush()?;
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&npy_header(self.rows, &self.item_shape))?;
        file.sync_all()?;
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_npy_1_0_and_64_aligned() {
        let header = npy_header(12345, &[160, 50]);
        assert_eq!(header.len(), 128);
        assert_eq!(&header[..8], b"\x93NUMPY\x01\x00");
        let text = String::from_utf8_lossy(&header[10..]);
        assert!(text.contains("'shape': (12345, 160, 50)"), "{text}");
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn writes_rows_and_fixes_the_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        let mut writer = NpyWriter::create(&path, &[3]).unwrap();
        writer.push(&[1.0, 2.0, 3.0]).unwrap();
        writer.push(&[4.0, 5.0, 6.0]).unwrap();
        assert!(writer.push(&[1.0]).is_err());
        assert_eq!(writer.finish().unwrap(), 2);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 128 + 6 * 4);
        assert!(String::from_utf8_lossy(&bytes[..128]).contains("(2, 3)"));
        assert_eq!(f32::from_le_bytes(bytes[128 + 20..128 + 24].try_into().unwrap()), 6.0);
    }

    #[test]
    fn a_training_set_records_how_its_spectra_were_extracted() {
        let dir = tempfile::tempdir().unwrap();
        super::TrainingSet::create(dir.path()).unwrap().finish().unwrap();
        let text = std::fs::read_to_string(dir.path().join("dataset.json")).unwrap();
        let description: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(description["flux_extraction"], crate::pipeline::extract::FLUX_EXTRACTION);
        assert_eq!(description["pipeline_version"], crate::pipeline::ingest::PIPELINE_VERSION);
    }
}

/// Matches detections to truth objects by anchor pixel (nearest within `radius_px`, each truth
/// object used once, closest pairs first). Returns, per detection, the index of its truth
/// object.
pub fn match_by_pixel(detections: &[(f64, f64)], truth: &[(f64, f64)], radius_px: f64) -> Vec<Option<usize>> {
    let mut order: Vec<usize> = (0..truth.len()).collect();
    order.sort_by(|a, b| truth[*a].1.total_cmp(&truth[*b].1));
    let ys: Vec<f64> = order.iter().map(|&i| truth[i].1).collect();
    let mut pairs = Vec::new();
    for (d, &(x, y)) in detections.iter().enumerate() {
        let start = ys.partition_point(|v| *v < y - radius_px);
        for &t in &order[start..] {
            let (tx, ty) = truth[t];
            if ty > y + radius_px {
                break;
            }
            let distance = (tx - x).hypot(ty - y);
            if distance <= radius_px {
                pairs.push((distance, d, t));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut result = vec![None; detections.len()];
    let mut used = vec![false; truth.len()];
    for (_, d, t) in pairs {
        if result[d].is_none() && !used[t] {
            result[d] = Some(t);
            used[t] = true;
        }
    }
    result
}

/// What one plate added to a training set.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    pub plate: String,
    pub detections: usize,
    pub labelled: usize,
}

/// The files of a training set: cutouts.npy (N, 160, 50), flux.npy (N, 136; NaN where a bin
/// has no data), labels.csv, and dataset.json (the pipeline version and the extraction of
/// `flux`, which training/train.py copies into the model's description).
pub struct TrainingSet {
    cutouts: NpyWriter,
    flux: NpyWriter,
    labels: BufWriter<File>,
    rows: usize,
}

impl TrainingSet {
    pub fn create(dir: &Path) -> std::io::Result<TrainingSet> {
        std::fs::create_dir_all(dir)?;
        let mut labels = BufWriter::new(File::create(dir.join("labels.csv"))?);
        writeln!(labels, "row,plate,truth_id,class,subclass,mag_b,quality,snr,x,y,match_px,redshift")?;
        let description = serde_json::json!({
            "pipeline_version": super::ingest::PIPELINE_VERSION,
            "flux_extraction": super::extract::FLUX_EXTRACTION,
        });
        std::fs::write(dir.join("dataset.json"), format!("{description:#}\n"))?;
        Ok(TrainingSet {
            cutouts: NpyWriter::create(&dir.join("cutouts.npy"), &[super::extract::CUTOUT_ROWS, super::extract::CUTOUT_COLUMNS])?,
            flux: NpyWriter::create(&dir.join("flux.npy"), &[super::wavelength::GRID_BINS])?,
            labels,
            rows: 0,
        })
    }

    /// Runs extraction on a simulated plate and adds every detection that matches a truth
    /// object (the truth table `*.truth.csv` beside the scan); with `unmatched`, the other
    /// detections too, as class `none`.
    pub fn add_plate(&mut self, scan_path: &Path, params: &super::params::PipelineParams, unmatched: bool) -> Result<ExportSummary, String> {
        let truth_path = scan_path.with_extension("truth.csv");
        let truth_text = std::fs::read_to_string(&truth_path)
            .map_err(|e| format!("{}: {e} (export-cutouts needs the simulator's truth beside each plate)", truth_path.display()))?;
        let truth = super::evaluate::read_truth_csv(&truth_text).map_err(|e| format!("{}: {e}", truth_path.display()))?;
        let mut scan = super::fits::PlateScan::open(scan_path).map_err(|e| e.to_string())?;
        let plate = super::plate::plate_id(scan_path, &scan.header)?;
        let params = super::plate::params_for(&scan.header, params);
        let detections = super::plate::detect_scan(&mut scan, &params)?;
        let anchors: Vec<(f64, f64)> = detections.iter().map(|d| (d.x, d.y)).collect();
        let truth_pixels: Vec<(f64, f64)> = truth.iter().map(|t| (t.x, t.y)).collect();
        let matches = match_by_pixel(&anchors, &truth_pixels, 3.0);
        let mut labelled = 0;
        let io = |e: std::io::Error| e.to_string();
        for (detection, matched) in detections.iter().zip(matches) {
            let object = match matched {
                Some(t) => Some(&truth[t]),
                None if unmatched => None,
                None => continue,
            };
            let flux: Vec<f32> = detection.flux.iter().map(|v| v.unwrap_or(f32::NAN)).collect();
            self.cutouts.push(&detection.cutout).map_err(io)?;
            self.flux.push(&flux).map_err(io)?;
            let (id, class, subclass, mag_b, distance) = match object {
                Some(o) => (o.id.as_str(), o.class.as_str(), o.subclass.as_str(), format!("{}", o.mag_b), format!("{:.3}", (detection.x - o.x).hypot(detection.y - o.y))),
                None => ("", "none", "", String::new(), String::new()),
            };
            let redshift = object.and_then(|o| o.redshift).map_or(String::new(), |z| format!("{z}"));
            writeln!(
                self.labels,
                "{},{},{},{},{},{},{},{},{:.2},{:.2},{},{}",
                self.rows,
                plate,
                id,
                class,
                subclass,
                mag_b,
                detection.quality.label(),
                detection.snr,
                detection.x,
                detection.y,
                distance,
                redshift
            )
            .map_err(io)?;
            self.rows += 1;
            labelled += usize::from(object.is_some());
        }
        Ok(ExportSummary { plate, detections: detections.len(), labelled })
    }

    pub fn finish(mut self) -> std::io::Result<usize> {
        self.labels.flush()?;
        self.cutouts.finish()?;
        self.flux.finish()
    }
}
