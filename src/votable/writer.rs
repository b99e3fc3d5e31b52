//! The streaming result writer.

use crate::adql::ResultColumn;

/// One value of a result row, as decoded from the database. The decoder produces the
/// variant that matches the column's `ResultColumn::value_type`, or `Null`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Boolean(bool),
    Short(i16),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    Text(String),
    /// xtype timestamp; written as ISO 8601 (DALI 1.1 section 3.3.3).
    Timestamp(chrono::NaiveDateTime),
    /// float arrays (e.g. a spectrum's flux); elements may be NULL.
    FloatArray(Vec<Option<f32>>),
    /// double arrays, including the DALI geometries point, circle, polygon.
    DoubleArray(Vec<Option<f64>>),
}

/// What the document says about the query besides its rows.
#[derive(Debug, Clone, Default)]
pub struct DocumentInfo {
    /// The query as the user sent it (INFO name="QUERY").
    pub query: Option<String>,
    /// Further INFO elements (name, value), e.g. ("request_date", ...), ("service", ...).
    pub infos: Vec<(String, String)>,
    /// TABLE name attribute.
    pub table_name: Option<String>,
}

/// How the result ended.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// All rows were written.
    Complete,
    /// More rows existed than MAXREC allowed: QUERY_STATUS OVERFLOW after the TABLE.
    Overflow,
    /// The query failed after the document began: it is closed cleanly and a trailing
    /// QUERY_STATUS ERROR INFO carries the message.
    Error(String),
}

/// Writes one result document, row by row, into an internal buffer.
pub struct ResultWriter {
    _private: (),
}

impl ResultWriter {
    /// Starts a document: everything up to the first row goes into the buffer.
    pub fn new(format: super::Format, columns: &[ResultColumn], info: &DocumentInfo) -> ResultWriter {
        let _ = (format, columns, info);
        unimplemented!("votable::ResultWriter::new")
    }

    /// Appends one row; `row.len()` equals the number of columns.
    pub fn write_row(&mut self, row: &[Cell]) {
        let _ = row;
        unimplemented!("votable::ResultWriter::write_row")
    }

    /// Bytes buffered and not yet taken.
    pub fn buffered(&self) -> usize {
        unimplemented!("votable::ResultWriter::buffered")
    }

    /// Takes the buffered bytes (the writer keeps its allocation for what follows).
    pub fn take_chunk(&mut self) -> Vec<u8> {
        unimplemented!("votable::ResultWriter::take_chunk")
    }

    /// Ends the document and returns its last bytes (with anything still buffered).
    pub fn finish(self, end: End) -> Vec<u8> {
        let _ = end;
        unimplemented!("votable::ResultWriter::finish")
    }
}

/// A DALI 1.1 (section 5.2) error document: a VOTable whose RESOURCE type="results" holds
/// exactly one INFO name="QUERY_STATUS" value="ERROR" with the message, and no TABLE.
pub fn error_document(message: &str) -> String {
    let _ = message;
    unimplemented!("votable::error_document")
}
