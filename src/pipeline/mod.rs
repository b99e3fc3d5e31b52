//! The pipeline from plate scans (and DFBS ASCII spectra) to catalogue rows: detection,
//! extraction on the DFBS wavelength scale, photometric calibration, classification (class,
//! subclass, anomaly score), and the catalogue writer; `evaluate` compares a catalogue with the
//! simulator's truth.

pub mod catalogue;
pub mod classify;
pub mod dataset;
pub mod evaluate;
pub mod fits;
pub mod ingest;
pub mod spec;
pub mod wavelength;
pub mod wcs;
pub mod detect;
pub mod extract;
pub mod params;
pub mod photometry;
pub mod plate;
pub mod priors;
pub mod recalibrate;
pub mod subclass;
