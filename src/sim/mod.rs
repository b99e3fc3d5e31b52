//! The DFBS plate simulator: synthetic plate scans with a truth table.
//!
//! Per plate it writes the FITS scan (BITPIX 16, dark spectra on a bright background, WFPDB
//! header, TAN-SIP plate solution), the truth table of every object (CSV, and a VOTable that
//! also holds each object's noise-free spectrum on the DFBS wavelength grid) and the list of
//! plate defects. Deterministic: the same options give byte-identical files, whatever the
//! number of threads. Memory is bounded: the scan is rendered in row bands.
//!
//! The rooms: [`plate`] (field, solution, emulsion, date, header), [`population`] (objects and
//! their exposure profiles), [`templates`] (the SEDs of the classes), [`emulsion`] (the
//! response on the pixel scale), [`defects`], [`render`] (bands: exposure → density →
//! noise → scan values), [`output`] (FITS and truth files), [`random`] (the generators).

pub mod defects;
pub mod emulsion;
pub mod output;
pub mod plate;
pub mod population;
pub mod random;
pub mod render;
pub mod templates;

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

use self::output::{PlateFiles, ScanWriter};
use self::plate::{PlateSpec, RedEnd};
use self::templates::ObjectClass;

/// Class mix of the objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// The survey's proportions: ordinary stars dominate, PN and M stars are rare.
    Realistic,
    /// Every class equally often, for training.
    Balanced,
}

/// What `dfbs-vo simulate` was asked for.
#[derive(Debug, Clone)]
pub struct SimulateOptions {
    pub out: PathBuf,
    pub plates: usize,
    pub seed: u64,
    /// (width, height) in pixels.
    pub size: (usize, usize),
    /// Field centre (RA, Dec) in degrees; drawn in the survey footprint when None.
    pub field: Option<(f64, f64)>,
    /// Emulsion of every plate; drawn per plate when None.
    pub emulsion: Option<String>,
    /// Limiting B magnitude of every plate; drawn per plate (16.8-18.8) when None.
    pub limiting_mag: Option<f64>,
    pub mix: Mix,
    /// Objects per square degree (15,000 on a 4.1° × 4.1° plate is about 890).
    pub density: f64,
    /// Plate number of the first plate (ids fbsNNNN).
    pub first_plate: u32,
    pub red_end: RedEnd,
    /// Injected anomalies per plate (truth class `anomaly`), for testing anomaly scores.
    pub anomalies: usize,
    /// Factor on the grain noise (1: the survey's; smaller for studies of noise-free spectra).
    pub grain_scale: f64,
    /// Show progress bars.
    pub progress: bool,
}

impl Default for SimulateOptions {
    fn default() -> SimulateOptions {
        SimulateOptions {
            out: PathBuf::from("sim"),
            plates: 1,
            seed: 1,
            size: plate::FULL_SIZE,
            field: None,
            emulsion: None,
            limiting_mag: None,
            mix: Mix::Realistic,
            density: 890.0,
            first_plate: 5001,
            red_end: RedEnd::PlusY,
            anomalies: 0,
            grain_scale: 1.0,
            progress: false,
        }
    }
}

/// What was written for one plate.
#[derive(Debug, Clone)]
pub struct PlateSummary {
    pub plate_id: String,
    pub emulsion: &'static str,
    pub field: (f64, f64),
    pub limiting_mag: f64,
    pub objects: usize,
    pub visible: usize,
    pub overlapping: usize,
    pub per_class: Vec<(ObjectClass, usize)>,
    pub defects: usize,
    pub files: PlateFiles,
    pub seconds: f64,
}

/// Rows per band: a band is rendered by one thread; several bands are in flight at once.
const BAND_ROWS: usize = 128;

