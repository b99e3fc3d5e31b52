//! The published tables as typed metadata: the one source of truth for every schema, table
//! and column the service publishes (TAP_SCHEMA, VOSI tables, VOTable FIELDs, SCS/SSA fields
//! and the registry's tableset are all rendered from it).
//!
//! The metadata is declared in TOML files under `tap/` (one file per schema), loaded with
//! [`Catalog::load_dir`] and validated once at load time, so the rest of the service can rely
//! on it: names are lower-case regular identifiers (VO-INTEROP mistake 9), every `char`
//! column has an arraysize (mistake 5), xtypes match their datatypes (DALI 1.1 section 3.3),
//! foreign keys point to existing tables and columns.

mod load;
mod model;
pub mod tap_schema;
pub mod vosi;

pub use load::CatalogError;
pub use model::{ArraySize, Catalog, Column, Datatype, ForeignKey, Schema, Table, TableType};
