//! The pipeline from plate scans (and DFBS ASCII spectra) to catalogue rows. So far: the DFBS
//! wavelength scale and the reader of the DFBS ASCII spectrum format.

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
