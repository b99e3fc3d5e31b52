//! The streaming result writer.

use crate::adql::ResultColumn;

use super::base64::Base64Encoder;
use super::column::OutColumn;
use super::delimited::{self, Dialect};
use super::{binary, escape, number, tabledata, Format};

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
///
/// VOTable documents are VOTable 1.4: RESOURCE type="results" with INFO QUERY_STATUS OK,
/// INFO QUERY and the other infos, then the TABLE with a FIELD per column and the DATA; after
/// the TABLE an INFO QUERY_STATUS OVERFLOW or ERROR when the result ended so. String columns
/// are written as `unicodeChar` (any text survives every serialisation), timestamps as
/// `char`; see the module documentation of the serialisations for NULL.
pub struct ResultWriter {
    format: Format,
    columns: Vec<OutColumn>,
    out: Vec<u8>,
    /// One encoded row (BINARY/BINARY2) before base64.
    row: Vec<u8>,
    /// Text of cells that are not strings in string columns.
    scratch: Vec<u8>,
    base64: Base64Encoder,
    rows: u64,
}

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const VOTABLE_START: &str = "<VOTABLE version=\"1.4\" xmlns=\"http://www.ivoa.net/xml/VOTable/v1.3\" \
xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
xsi:schemaLocation=\"http://www.ivoa.net/xml/VOTable/v1.3 http://www.ivoa.net/xml/VOTable/v1.3\">\n";

impl ResultWriter {
    /// Starts a document: everything up to the first row goes into the buffer.
    pub fn new(format: Format, columns: &[ResultColumn], info: &DocumentInfo) -> ResultWriter {
        let mut writer = ResultWriter {
            format,
            columns: OutColumn::all(columns),
            out: Vec::with_capacity(64 * 1024),
            row: Vec::with_capacity(1024),
            scratch: Vec::new(),
            base64: Base64Encoder::new(),
            rows: 0,
        };
        match format {
            Format::Csv => delimited::write_header(&mut writer.out, Dialect::Csv, columns.iter().map(|c| c.name.as_str())),
            Format::Tsv => delimited::write_header(&mut writer.out, Dialect::Tsv, columns.iter().map(|c| c.name.as_str())),
            _ => writer.write_votable_head(columns, info),
        }
        writer
    }

    fn write_votable_head(&mut self, columns: &[ResultColumn], info: &DocumentInfo) {
        let out = &mut self.out;
        out.extend_from_slice(XML_DECLARATION.as_bytes());
        out.extend_from_slice(VOTABLE_START.as_bytes());
        out.extend_from_slice(b"<RESOURCE type=\"results\">\n");
        out.extend_from_slice(b"<INFO name=\"QUERY_STATUS\" value=\"OK\"/>\n");
        if let Some(query) = &info.query {
            push_info(out, "QUERY", query);
        }
        for (name, value) in &info.infos {
            push_info(out, name, value);
        }
        out.extend_from_slice(b"<TABLE");
        if let Some(name) = &info.table_name {
            push_attr(out, "name", name);
        }
        out.extend_from_slice(b">\n");
        for (column, out_column) in columns.iter().zip(&self.columns) {
            push_field(out, column, out_column, self.format == Format::VotableBinary);
        }
        out.extend_from_slice(match self.format {
            Format::VotableBinary => b"<DATA><BINARY><STREAM encoding=\"base64\">\n".as_slice(),
            Format::VotableBinary2 => b"<DATA><BINARY2><STREAM encoding=\"base64\">\n".as_slice(),
            _ => b"<DATA><TABLEDATA>\n".as_slice(),
        });
    }

