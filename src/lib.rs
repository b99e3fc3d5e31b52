//! dfbs-vo: a Virtual Observatory data service for the Digitized First Byurakan Survey.
//!
//! Modules, each knowing only those listed before it (see ARCHITECTURE in the design docs):
//! [`catalog`] (published metadata from tap/), [`config`], [`db`] (PostgreSQL: the private
//! cluster, migrations, TAP_SCHEMA), [`service`] (the HTTP interfaces), [`cli`].

pub mod adql;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod db;
pub mod pipeline;
pub mod progress;
pub mod service;
pub mod sim;
pub mod uws;
pub mod votable;
pub mod xml;

/// The version recorded as provenance in the catalogue and shown by the service.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
