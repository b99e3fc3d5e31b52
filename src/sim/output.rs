//! Writing a simulated plate: the FITS scan (written band by band) and the truth tables.

use std::io::Write;
use std::path::{Path, PathBuf};

use fitsio::images::{ImageDescription, ImageType};
use fitsio::FitsFile;

use crate::adql::{ResultColumn, ValueType};
use crate::pipeline::wcs::CardValue;
use crate::votable::{Cell, DocumentInfo, End, Format, ResultWriter};

use super::defects::Defect;
use super::plate::PlateSpec;
use super::population::SimObject;

/// The files of one plate.
#[derive(Debug, Clone)]
pub struct PlateFiles {
    pub scan: PathBuf,
    pub truth_csv: PathBuf,
    pub truth_votable: PathBuf,
    pub defects_csv: PathBuf,
    pub reference_csv: PathBuf,
}

impl PlateFiles {
    pub fn in_dir(dir: &Path, plate_id: &str) -> PlateFiles {
        PlateFiles {
            scan: dir.join(format!("{plate_id}.fits")),
            truth_csv: dir.join(format!("{plate_id}.truth.csv")),
            truth_votable: dir.join(format!("{plate_id}.truth.vot")),
            defects_csv: dir.join(format!("{plate_id}.defects.csv")),
            reference_csv: dir.join(format!("{plate_id}.ref.csv")),
        }
    }
}

/// An open FITS scan being written band by band.
pub struct ScanWriter {
    file: FitsFile,
    hdu: fitsio::hdu::FitsHdu,
    width: usize,
    next_row: usize,
}

impl ScanWriter {
    /// Creates (or replaces) the scan file with a BITPIX = 16 primary image and the plate's
    /// header.
    pub fn create(path: &Path, plate: &PlateSpec) -> Result<ScanWriter, fitsio::errors::Error> {
        if path.exists() {
            std::fs::remove_file(path)?;
        }
        // NAXIS1 is the fast axis (x); fitsio takes the dimensions slowest first.
        let description = ImageDescription { data_type: ImageType::Short, dimensions: &[plate.height, plate.width] };
        let mut file = FitsFile::create(path).with_custom_primary(&description).open()?;
        // fitsio names the primary HDU "_PRIMARY" when it creates it with an image; a real scan
        // has no EXTNAME there, so remove it.
        // SAFETY: `as_raw` gives the open fitsfile pointer, used only for this call while
        // `file` is alive; ffdkey reads the NUL-terminated key name.
        let mut status = 0;
        unsafe {
            fitsio::sys::ffdkey(file.as_raw(), c"EXTNAME".as_ptr(), &mut status);
        }
        fitsio::errors::check_status(status)?;
        let hdu = file.primary_hdu()?;
        for (key, value, comment) in plate.header_cards() {
            match value {
                CardValue::Real(x) => hdu.write_key(&mut file, &key, (x, comment))?,
                CardValue::Integer(i) => hdu.write_key(&mut file, &key, (i, comment))?,
                CardValue::Text(t) => hdu.write_key(&mut file, &key, (t, comment))?,
            }
        }
        Ok(ScanWriter { file, hdu, width: plate.width, next_row: 0 })
    }

    /// Appends the next band of rows.
    pub fn write_band(&mut self, pixels: &[i16]) -> Result<(), fitsio::errors::Error> {
        let start = self.next_row * self.width;
        self.hdu.write_section(&mut self.file, start, start + pixels.len(), pixels)?;
        self.next_row += pixels.len() / self.width;
        Ok(())
    }
}

fn column(name: &str, value_type: ValueType, unit: Option<&str>, ucd: Option<&str>, description: &str) -> ResultColumn {
    let mut column = ResultColumn::computed(name.to_string(), value_type);
    column.unit = unit.map(str::to_string);
    column.ucd = ucd.map(str::to_string);
    column.description = Some(description.to_string());
    column
}