/// Runs the simulator: renders every plate (bands in parallel) and writes its files.
pub fn simulate(options: &SimulateOptions) -> anyhow::Result<Vec<PlateSummary>> {
    use anyhow::Context as _;
    if options.size.0 < 256 || options.size.1 < 256 || options.size.0 > 20_000 || options.size.1 > 20_000 {
        anyhow::bail!("plate size {}x{} is outside 256..=20000 pixels a side", options.size.0, options.size.1);
    }
    if let Some(name) = &options.emulsion
        && emulsion::Emulsion::by_name(name).is_none()
    {
        anyhow::bail!(
            "unknown emulsion {name:?}; known: {} (case matters: IIaF and IIAF are different products)",
            emulsion::Emulsion::NAMES.join(", ")
        );
    }
    if let Some(limit) = options.limiting_mag
        && !(14.0..=21.0).contains(&limit)
    {
        anyhow::bail!("--limit must be a B magnitude between 14 and 21; got {limit}");
    }
    if !(options.density > 0.0 && options.density <= 20_000.0) {
        anyhow::bail!("--density must be in (0, 20000] objects per square degree");
    }
    std::fs::create_dir_all(&options.out).with_context(|| format!("cannot create {}", options.out.display()))?;
    let total_rows = (options.plates * options.size.1) as u64;
    let bar = crate::progress::bar(
        total_rows,
        "{msg:>9} [{bar:40}] {percent:>3}% rows, {elapsed} elapsed, eta {eta}",
        options.progress,
    );
    let mut summaries = Vec::new();
    for index in 0..options.plates {
        let started = Instant::now();
        let plate = PlateSpec::draw(options, index);
        bar.set_message(plate.plate_id.clone());
        let mut objects = population::draw_objects(&plate, options.mix, options.density);
        if options.anomalies > 0 {
            population::inject_anomalies(&plate, &mut objects, options.anomalies);
        }
        let defects = defects::draw_defects(&plate);
        let files = PlateFiles::in_dir(&options.out, &plate.plate_id);
        let scene = render::PlateScene::new(&plate, &objects, &defects).with_grain_scale(options.grain_scale);
        let mut writer = ScanWriter::create(&files.scan, &plate)
            .with_context(|| format!("cannot write {}", files.scan.display()))?;
        let bands: Vec<(usize, usize)> = (0..plate.height)
            .step_by(BAND_ROWS)
            .map(|first| (first, BAND_ROWS.min(plate.height - first)))
            .collect();
        // Render a window of bands in parallel, then write them in order: memory holds at
        // most one window.
        let window = 2 * rayon::current_num_threads().max(1);
        for chunk in bands.chunks(window) {
            let rendered: Vec<Vec<i16>> = chunk.par_iter().map(|&(first, rows)| scene.render_band(first, rows)).collect();
            for (pixels, &(_, rows)) in rendered.iter().zip(chunk) {
                writer.write_band(pixels).with_context(|| format!("cannot write {}", files.scan.display()))?;
                bar.inc(rows as u64);
            }
        }
        drop(writer);
        output::write_truth(&files, &plate, &objects)
            .with_context(|| format!("cannot write {}", files.truth_votable.display()))?;
        output::write_defects(&files.defects_csv, &plate, &defects)
            .with_context(|| format!("cannot write {}", files.defects_csv.display()))?;
        output::write_reference(&files.reference_csv, &plate, &objects)
            .with_context(|| format!("cannot write {}", files.reference_csv.display()))?;
        let per_class = ObjectClass::ALL
            .iter()
            .map(|class| (*class, objects.iter().filter(|o| o.template.class == *class).count()))
            .collect();
        summaries.push(PlateSummary {
            plate_id: plate.plate_id.clone(),
            emulsion: plate.emulsion.name,
            field: (plate.wcs.crval[0], plate.wcs.crval[1]),
            limiting_mag: plate.limiting_mag,
            objects: objects.len(),
            visible: objects.iter().filter(|o| o.bbox.is_some()).count(),
            overlapping: objects.iter().filter(|o| o.overlaps).count(),
            per_class,
            defects: defects.len(),
            files,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    bar.finish_and_clear();
    Ok(summaries)
}

/// The summary table printed at the end of `dfbs-vo simulate`.
pub fn summary_table(summaries: &[PlateSummary]) -> String {
    let mut out = String::new();
    out.push_str("plate      emulsion  field (ra, dec)      limit  objects  visible  overlap  defects  seconds\n");
    for s in summaries {
        out.push_str(&format!(
            "{:<10} {:<8} {:>8.3} {:>+8.3}   {:>6.2}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7.2}\n",
            s.plate_id, s.emulsion, s.field.0, s.field.1, s.limiting_mag, s.objects, s.visible, s.overlapping, s.defects, s.seconds
        ));
    }
    let mut totals = vec![0usize; ObjectClass::ALL.len()];
    for s in summaries {
        for (i, (_, n)) in s.per_class.iter().enumerate() {
            totals[i] += n;
        }
    }
    out.push_str("classes:");
    for (class, n) in ObjectClass::ALL.iter().zip(totals) {
        out.push_str(&format!(" {}={}", class.label(), n));
    }
    out.push('\n');
    out
}
