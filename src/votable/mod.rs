//! Streaming writers for query results: VOTable 1.4 (TABLEDATA, BINARY, BINARY2), CSV and
//! TSV, and the DALI error document. A writer turns rows into bytes as they come, so memory
//! does not grow with the size of a result; the caller takes the bytes in chunks and sends
//! them on.
//!
//! Interface (implementation in the submodules):
//! - [`Format`]: the output formats and the RESPONSEFORMAT / FORMAT values that name them.
//! - [`Cell`]: one value of a row, as decoded from the database.
//! - [`ResultWriter`]: header on creation, then [`ResultWriter::write_row`] per row,
//!   [`ResultWriter::take_chunk`] whenever the caller wants to send, and
//!   [`ResultWriter::finish`] with how the query ended (complete, overflow, or an error after
//!   streaming began, which closes the document cleanly with QUERY_STATUS ERROR).
//! - [`error_document`]: the DALI 1.1 error VOTable.

mod base64;
mod binary;
mod column;
mod delimited;
mod escape;
mod format;
mod number;
mod tabledata;
mod text;
mod writer;

pub use format::Format;
pub use writer::{error_document, Cell, DocumentInfo, End, ResultWriter};