/// Columns of the truth table; the VOTable has the truth spectrum as a last column.
fn truth_columns(with_spectrum: bool) -> Vec<ResultColumn> {
    let mut columns = vec![
        column("id", ValueType::String, None, Some("meta.id;meta.main"), "Object identifier: plate-number"),
        column("plate", ValueType::String, None, Some("meta.id;obs.image"), "Plate identifier"),
        column("ra", ValueType::Double, Some("deg"), Some("pos.eq.ra;meta.main"), "Right ascension (ICRS)"),
        column("dec", ValueType::Double, Some("deg"), Some("pos.eq.dec;meta.main"), "Declination (ICRS)"),
        column("class", ValueType::String, None, Some("src.class"), "Object class (the catalogue's class_label)"),
        column("subclass", ValueType::String, None, Some("src.spType"), "Subclass or spectral type"),
        column("mag_b", ValueType::Real, Some("mag"), Some("phot.mag;em.opt.B"), "Photographic B magnitude"),
        column("mag_r", ValueType::Real, Some("mag"), Some("phot.mag;em.opt.R"), "Photographic R magnitude, from the SED"),
        column("redshift", ValueType::Double, None, Some("src.redshift"), "Redshift of galaxies and quasars"),
        column("x", ValueType::Double, Some("pix"), Some("pos.cartesian.x;instr.det"), "Anchor point (catalogue position), FITS pixel x (1-based)"),
        column("y", ValueType::Double, Some("pix"), Some("pos.cartesian.y;instr.det"), "Anchor point (catalogue position), FITS pixel y (1-based)"),
        column("bbox_xmin", ValueType::Integer, Some("pix"), None, "Visible trace bounding box, first column"),
        column("bbox_ymin", ValueType::Integer, Some("pix"), None, "Visible trace bounding box, first row"),
        column("bbox_xmax", ValueType::Integer, Some("pix"), None, "Visible trace bounding box, last column"),
        column("bbox_ymax", ValueType::Integer, Some("pix"), None, "Visible trace bounding box, last row"),
        column("visible", ValueType::Boolean, None, Some("meta.code"), "Some of the trace is above twice the sky's grain noise"),
        column("overlaps", ValueType::Boolean, None, Some("meta.code"), "The visible trace overlaps a neighbour's"),
        column("clipped", ValueType::Boolean, None, Some("meta.code"), "The visible trace reaches past the plate's edge"),
        column("extent", ValueType::Real, Some("arcsec"), Some("phys.angSize"), "Intrinsic image FWHM beyond the seeing (galaxies)"),
    ];
    if with_spectrum {
        let mut flux = column(
            "flux_true",
            ValueType::RealArray,
            None,
            Some("phot.flux.density;em.wl"),
            "Noise-free exposure per pixel row along the trace (summed across it, before vignetting and the \
             characteristic curve), on the 136 bins of the DFBS wavelength grid: bin k at \
             lambda = 189.97 + 21933.6/(k + 43.864) nm, from 690 nm toward the blue",
        );
        flux.arraysize = Some(crate::catalog::ArraySize::Fixed(136));
        columns.push(flux);
    }
    columns
}

fn truth_row(plate: &PlateSpec, object: &SimObject, with_spectrum: bool) -> Vec<Cell> {
    let bbox = object.bbox;
    let bbox_cell = |i: usize| bbox.map_or(Cell::Null, |b| Cell::Int(b[i] as i32));
    let mut row = vec![
        Cell::Text(format!("{}-{:06}", plate.plate_id, object.number)),
        Cell::Text(plate.plate_id.clone()),
        Cell::Double(object.ra),
        Cell::Double(object.dec),
        Cell::Text(if object.injected { "anomaly".to_string() } else { object.template.class.label().to_string() }),
        Cell::Text(object.template.subclass.clone()),
        Cell::Float(object.mag_b as f32),
        Cell::Float(object.mag_r as f32),
        object.template.redshift.map_or(Cell::Null, Cell::Double),
        Cell::Double(object.x),
        Cell::Double(object.y),
        bbox_cell(0),
        bbox_cell(1),
        bbox_cell(2),
        bbox_cell(3),
        Cell::Boolean(bbox.is_some()),
        Cell::Boolean(object.overlaps),
        Cell::Boolean(object.clipped),
        Cell::Float(object.template.extent_arcsec as f32),
    ];
    if with_spectrum {
        row.push(Cell::FloatArray(object.truth_spectrum()));
    }
    row
}