    /// Appends one row; `row.len()` equals the number of columns (missing cells are
    /// written as NULL, extra ones ignored).
    pub fn write_row(&mut self, row: &[Cell]) {
        self.rows += 1;
        match self.format {
            Format::VotableTabledata => tabledata::write_row(&mut self.out, &self.columns, row, &mut self.scratch),
            Format::VotableBinary | Format::VotableBinary2 => {
                self.row.clear();
                binary::write_row(&mut self.row, &self.columns, row, self.format == Format::VotableBinary2, &mut self.scratch);
                self.base64.encode(&self.row, &mut self.out);
            }
            Format::Csv => delimited::write_row(&mut self.out, Dialect::Csv, self.columns.len(), row),
            Format::Tsv => delimited::write_row(&mut self.out, Dialect::Tsv, self.columns.len(), row),
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The format being written.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Bytes buffered and not yet taken.
    pub fn buffered(&self) -> usize {
        self.out.len()
    }

    /// Takes the buffered bytes (the writer keeps its allocation for what follows).
    pub fn take_chunk(&mut self) -> Vec<u8> {
        let capacity = self.out.capacity();
        std::mem::replace(&mut self.out, Vec::with_capacity(capacity))
    }

    /// Ends the document and returns its last bytes (with anything still buffered).
    ///
    /// CSV and TSV have no place for the status: an overflow is invisible there (the caller
    /// knows it asked for MAXREC rows), and after an error the text simply ends; the TAP
    /// layer should log the error (and, for async jobs, set the job to ERROR).
    pub fn finish(mut self, end: End) -> Vec<u8> {
        let out = &mut self.out;
        match self.format {
            Format::Csv | Format::Tsv => return self.out,
            Format::VotableTabledata => out.extend_from_slice(b"</TABLEDATA></DATA>\n</TABLE>\n"),
            Format::VotableBinary | Format::VotableBinary2 => {
                self.base64.finish(out);
                out.extend_from_slice(if self.format == Format::VotableBinary {
                    b"</STREAM></BINARY></DATA>\n</TABLE>\n".as_slice()
                } else {
                    b"</STREAM></BINARY2></DATA>\n</TABLE>\n".as_slice()
                });
            }
        }
        match &end {
            End::Complete => {}
            End::Overflow => out.extend_from_slice(b"<INFO name=\"QUERY_STATUS\" value=\"OVERFLOW\"/>\n"),
            End::Error(message) => push_error_info(out, message),
        }
        out.extend_from_slice(b"</RESOURCE>\n</VOTABLE>\n");
        self.out
    }
}

fn push_attr(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(b' ');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"=\"");
    escape::attr(out, value);
    out.push(b'"');
}

fn push_info(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(b"<INFO");
    push_attr(out, "name", name);
    push_attr(out, "value", value);
    out.extend_from_slice(b"/>\n");
}

fn push_error_info(out: &mut Vec<u8>, message: &str) {
    out.extend_from_slice(b"<INFO name=\"QUERY_STATUS\" value=\"ERROR\">");
    escape::text(out, message);
    out.extend_from_slice(b"</INFO>\n");
}

/// Whether a UCD fits the VOTable schema's ucdType (else it is left out, so that the
/// document stays valid).
fn valid_ucd(ucd: &str) -> bool {
    ucd.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b';' | b'-'))
}

fn push_field(out: &mut Vec<u8>, column: &ResultColumn, out_column: &OutColumn, binary: bool) {
    let kind = out_column.kind;
    out.extend_from_slice(b"<FIELD");
    push_attr(out, "name", &column.name);
    push_attr(out, "ID", &out_column.id);
    push_attr(out, "datatype", kind.datatype());
    if let Some(arraysize) = kind.arraysize() {
        push_attr(out, "arraysize", &arraysize);
    }
    let optional = [
        ("unit", column.unit.as_deref()),
        ("ucd", column.ucd.as_deref().filter(|u| valid_ucd(u))),
        ("utype", column.utype.as_deref()),
        ("xtype", column.xtype.as_deref()),
    ];
    for (name, value) in optional {
        if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
            push_attr(out, name, value);
        }
    }
    let description = column.description.as_deref().filter(|d| !d.trim().is_empty());
    let sentinel = if binary { kind.null_sentinel() } else { None };
    if description.is_none() && sentinel.is_none() {
        out.extend_from_slice(b"/>\n");
        return;
    }
    out.extend_from_slice(b">");
    if let Some(description) = description {
        out.extend_from_slice(b"<DESCRIPTION>");
        escape::text(out, description);
        out.extend_from_slice(b"</DESCRIPTION>");
    }
    if let Some(sentinel) = sentinel {
        out.extend_from_slice(b"<VALUES null=\"");
        number::push_int(out, sentinel);
        out.extend_from_slice(b"\"/>");
    }
    out.extend_from_slice(b"</FIELD>\n");
}

/// A DALI 1.1 (section 5.2) error document: a VOTable whose RESOURCE type="results" holds
/// exactly one INFO name="QUERY_STATUS" value="ERROR" with the message, and no TABLE.
pub fn error_document(message: &str) -> String {
    let mut out = Vec::with_capacity(400 + message.len());
    out.extend_from_slice(XML_DECLARATION.as_bytes());
    out.extend_from_slice(VOTABLE_START.as_bytes());
    out.extend_from_slice(b"<RESOURCE type=\"results\">\n");
    push_error_info(&mut out, message);
    out.extend_from_slice(b"</RESOURCE>\n</VOTABLE>\n");
    // Only whole UTF-8 strings and ASCII went in.
    String::from_utf8(out).unwrap_or_default()
}
