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
//!
//! Implementation: `writer` (document structure: header, FIELDs, INFOs, endings),
//! `tabledata`, `binary` (BINARY and BINARY2 rows) and `delimited` (CSV, TSV) for the rows,
//! `base64` (the streaming encoder of the binary STREAM), `column` (how each column is
//! written), `number` (text forms of numbers and timestamps), `text` (strings of string
//! columns). XML escaping into the buffer is `crate::xml`.
//!
//! Choices, checked against votlint (STILTS 3.4), astropy and pyvo by tests/votable.rs:
//! - Strings are written with the datatype the column declares. Text columns are declared
//!   `unicodeChar` (tap/, computed strings), so that any text survives every serialisation:
//!   VOTable 1.4 `char` is 7-bit ASCII, and astropy cannot read UTF-8 bytes in a `char`
//!   column of a BINARY/BINARY2 stream. In BINARY/BINARY2 a `unicodeChar` string is UTF-16
//!   (arraysize counts code units; characters beyond the BMP as surrogate pairs, which
//!   astropy and STIL decode). Columns declared `char` (uploaded ones) stay `char`, with
//!   non-ASCII characters written as '?' in BINARY/BINARY2; timestamps are always `char` (ASCII by
//!   construction; votlint requires `char` for xtype="timestamp").
//! - NULL: TABLEDATA an empty TD, except fixed-size arrays and polygons (NaN elements);
//!   BINARY2 the null flag; BINARY NaN for floating point, the sentinel declared by
//!   `<VALUES null="..."/>` for integers (the type's minimum; 255 for unsignedByte), '?' for
//!   booleans, empty for strings and variable-length arrays.
//! - Geometries (point, circle, polygon) that are no valid DALI value are written as NULL.
//! - Strings and arrays are cut (and fixed-size ones padded) to their declared arraysize.

mod base64;
mod binary;
mod column;
mod delimited;
mod format;
mod number;
mod reader;
mod tabledata;
mod text;
mod writer;

pub use format::Format;
pub use reader::{read_table, UploadedTable};
pub use writer::{error_document, Cell, DocumentInfo, End, ResultWriter};