/// Writes the truth table as CSV (no spectra) and as a VOTable (BINARY2, with the truth
/// spectra), streaming both.
pub fn write_truth(files: &PlateFiles, plate: &PlateSpec, objects: &[SimObject]) -> std::io::Result<()> {
    for (path, format, with_spectrum) in
        [(&files.truth_csv, Format::Csv, false), (&files.truth_votable, Format::VotableBinary2, true)]
    {
        let columns = truth_columns(with_spectrum);
        let info = DocumentInfo {
            query: None,
            infos: vec![
                ("plate".into(), plate.plate_id.clone()),
                ("simulator".into(), format!("dfbs-vo {} simulate, seed {}", env!("CARGO_PKG_VERSION"), plate.seed)),
            ],
            table_name: Some("truth".into()),
        };
        let mut writer = ResultWriter::new(format, &columns, &info);
        let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
        for object in objects {
            writer.write_row(&truth_row(plate, object, with_spectrum));
            if writer.buffered() > 1 << 20 {
                file.write_all(&writer.take_chunk())?;
            }
        }
        file.write_all(&writer.finish(End::Complete))?;
        file.flush()?;
    }
    Ok(())
}

/// Writes the defect list as CSV.
pub fn write_defects(path: &Path, plate: &PlateSpec, defects: &[Defect]) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(file, "id,plate,kind,x_start,y_start,x_end,y_end,half_width,bbox_xmin,bbox_ymin,bbox_xmax,bbox_ymax")?;
    for defect in defects {
        let b = defect.bbox();
        writeln!(
            file,
            "{}-d{:05},{},{},{:.2},{:.2},{:.2},{:.2},{:.2},{},{},{},{}",
            plate.plate_id,
            defect.number,
            plate.plate_id,
            defect.kind.label(),
            defect.start.0,
            defect.start.1,
            defect.end.0,
            defect.end.1,
            defect.half_width,
            b[0],
            b[1],
            b[2],
            b[3]
        )?;
    }
    file.flush()
}

/// Writes the plate's photometric reference catalogue (`ra,dec,mag_b,mag_r`), what the
/// pipeline calibrates `magb` against: every object of the plate, as a B and R catalogue from
/// outside the survey would list it, with that catalogue's own errors,
/// σ = 0.02 + 0.03 · 10^(0.4 (m − 18)) mag (Gaia-XP-like synthetic photometry: 0.03 mag at 16,
/// 0.05 at 18) drawn from the plate's seed. Plain CSV without comment lines, so that TOPCAT and
/// astropy read it as it is.
/// It lists objects whatever their trace looks like on the plate (faint, blended, clipped), so
/// that the completeness on the plate can be measured from it.
pub fn write_reference(path: &Path, plate: &PlateSpec, objects: &[SimObject]) -> std::io::Result<()> {
    let mut rng = super::random::SimRng::for_plate(plate.seed, plate.index, 0x5245_4643);
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(file, "ra,dec,mag_b,mag_r")?;
    for object in objects {
        let sigma = |mag: f64| 0.02 + 0.03 * 10f64.powf(0.4 * (mag - 18.0));
        let (b, r) = (rng.gauss(object.mag_b, sigma(object.mag_b)), rng.gauss(object.mag_r, sigma(object.mag_r)));
        writeln!(file, "{:.7},{:.7},{b:.3},{r:.3}", object.ra, object.dec)?;
    }
    file.flush()
}
