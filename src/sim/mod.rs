//! The DFBS plate simulator: synthetic plate scans with a truth table.

pub mod random;
pub mod templates;
