//! The streaming result writer.

use crate::adql::ResultColumn;

use super::base64::Base64Encoder;
use super::column::OutColumn;
use super::delimited::{self, Dialect};
use super::{binary, number, tabledata, Format};

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
        // A copy of exactly the buffered bytes: the buffer itself stays, warm, for the rows
        // that follow, and the chunk carries no spare capacity while it is being sent.
        let chunk = self.out.to_vec();
        self.out.clear();
        chunk
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
    crate::xml::append_attr(out, value);
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
    crate::xml::append_text(out, message);
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
        crate::xml::append_text(out, description);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adql::ValueType;
    use crate::catalog::{ArraySize, Datatype};

    fn columns() -> Vec<ResultColumn> {
        let mut name = ResultColumn::computed("name".into(), ValueType::String);
        name.description = Some("The <name>".into());
        let mut ra = ResultColumn::computed("ra".into(), ValueType::Double);
        ra.unit = Some("deg".into());
        ra.ucd = Some("pos.eq.ra;meta.main".into());
        let mut n = ResultColumn::computed("n".into(), ValueType::Integer);
        n.ucd = Some("not a ucd!".into());
        let mut pos = ResultColumn::computed("pos".into(), ValueType::Point);
        pos.datatype = Datatype::Double;
        pos.arraysize = Some(ArraySize::Fixed(2));
        vec![name, ra, n, pos]
    }

    fn info() -> DocumentInfo {
        DocumentInfo { query: Some("SELECT 1\nFROM t".into()), infos: vec![("service".into(), "x".into())], table_name: Some("result".into()) }
    }

    #[test]
    fn tabledata_document() {
        let mut writer = ResultWriter::new(Format::VotableTabledata, &columns(), &info());
        writer.write_row(&[Cell::Text("a&b".into()), Cell::Double(1.5), Cell::Int(-3), Cell::DoubleArray(vec![Some(10.0), Some(-5.25)])]);
        writer.write_row(&[Cell::Null, Cell::Null, Cell::Null, Cell::Null]);
        assert_eq!(writer.rows(), 2);
        let text = String::from_utf8(writer.finish(End::Overflow)).unwrap();
        let expected = format!(
            "{XML_DECLARATION}{VOTABLE_START}<RESOURCE type=\"results\">
<INFO name=\"QUERY_STATUS\" value=\"OK\"/>
<INFO name=\"QUERY\" value=\"SELECT 1&#10;FROM t\"/>
<INFO name=\"service\" value=\"x\"/>
<TABLE name=\"result\">
<FIELD name=\"name\" ID=\"name\" datatype=\"unicodeChar\" arraysize=\"*\"><DESCRIPTION>The &lt;name&gt;</DESCRIPTION></FIELD>
<FIELD name=\"ra\" ID=\"ra\" datatype=\"double\" unit=\"deg\" ucd=\"pos.eq.ra;meta.main\"/>
<FIELD name=\"n\" ID=\"n\" datatype=\"int\"/>
<FIELD name=\"pos\" ID=\"pos\" datatype=\"double\" arraysize=\"2\" xtype=\"point\"/>
<DATA><TABLEDATA>
<TR><TD>a&amp;b</TD><TD>1.5</TD><TD>-3</TD><TD>10 -5.25</TD></TR>
<TR><TD/><TD/><TD/><TD>NaN NaN</TD></TR>
</TABLEDATA></DATA>
</TABLE>
<INFO name=\"QUERY_STATUS\" value=\"OVERFLOW\"/>
</RESOURCE>
</VOTABLE>
"
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn binary2_document_ends_its_stream_on_error() {
        let mut writer = ResultWriter::new(Format::VotableBinary2, &columns(), &info());
        writer.write_row(&[Cell::Text("é".into()), Cell::Double(1.0), Cell::Int(2), Cell::Null]);
        let head = writer.take_chunk();
        assert_eq!(writer.buffered(), 0);
        let head = String::from_utf8(head).unwrap();
        // Flags 0x10 (the point is NULL), then the count 1 of the string: 10 00 00 00 01.
        assert!(head.contains("<DATA><BINARY2><STREAM encoding=\"base64\">\nEAAAAAEA"), "{head}");
        assert!(!head.contains("<VALUES"), "no sentinels in BINARY2");
        let tail = String::from_utf8(writer.finish(End::Error("it <broke>".into()))).unwrap();
        assert!(tail.ends_with(
            "\n</STREAM></BINARY2></DATA>\n</TABLE>\n<INFO name=\"QUERY_STATUS\" value=\"ERROR\">it &lt;broke&gt;</INFO>\n</RESOURCE>\n</VOTABLE>\n"
        ));
        // The bytes of the row: 1 flag byte, 4 + 2, 8, 4, 16 = 35 bytes, 48 base64 characters.
        let stream = format!("{}{}", head.rsplit_once('\n').unwrap().1, tail.split_once('\n').unwrap().0);
        assert_eq!(stream.len(), 48);
        assert!(stream.ends_with('='));
    }

    #[test]
    fn binary_declares_integer_null_sentinels() {
        let writer = ResultWriter::new(Format::VotableBinary, &columns(), &info());
        let text = String::from_utf8(writer.finish(End::Complete)).unwrap();
        assert!(text.contains("<FIELD name=\"n\" ID=\"n\" datatype=\"int\"><VALUES null=\"-2147483648\"/></FIELD>"));
        assert!(text.contains("<DATA><BINARY><STREAM encoding=\"base64\">\n</STREAM></BINARY></DATA>"));
    }

    #[test]
    fn csv_and_tsv_documents() {
        let mut writer = ResultWriter::new(Format::Csv, &columns(), &info());
        writer.write_row(&[Cell::Text("a,b".into()), Cell::Double(0.1), Cell::Null, Cell::DoubleArray(vec![Some(1.0), Some(2.0)])]);
        assert_eq!(writer.finish(End::Overflow), b"name,ra,n,pos\r\n\"a,b\",0.1,,1 2\r\n");
        let mut writer = ResultWriter::new(Format::Tsv, &columns(), &info());
        writer.write_row(&[Cell::Text("a\tb".into()), Cell::Double(0.1), Cell::Int(1), Cell::Null]);
        assert_eq!(writer.finish(End::Complete), b"name\tra\tn\tpos\na\\tb\t0.1\t1\t\n");
    }

    #[test]
    fn error_document_has_one_status() {
        assert_eq!(
            error_document("bad \"query\" <here>"),
            format!(
                "{XML_DECLARATION}{VOTABLE_START}<RESOURCE type=\"results\">\n\
                 <INFO name=\"QUERY_STATUS\" value=\"ERROR\">bad \"query\" &lt;here&gt;</INFO>\n</RESOURCE>\n</VOTABLE>\n"
            )
        );
    }
}
