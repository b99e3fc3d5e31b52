//! The VOTable reader, for table uploads (TAP 1.1 section 2.5.6): reads the first TABLE of a
//! VOTable document into column metadata and rows of [`Cell`]s.
//!
//! Structure: [`read_table`] turns the bytes into text ([`document_text`]: UTF-8, or UTF-16
//! with a byte order mark, or Latin-1 when the XML declaration says so), then a [`Parser`]
//! walks the quick-xml events. Elements are recognised by their local name, so any VOTable
//! version (1.1 to 1.5), with or without a namespace, prefixed or not, is read alike. The
//! first TABLE (at any RESOURCE depth) is read and parsing stops at its end; its FIELDs
//! become [`Field`]s (how values are decoded) and [`Column`]s (the metadata handed on);
//! GROUP, PARAM, INFO, LINK, COOSYS, TIMESYS and the like are skipped. Rows come from
//! TABLEDATA ([`parse_td`]) or from the base64 STREAM of BINARY / BINARY2
//! ([`Base64`], then [`read_binary_value`] per value).
//!
//! Values: boolean -> `Boolean`; unsignedByte, short -> `Short`; int -> `Int`; long ->
//! `Long`; float -> `Float`; double -> `Double`; char, unicodeChar -> `Text`, or `Timestamp`
//! for xtype timestamp (also the TAP 1.0 spelling adql:TIMESTAMP, announced as timestamp);
//! float arrays -> `FloatArray`; arrays of every other type (double, integers, boolean, bit)
//! -> `DoubleArray` (booleans and bits as 1 and 0). A scalar bit is a `Boolean` (any bit of
//! its byte set: astropy writes 0x08 rather than 0x80). `char` bytes are UTF-8 when they are
//! (STIL writes UTF-8 there), else Latin-1; strings end at the first NUL.
//! Multidimensional arraysizes (`2x3`, `2x*`) are flattened. Complex numbers are refused.
//!
//! NULL: an empty TD; the FIELD's `VALUES null` sentinel for integers (scalars and array
//! elements); NaN for floating point values, which is read as NULL (`Cell::Null`, and `None`
//! in arrays), so that NaN and NULL, which the serialisations use interchangeably, load the
//! same; in BINARY (which has no flags) an empty string or empty variable-length array; in
//! BINARY2 the null flag (a flagged value is skipped, not decoded). An array whose elements are all NULL (how fixed-size arrays and
//! geometries are written as NULL) is NULL.
//!
//! Refused, with a message: external streams (`STREAM href`), stream encodings other than
//! base64, the FITS serialisation (and any other), `TABLE ref`, DTD internal subsets and
//! entity declarations (XXE, entity expansion), undefined entities, complex datatypes,
//! documents that are not well-formed, values that do not parse, counts larger than the
//! bytes left, more rows than the upload limit, and tables that would take more memory
//! decoded than [`MEMORY_PER_INPUT_BYTE`] times the document's size (plus [`MEMORY_BASE`]).
//!
//! Safety: the input is untrusted. quick-xml expands no entities and fetches nothing; sizes
//! and counts are computed with checked arithmetic and checked against the bytes that are
//! really there before anything is allocated; no allocation is sized from a declared value;
//! the decoded table is charged against the memory budget (strings and arrays of BINARY
//! before they are decoded).

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveDateTime};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::Cell;
use crate::catalog::{ArraySize, Column, Datatype};

/// A table read from an uploaded VOTable.
#[derive(Debug, Clone)]
pub struct UploadedTable {
    /// Column metadata from the FIELDs: name, datatype, arraysize, xtype, unit, ucd, utype,
    /// description (empty string if none), column_index (1-based), principal/indexed/std/delimited false.
    pub columns: Vec<Column>,
    /// One Vec<Cell> per row, one Cell per column.
    pub rows: Vec<Vec<Cell>>,
}

/// Reads the first TABLE of a VOTable document; refuses more than max_rows rows.
pub fn read_table(data: &[u8], max_rows: u64) -> Result<UploadedTable, String> {
    read_table_within(data, max_rows, memory_budget(data.len()))
}

/// The memory the table read from a document of `len` bytes may take.
fn memory_budget(len: usize) -> usize {
    len.saturating_mul(MEMORY_PER_INPUT_BYTE).saturating_add(MEMORY_BASE)
}

/// [`read_table`] with a memory budget in bytes.
fn read_table_within(data: &[u8], max_rows: u64, budget: usize) -> Result<UploadedTable, String> {
    let text = document_text(data)?;
    let mut parser = Parser::new(max_rows, budget);
    parser.run(&text)?;
    Ok(UploadedTable { columns: parser.columns, rows: parser.rows })
}

const ENTITIES_REFUSED: &str = "the uploaded VOTable declares a DTD internal subset or entities (<!DOCTYPE ... [...]>, <!ENTITY>): \
     these are refused (entity expansion and external entity attacks); remove the DOCTYPE";

/// The memory the decoded table may take: this many bytes per byte of the document, plus
/// [`MEMORY_BASE`]. Ordinary tables need well under 10 (a double in BINARY2: 8 bytes, 10.7
/// base64 characters, a 32-byte cell); the bound stops documents that decode to far more
/// than they hold (TRs without TDs padded to thousands of FIELDs, bit arrays) from taking
/// the server's memory.
const MEMORY_PER_INPUT_BYTE: usize = 32;
const MEMORY_BASE: usize = 64 << 20;

/// Deepest element nesting accepted (a VOTable needs about ten levels plus RESOURCE/GROUP
/// nesting).
const MAX_DEPTH: usize = 256;

// ---------------------------------------------------------------------------------------
// Document text
// ---------------------------------------------------------------------------------------

/// The document as text: UTF-8 as it is; UTF-16 (with a byte order mark) transcoded; bytes
/// that are not UTF-8 as Latin-1 when the XML declaration names ISO-8859-1 (or a relative).
fn document_text(data: &[u8]) -> Result<Cow<'_, str>, String> {
    if let Some(rest) = data.strip_prefix(&[0xFE, 0xFF]) {
        return utf16_document(rest, true);
    }
    if let Some(rest) = data.strip_prefix(&[0xFF, 0xFE]) {
        return utf16_document(rest, false);
    }
    match std::str::from_utf8(data) {
        Ok(text) => Ok(Cow::Borrowed(text)),
        Err(error) => {
            let latin1 = declared_encoding(data).is_some_and(|e| {
                ["iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "iso-8859-15", "windows-1252", "cp1252", "us-ascii", "ascii"]
                    .iter()
                    .any(|n| e.eq_ignore_ascii_case(n))
            });
            if latin1 {
                Ok(Cow::Owned(data.iter().map(|&b| char::from(b)).collect()))
            } else {
                Err(format!(
                    "the uploaded VOTable is not UTF-8 text (invalid byte at offset {}); send it in UTF-8",
                    error.valid_up_to()
                ))
            }
        }
    }
}

fn utf16_document(data: &[u8], big_endian: bool) -> Result<Cow<'_, str>, String> {
    if !data.len().is_multiple_of(2) {
        return Err("the uploaded VOTable is UTF-16 text with an odd number of bytes (truncated?)".into());
    }
    let units = data.chunks_exact(2).map(|pair| match *pair {
        [a, b] if big_endian => u16::from_be_bytes([a, b]),
        [a, b] => u16::from_le_bytes([a, b]),
        _ => 0,
    });
    let mut text = String::with_capacity(data.len() / 2);
    for c in char::decode_utf16(units) {
        text.push(c.map_err(|_| "the uploaded VOTable is UTF-16 text with an unpaired surrogate".to_string())?);
    }
    Ok(Cow::Owned(text))
}

/// The encoding named by the XML declaration, if any.
fn declared_encoding(data: &[u8]) -> Option<&str> {
    let head = data.get(..data.len().min(300))?;
    let head = head.strip_prefix(b"<?xml")?;
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(head.get(..end)?).ok()?;
    let after = decl.split_once("encoding")?.1.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|&c| c == '"' || c == '\'')?;
    let value = after.get(1..)?;
    value.split(quote).next()
}

// ---------------------------------------------------------------------------------------
// FIELDs
// ---------------------------------------------------------------------------------------

/// VOTable primitive datatypes (VOTable 1.4 section 2.1), complex ones excepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prim {
    Boolean,
    Bit,
    UnsignedByte,
    Short,
    Int,
    Long,
    Char,
    UnicodeChar,
    Float,
    Double,
}

impl Prim {
    fn parse(datatype: &str) -> Option<Prim> {
        const NAMES: [(&str, Prim); 10] = [
            ("boolean", Prim::Boolean),
            ("bit", Prim::Bit),
            ("unsignedByte", Prim::UnsignedByte),
            ("short", Prim::Short),
            ("int", Prim::Int),
            ("long", Prim::Long),
            ("char", Prim::Char),
            ("unicodeChar", Prim::UnicodeChar),
            ("float", Prim::Float),
            ("double", Prim::Double),
        ];
        let datatype = datatype.trim();
        NAMES.iter().find(|(name, _)| name.eq_ignore_ascii_case(datatype)).map(|&(_, prim)| prim)
    }

    /// Bytes per element in BINARY/BINARY2 (bits are packed: see [`Prim::bytes_for`]).
    fn width(self) -> usize {
        match self {
            Prim::Boolean | Prim::Bit | Prim::UnsignedByte | Prim::Char => 1,
            Prim::Short | Prim::UnicodeChar => 2,
            Prim::Int | Prim::Float => 4,
            Prim::Long | Prim::Double => 8,
        }
    }

    /// Bytes taken by `n` elements, None on overflow.
    fn bytes_for(self, n: usize) -> Option<usize> {
        if self == Prim::Bit { Some(n.div_ceil(8)) } else { n.checked_mul(self.width()) }
    }

    fn is_integer(self) -> bool {
        matches!(self, Prim::UnsignedByte | Prim::Short | Prim::Int | Prim::Long)
    }

    fn is_character(self) -> bool {
        matches!(self, Prim::Char | Prim::UnicodeChar)
    }
}

/// The last dimension of an arraysize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    Fixed(usize),
    /// `n*`: a count, at most n (not enforced on reading).
    AtMost(usize),
    /// `*`: a count.
    Variable,
}

/// An arraysize, flattened: `inner` is the product of all dimensions but the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dims {
    inner: usize,
    last: Last,
}

impl Dims {
    fn parse(text: &str) -> Result<Dims, String> {
        let bad = || format!("arraysize {text:?} is not a VOTable arraysize (n, n*, *, or dimensions like 2x3 or 2x*)");
        let parts: Vec<&str> = text.trim().split('x').map(str::trim).collect();
        let (last, init) = parts.split_last().ok_or_else(bad)?;
        let positive = |s: &str| s.parse::<usize>().ok().filter(|&n| n > 0);
        let mut inner: usize = 1;
        for part in init {
            let n = positive(part).ok_or_else(bad)?;
            inner = inner.checked_mul(n).ok_or_else(bad)?;
        }
        let last = if *last == "*" {
            Last::Variable
        } else if let Some(n) = last.strip_suffix('*') {
            Last::AtMost(positive(n.trim()).ok_or_else(bad)?)
        } else {
            Last::Fixed(positive(last).ok_or_else(bad)?)
        };
        let dims = Dims { inner, last };
        // The flattened size must be representable (ArraySize holds a u32).
        dims.array_size().ok_or_else(|| format!("arraysize {text:?} is too large"))?;
        Ok(dims)
    }

    /// The flattened arraysize of the column metadata.
    fn array_size(self) -> Option<ArraySize> {
        let total = |n: usize| self.inner.checked_mul(n).and_then(|t| u32::try_from(t).ok());
        Some(match self.last {
            Last::Fixed(n) => ArraySize::Fixed(total(n)?),
            Last::AtMost(n) => ArraySize::AtMost(total(n)?),
            Last::Variable => {
                u32::try_from(self.inner).ok()?;
                ArraySize::Variable
            }
        })
    }
}

/// What a column's values become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Boolean,
    Short,
    Int,
    Long,
    Float,
    Double,
    Text,
    Timestamp,
    FloatArray,
    DoubleArray,
}

/// How the values of one column are decoded.
#[derive(Debug, Clone)]
struct Field {
    name: String,
    prim: Prim,
    /// None for a scalar (for strings: one character).
    dims: Option<Dims>,
    target: Target,
    /// VALUES null of an integer column.
    null: Option<i64>,
}

/// The attributes and children of a FIELD, as met.
#[derive(Debug, Default)]
struct FieldBuilder {
    name: Option<String>,
    id: Option<String>,
    datatype: Option<String>,
    arraysize: Option<String>,
    unit: Option<String>,
    ucd: Option<String>,
    utype: Option<String>,
    xtype: Option<String>,
    description: String,
    null: Option<String>,
}

impl FieldBuilder {
    fn from_element(e: &BytesStart<'_>) -> Result<FieldBuilder, String> {
        let mut b = FieldBuilder::default();
        for attr in e.attributes() {
            let attr = attr.map_err(|err| format!("a FIELD has a malformed attribute: {err}"))?;
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| format!("a FIELD attribute has a malformed value: {err}"))?
                .into_owned();
            let slot = match attr.key.local_name().as_ref() {
                "name" => &mut b.name,
                "ID" => &mut b.id,
                "datatype" => &mut b.datatype,
                "arraysize" => &mut b.arraysize,
                "unit" => &mut b.unit,
                "ucd" => &mut b.ucd,
                "utype" => &mut b.utype,
                "xtype" => &mut b.xtype,
                _ => continue,
            };
            *slot = Some(value);
        }
        Ok(b)
    }

    /// The column metadata and the decoder of the `index`-th FIELD (0-based).
    fn build(self, index: usize) -> Result<(Column, Field), String> {
        let non_empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let name = non_empty(self.name)
            .or_else(|| non_empty(self.id.clone()))
            .unwrap_or_else(|| format!("col{}", index + 1));
        let label = format!("FIELD {} ({name:?})", index + 1);
        let datatype = self.datatype.ok_or_else(|| format!("{label} has no datatype attribute"))?;
        let prim = match Prim::parse(&datatype) {
            Some(prim) => prim,
            None if datatype.trim().to_ascii_lowercase().ends_with("complex") => {
                return Err(format!("{label} has datatype {datatype}: complex numbers cannot be uploaded"));
            }
            None => return Err(format!("{label} has datatype {datatype:?}, which is no VOTable datatype")),
        };
        let dims = match non_empty(self.arraysize) {
            Some(text) => Some(Dims::parse(&text).map_err(|e| format!("{label}: {e}"))?),
            None => None,
        };
        let xtype = non_empty(self.xtype);
        let timestamp = xtype
            .as_deref()
            .is_some_and(|x| x.trim().eq_ignore_ascii_case("timestamp") || x.trim().eq_ignore_ascii_case("adql:TIMESTAMP"));
        // A timestamp xtype on anything but a string is ignored (it would not load as one).
        let xtype = if timestamp { prim.is_character().then(|| "timestamp".to_string()) } else { xtype };
        let target = match (prim, dims) {
            (Prim::Char | Prim::UnicodeChar, _) if timestamp => Target::Timestamp,
            (Prim::Char | Prim::UnicodeChar, _) => Target::Text,
            (Prim::Boolean | Prim::Bit, None) => Target::Boolean,
            (Prim::UnsignedByte | Prim::Short, None) => Target::Short,
            (Prim::Int, None) => Target::Int,
            (Prim::Long, None) => Target::Long,
            (Prim::Float, None) => Target::Float,
            (Prim::Double, None) => Target::Double,
            (Prim::Float, Some(_)) => Target::FloatArray,
            (_, Some(_)) => Target::DoubleArray,
        };
        let null = match non_empty(self.null) {
            Some(text) if prim.is_integer() => Some(
                parse_int(text.trim())
                    .map_err(|_| format!("{label}: VALUES null={text:?} is not an integer"))?,
            ),
            _ => None,
        };
        let column_datatype = match prim {
            Prim::Boolean => Datatype::Boolean,
            Prim::Bit if dims.is_none() => Datatype::Boolean,
            Prim::Bit => Datatype::Double,
            Prim::UnsignedByte => Datatype::UnsignedByte,
            Prim::Short => Datatype::Short,
            Prim::Int => Datatype::Int,
            Prim::Long => Datatype::Long,
            Prim::Char => Datatype::Char,
            Prim::UnicodeChar => Datatype::UnicodeChar,
            Prim::Float => Datatype::Float,
            Prim::Double => Datatype::Double,
        };
        let column = Column {
            name: name.clone(),
            datatype: column_datatype,
            arraysize: dims.and_then(Dims::array_size),
            xtype,
            unit: non_empty(self.unit),
            ucd: non_empty(self.ucd),
            utype: non_empty(self.utype),
            description: self.description.trim().to_string(),
            principal: false,
            indexed: false,
            std: false,
            delimited: false,
            column_index: i32::try_from(index + 1).map_err(|_| "the uploaded table has too many columns".to_string())?,
        };
        Ok((column, Field { name, prim, dims, target, null }))
    }
}

// ---------------------------------------------------------------------------------------
// The XML walk
// ---------------------------------------------------------------------------------------

/// The elements the parser tells apart; everything else is `Other` (skipped with its content).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Votable,
    Table,
    Field,
    FieldDescription,
    Data,
    TableData,
    Tr,
    Td,
    Binary,
    Stream,
    Other,
}

struct Parser {
    max_rows: u64,
    /// Bytes the decoded table may still take (see [`MEMORY_PER_INPUT_BYTE`]).
    budget: usize,
    /// The budget at the start, for the message.
    budget_total: usize,
    stack: Vec<Tag>,
    table_found: bool,
    data_found: bool,
    /// The FIELD being read.
    builder: Option<FieldBuilder>,
    fields: Vec<Field>,
    columns: Vec<Column>,
    rows: Vec<Vec<Cell>>,
    /// The TR being read.
    row: Vec<Cell>,
    /// The text of the TD being read.
    cell: String,
    binary2: bool,
    base64: Base64,
}

impl Parser {
    fn new(max_rows: u64, budget: usize) -> Parser {
        Parser {
            max_rows,
            budget,
            budget_total: budget,
            stack: Vec::new(),
            table_found: false,
            data_found: false,
            builder: None,
            fields: Vec::new(),
            columns: Vec::new(),
            rows: Vec::new(),
            row: Vec::new(),
            cell: String::new(),
            binary2: false,
            base64: Base64::default(),
        }
    }

    fn run(&mut self, text: &str) -> Result<(), String> {
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.allow_dangling_amp = false;
        config.trim_text(false);
        loop {
            let event = reader.read_event().map_err(|error| {
                if text.contains("<!ENTITY") {
                    return ENTITIES_REFUSED.to_string();
                }
                format!("the uploaded VOTable is not well-formed XML (near byte {}): {error}", reader.error_position())
            })?;
            match event {
                Event::Start(e) => {
                    if self.start(&e, false)? {
                        return Ok(());
                    }
                }
                Event::Empty(e) => {
                    if self.start(&e, true)? {
                        return Ok(());
                    }
                }
                Event::End(_) => {
                    let tag = self.stack.pop().unwrap_or(Tag::Other);
                    if self.close(tag)? {
                        return Ok(());
                    }
                }
                Event::Text(t) => {
                    if self.stack.last() == Some(&Tag::Stream) {
                        self.base64.feed(t.as_bytes())?;
                    } else if self.wants_text() {
                        self.text(&t.xml10_content());
                    }
                }
                Event::CData(t) => {
                    if self.stack.last() == Some(&Tag::Stream) {
                        self.base64.feed(t.as_bytes())?;
                    } else if self.wants_text() {
                        self.text(&t.xml10_content());
                    }
                }
                Event::GeneralRef(r) => {
                    let c = match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        Ok(None) => match &*r {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "quot" => '"',
                            "apos" => '\'',
                            name => {
                                return Err(format!(
                                    "the uploaded VOTable uses the entity &{name}; which is not defined: only the XML predefined entities and character references are accepted"
                                ));
                            }
                        },
                        Err(error) => return Err(format!("the uploaded VOTable has a bad character reference &{};: {error}", &*r)),
                    };
                    if self.stack.last() == Some(&Tag::Stream) {
                        let mut buf = [0u8; 4];
                        self.base64.feed(c.encode_utf8(&mut buf).as_bytes())?;
                    } else if self.wants_text() {
                        let mut buf = [0u8; 4];
                        self.text(c.encode_utf8(&mut buf));
                    }
                }
                Event::DocType(d) => {
                    let content: &str = &d;
                    if content.contains('[') || content.contains("ENTITY") {
                        return Err(ENTITIES_REFUSED.into());
                    }
                }
                Event::Eof => break,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            }
        }
        if !self.table_found {
            if self.stack.is_empty() && self.columns.is_empty() && text.trim().is_empty() {
                return Err("the upload is empty, not a VOTable".into());
            }
            return Err("the uploaded VOTable has no TABLE".into());
        }
        Err("the uploaded VOTable ends before its TABLE does (truncated?)".into())
    }

    fn wants_text(&self) -> bool {
        matches!(self.stack.last(), Some(Tag::Td | Tag::FieldDescription))
    }

    fn text(&mut self, text: &str) {
        match self.stack.last() {
            Some(Tag::Td) => self.cell.push_str(text),
            Some(Tag::FieldDescription) => {
                if let Some(builder) = &mut self.builder {
                    builder.description.push_str(text);
                }
            }
            _ => {}
        }
    }

    /// A start tag (or an empty element); true when the table is complete.
    fn start(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<bool, String> {
        let qname = e.name();
        let local = qname.local_name();
        let name: &str = local.as_ref();
        let tag = match self.stack.last().copied() {
            None => {
                if name != "VOTABLE" {
                    return Err(format!("the upload is not a VOTable: its root element is <{}>, not <VOTABLE>", qname.as_ref()));
                }
                Tag::Votable
            }
            Some(Tag::Td) => return Err(format!("{}: a TD holds an element <{}>", self.row_label(), qname.as_ref())),
            Some(Tag::Stream) => return Err(format!("the STREAM holds an element <{}>", qname.as_ref())),
            Some(parent) => match (parent, name) {
                (_, "TABLE") if !self.table_found => {
                    self.table_found = true;
                    if let Some(reference) = attribute(e, "ref")? {
                        return Err(format!(
                            "the uploaded TABLE refers to another table's structure (ref={reference:?}); this is not supported: upload a TABLE with its own FIELDs"
                        ));
                    }
                    Tag::Table
                }
                (Tag::Table, "FIELD") => {
                    if self.data_found {
                        return Err("the uploaded TABLE has a FIELD after its DATA".into());
                    }
                    self.builder = Some(FieldBuilder::from_element(e)?);
                    Tag::Field
                }
                (Tag::Field, "DESCRIPTION") => Tag::FieldDescription,
                (Tag::Field, "VALUES") => {
                    let null = attribute(e, "null")?;
                    if let (Some(builder), Some(null)) = (&mut self.builder, null) {
                        builder.null = Some(null);
                    }
                    Tag::Other
                }
                (Tag::Table, "DATA") => {
                    if self.data_found {
                        return Err("the uploaded TABLE has two DATA elements".into());
                    }
                    self.data_found = true;
                    if self.fields.is_empty() {
                        return Err("the uploaded TABLE has DATA but no FIELD before it".into());
                    }
                    Tag::Data
                }
                (Tag::Data, "TABLEDATA") => Tag::TableData,
                (Tag::Data, "BINARY") => {
                    self.binary2 = false;
                    Tag::Binary
                }
                (Tag::Data, "BINARY2") => {
                    self.binary2 = true;
                    Tag::Binary
                }
                (Tag::Data, "FITS") => {
                    return Err("the uploaded TABLE is serialised as FITS, which this service does not read: send TABLEDATA, BINARY or BINARY2".into());
                }
                (Tag::Data, "INFO") => Tag::Other,
                (Tag::Data, other) => {
                    return Err(format!(
                        "the uploaded TABLE is serialised as {other}, which this service does not read: send TABLEDATA, BINARY or BINARY2"
                    ));
                }
                (Tag::TableData, "TR") => {
                    if self.rows.len() as u64 >= self.max_rows {
                        return Err(self.too_many_rows());
                    }
                    self.row = Vec::with_capacity(self.fields.len());
                    Tag::Tr
                }
                (Tag::Tr, "TD") => {
                    if self.row.len() >= self.fields.len() {
                        return Err(format!(
                            "{} has more TD elements than the table has FIELDs ({})",
                            self.row_label(),
                            self.fields.len()
                        ));
                    }
                    if let Some(encoding) = attribute(e, "encoding")? {
                        return Err(format!(
                            "{}: TD encoding={encoding:?} is not supported; write the values as text",
                            self.row_label()
                        ));
                    }
                    self.cell.clear();
                    Tag::Td
                }
                (Tag::Binary, "STREAM") => {
                    if let Some(href) = attribute(e, "href")? {
                        return Err(format!(
                            "the uploaded TABLE's STREAM refers to external data ({href}): external streams are not fetched; \
                             send the data inline (TABLEDATA, or BINARY/BINARY2 with a base64 STREAM)"
                        ));
                    }
                    if let Some(encoding) = attribute(e, "encoding")?
                        && !encoding.trim().eq_ignore_ascii_case("base64")
                    {
                        return Err(format!(
                            "the uploaded TABLE's STREAM has encoding={encoding:?}; only base64 is supported for inline streams"
                        ));
                    }
                    self.base64 = Base64::default();
                    Tag::Stream
                }
                _ => Tag::Other,
            },
        };
        if empty {
            return self.close(tag);
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("the uploaded VOTable nests elements more than {MAX_DEPTH} deep"));
        }
        self.stack.push(tag);
        Ok(false)
    }

    /// The end of an element (or an empty element); true when the table is complete.
    fn close(&mut self, tag: Tag) -> Result<bool, String> {
        match tag {
            Tag::Field => {
                if let Some(builder) = self.builder.take() {
                    let (column, field) = builder.build(self.fields.len())?;
                    let strings = [&column.xtype, &column.unit, &column.ucd, &column.utype]
                        .iter()
                        .map(|s| s.as_ref().map_or(0, String::len))
                        .sum::<usize>();
                    self.spend(
                        size_of::<Column>() + size_of::<Field>() + 2 * column.name.len() + column.description.len() + strings,
                    )?;
                    self.columns.push(column);
                    self.fields.push(field);
                }
            }
            Tag::Td => {
                let field = self.fields.get(self.row.len()).ok_or_else(|| format!("{} has too many TD elements", self.row_label()))?;
                let cell = parse_td(field, &self.cell)
                    .map_err(|e| format!("{}, column {:?}: {e}", self.row_label(), field.name))?;
                self.row.push(cell);
            }
            Tag::Tr => {
                let mut row = std::mem::take(&mut self.row);
                row.resize(self.fields.len(), Cell::Null);
                self.spend(row_cost(&row))?;
                self.rows.push(row);
            }
            Tag::Stream => self.read_binary_rows()?,
            Tag::Table => return Ok(true),
            _ => {}
        }
        Ok(false)
    }

    /// Takes `bytes` from the memory budget.
    fn spend(&mut self, bytes: usize) -> Result<(), String> {
        self.budget = self.budget.checked_sub(bytes).ok_or_else(|| self.memory_error())?;
        Ok(())
    }

    fn memory_error(&self) -> String {
        format!(
            "the uploaded table takes too much memory once decoded (more than {} MB, the limit for a document of this size; \
             {} rows read so far): upload fewer rows or columns",
            self.budget_total >> 20,
            self.rows.len()
        )
    }

    fn row_label(&self) -> String {
        format!("row {}", self.rows.len() + 1)
    }

    fn too_many_rows(&self) -> String {
        format!("the uploaded table has more than {} rows, the upload limit", self.max_rows)
    }

    /// Decodes the rows of a BINARY or BINARY2 stream.
    fn read_binary_rows(&mut self) -> Result<(), String> {
        let data = self.base64.finish()?;
        let mut cursor = Cursor { data: &data, pos: 0 };
        let ncols = self.fields.len();
        let flag_bytes = if self.binary2 { ncols.div_ceil(8) } else { 0 };
        let row_size = size_of::<Vec<Cell>>() + ncols * size_of::<Cell>();
        while cursor.remaining() > 0 {
            if self.rows.len() as u64 >= self.max_rows {
                return Err(self.too_many_rows());
            }
            let row_number = self.rows.len() + 1;
            let flags = cursor
                .take(flag_bytes)
                .ok_or_else(|| format!("the BINARY2 stream ends inside the null flags of row {row_number} (truncated?)"))?;
            self.spend(row_size)?;
            let mut row = Vec::with_capacity(ncols);
            let mut budget = self.budget;
            for (i, field) in self.fields.iter().enumerate() {
                let flagged = flags.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0);
                let cell = read_binary_value(field, &mut cursor, !self.binary2, flagged, &mut budget).map_err(|e| match e {
                    ValueError::Memory => self.memory_error(),
                    ValueError::Bad(e) => format!("row {row_number}, column {:?}: {e}", field.name),
                })?;
                row.push(cell);
            }
            self.budget = budget;
            self.rows.push(row);
        }
        Ok(())
    }
}

/// The memory a row takes (approximately: the allocations' own overhead is not counted).
fn row_cost(row: &[Cell]) -> usize {
    let heap: usize = row
        .iter()
        .map(|cell| match cell {
            Cell::Text(s) => s.len(),
            Cell::FloatArray(v) => v.len() * size_of::<Option<f32>>(),
            Cell::DoubleArray(v) => v.len() * size_of::<Option<f64>>(),
            _ => 0,
        })
        .sum();
    size_of::<Vec<Cell>>() + std::mem::size_of_val(row) + heap
}

/// The value of an attribute (by local name), unescaped.
fn attribute(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    for attr in e.attributes() {
        let attr = attr.map_err(|err| format!("a <{}> has a malformed attribute: {err}", e.name().as_ref()))?;
        if attr.key.local_name().as_ref() == name {
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| format!("the attribute {name} of a <{}> is malformed: {err}", e.name().as_ref()))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------------
// base64
// ---------------------------------------------------------------------------------------

/// A base64 decoder that skips whitespace anywhere and accepts padding inside the stream
/// (as if streams were concatenated).
#[derive(Default)]
struct Base64 {
    out: Vec<u8>,
    quantum: u32,
    n: u8,
}

const B64_SKIP: u8 = 0xFE;
const B64_PAD: u8 = 0xFD;
const B64_BAD: u8 = 0xFF;

const B64_TABLE: [u8; 256] = {
    let mut table = [B64_BAD; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table[b' ' as usize] = B64_SKIP;
    table[b'\t' as usize] = B64_SKIP;
    table[b'\n' as usize] = B64_SKIP;
    table[b'\r' as usize] = B64_SKIP;
    table[b'=' as usize] = B64_PAD;
    table
};

impl Base64 {
    fn feed(&mut self, text: &[u8]) -> Result<(), String> {
        self.out.reserve(text.len() / 4 * 3 + 3);
        let mut rest = text;
        while let Some((&byte, tail)) = rest.split_first() {
            // Fast path: four base64 characters at the start of a group.
            if self.n == 0
                && let Some(&[a, b, c, d]) = rest.get(..4)
            {
                let [a, b, c, d] = [a, b, c, d].map(|x| B64_TABLE[usize::from(x)]);
                if (a | b | c | d) < 64 {
                    let quantum = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(c) << 6) | u32::from(d);
                    let [_, x, y, z] = quantum.to_be_bytes();
                    self.out.extend_from_slice(&[x, y, z]);
                    rest = rest.get(4..).unwrap_or_default();
                    continue;
                }
            }
            rest = tail;
            let v = B64_TABLE[usize::from(byte)];
            if v < 64 {
                self.quantum = (self.quantum << 6) | u32::from(v);
                self.n += 1;
                if self.n == 4 {
                    let [_, a, b, c] = self.quantum.to_be_bytes();
                    self.out.extend_from_slice(&[a, b, c]);
                    self.quantum = 0;
                    self.n = 0;
                }
            } else if v == B64_PAD {
                self.flush()?;
            } else if v == B64_BAD {
                return Err(format!(
                    "the base64 STREAM holds {}, which is not a base64 character",
                    if byte.is_ascii_graphic() { format!("'{}'", char::from(byte)) } else { format!("the byte 0x{byte:02X}") }
                ));
            }
        }
        Ok(())
    }

    /// Ends a partial quantum (at padding or at the end).
    fn flush(&mut self) -> Result<(), String> {
        match self.n {
            0 => {}
            1 => return Err("the base64 STREAM is truncated (a lone character at the end of a group of four)".into()),
            2 => {
                let [_, _, _, a] = (self.quantum >> 4).to_be_bytes();
                self.out.push(a);
            }
            _ => {
                let [_, _, a, b] = (self.quantum >> 2).to_be_bytes();
                self.out.extend_from_slice(&[a, b]);
            }
        }
        self.quantum = 0;
        self.n = 0;
        Ok(())
    }

    fn finish(&mut self) -> Result<Vec<u8>, String> {
        self.flush()?;
        Ok(std::mem::take(&mut self.out))
    }
}

// ---------------------------------------------------------------------------------------
// BINARY / BINARY2 values
// ---------------------------------------------------------------------------------------

/// Why a BINARY value could not be read.
enum ValueError {
    /// The memory budget is spent.
    Memory,
    Bad(String),
}

impl From<String> for ValueError {
    fn from(message: String) -> ValueError {
        ValueError::Bad(message)
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let bytes = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(bytes)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
}

fn truncated(needed: usize, left: usize) -> String {
    format!("the stream ends inside this value ({needed} bytes needed, {left} left; truncated?)")
}

/// Reads one value. `no_flags`: BINARY, where an empty string or variable-length array is
/// NULL. `flagged`: the BINARY2 null flag is set, the bytes are skipped and the value is
/// NULL. The memory of strings and arrays is taken from `budget` before they are decoded.
fn read_binary_value(
    field: &Field,
    cursor: &mut Cursor<'_>,
    no_flags: bool,
    flagged: bool,
    budget: &mut usize,
) -> Result<Cell, ValueError> {
    let prim = field.prim;
    if field.dims.is_none() && !prim.is_character() {
        let width = prim.width();
        let left = cursor.remaining();
        let cell = scalar_binary(field, cursor).ok_or_else(|| ValueError::Bad(truncated(width, left)))?;
        return Ok(if flagged { Cell::Null } else { cell });
    }
    // Arrays and strings (a string without arraysize is one character).
    let dims = field.dims.unwrap_or(Dims { inner: 1, last: Last::Fixed(1) });
    let (n, variable) = match dims.last {
        Last::Fixed(k) => (dims.inner.checked_mul(k).ok_or_else(|| "the arraysize is too large".to_string())?, false),
        Last::AtMost(_) | Last::Variable => {
            let left = cursor.remaining();
            let count = u32::from_be_bytes(cursor.array::<4>().ok_or_else(|| truncated(4, left))?);
            let n = usize::try_from(count)
                .ok()
                .and_then(|c| c.checked_mul(dims.inner))
                .ok_or_else(|| format!("the array count {count} is too large"))?;
            (n, true)
        }
    };
    let left = cursor.remaining();
    let bytes = match prim.bytes_for(n) {
        Some(needed) if needed <= left => cursor.take(needed).ok_or_else(|| truncated(needed, left))?,
        Some(needed) if variable => {
            return Err(format!("the array count {n} needs {needed} bytes, but only {left} are left in the stream").into());
        }
        Some(needed) => return Err(truncated(needed, left).into()),
        None => return Err(format!("the array count {n} is too large").into()),
    };
    if flagged {
        return Ok(Cell::Null);
    }
    // Decoded: strings at most 2 bytes of UTF-8 per byte (Latin-1), arrays an Option per element.
    let decoded = match field.target {
        Target::Text | Target::Timestamp => bytes.len().saturating_mul(2),
        Target::FloatArray => n.saturating_mul(size_of::<Option<f32>>()),
        _ => n.saturating_mul(size_of::<Option<f64>>()),
    };
    *budget = budget.checked_sub(decoded).ok_or(ValueError::Memory)?;
    let cell = match field.target {
        Target::Text | Target::Timestamp => {
            let text = if prim == Prim::UnicodeChar { utf16_text(bytes) } else { char_text(bytes) };
            if text.is_empty() && (no_flags || field.target == Target::Timestamp) {
                Cell::Null
            } else if field.target == Target::Timestamp {
                Cell::Timestamp(parse_timestamp(text.trim())?)
            } else {
                Cell::Text(text)
            }
        }
        Target::FloatArray => {
            let values: Vec<Option<f32>> = bytes
                .chunks_exact(4)
                .map(|c| match *c {
                    [a, b, c, d] => Some(f32::from_be_bytes([a, b, c, d])).filter(|v| !v.is_nan()),
                    _ => None,
                })
                .collect();
            array_cell(values, no_flags, Cell::FloatArray)
        }
        _ => array_cell(binary_doubles(field, bytes, n), no_flags, Cell::DoubleArray),
    };
    Ok(cell)
}

/// NULL for an array whose elements are all NULL, and for an empty one in BINARY.
fn array_cell<T>(values: Vec<Option<T>>, no_flags: bool, make: fn(Vec<Option<T>>) -> Cell) -> Cell {
    let all_null = values.iter().all(Option::is_none);
    if all_null && (!values.is_empty() || no_flags) { Cell::Null } else { make(values) }
}

/// The elements of a numeric (or boolean, bit) array as doubles.
fn binary_doubles(field: &Field, bytes: &[u8], n: usize) -> Vec<Option<f64>> {
    let null = field.null;
    let int = |v: i64| if Some(v) == null { None } else { Some(v as f64) };
    match field.prim {
        Prim::Double => bytes
            .chunks_exact(8)
            .map(|c| c.try_into().ok().map(f64::from_be_bytes).filter(|v| !v.is_nan()))
            .collect(),
        Prim::Float => bytes
            .chunks_exact(4)
            .map(|c| c.try_into().ok().map(f32::from_be_bytes).filter(|v| !v.is_nan()).map(f64::from))
            .collect(),
        Prim::Long => bytes.chunks_exact(8).map(|c| c.try_into().ok().map(i64::from_be_bytes).and_then(int)).collect(),
        Prim::Int => bytes
            .chunks_exact(4)
            .map(|c| c.try_into().ok().map(i32::from_be_bytes).and_then(|v| int(i64::from(v))))
            .collect(),
        Prim::Short => bytes
            .chunks_exact(2)
            .map(|c| c.try_into().ok().map(i16::from_be_bytes).and_then(|v| int(i64::from(v))))
            .collect(),
        Prim::UnsignedByte => bytes.iter().map(|&b| int(i64::from(b))).collect(),
        Prim::Boolean => bytes.iter().map(|&b| binary_boolean(b).map(|v| if v { 1.0 } else { 0.0 })).collect(),
        Prim::Bit => (0..n)
            .map(|i| bytes.get(i / 8).map(|b| if b & (0x80 >> (i % 8)) != 0 { 1.0 } else { 0.0 }))
            .collect(),
        Prim::Char | Prim::UnicodeChar => Vec::new(),
    }
}

fn binary_boolean(byte: u8) -> Option<bool> {
    match byte {
        b'T' | b't' | b'1' => Some(true),
        b'F' | b'f' | b'0' => Some(false),
        _ => None,
    }
}

/// A scalar of a non-character type; None when the stream ends.
fn scalar_binary(field: &Field, cursor: &mut Cursor<'_>) -> Option<Cell> {
    let null = field.null;
    let int = |v: i64, make: fn(i64) -> Cell| if Some(v) == null { Cell::Null } else { make(v) };
    Some(match field.prim {
        Prim::Boolean => binary_boolean(cursor.array::<1>()?[0]).map_or(Cell::Null, Cell::Boolean),
        // The bit is the most significant one; astropy (7.1) writes a true bit as 0x08, so
        // any bit set counts (the others are padding, zero).
        Prim::Bit => Cell::Boolean(cursor.array::<1>()?[0] != 0),
        Prim::UnsignedByte => int(i64::from(cursor.array::<1>()?[0]), |v| Cell::Short(v as i16)),
        Prim::Short => int(i64::from(i16::from_be_bytes(cursor.array()?)), |v| Cell::Short(v as i16)),
        Prim::Int => int(i64::from(i32::from_be_bytes(cursor.array()?)), |v| Cell::Int(v as i32)),
        Prim::Long => int(i64::from_be_bytes(cursor.array()?), Cell::Long),
        Prim::Float => {
            let v = f32::from_be_bytes(cursor.array()?);
            if v.is_nan() { Cell::Null } else { Cell::Float(v) }
        }
        Prim::Double => {
            let v = f64::from_be_bytes(cursor.array()?);
            if v.is_nan() { Cell::Null } else { Cell::Double(v) }
        }
        Prim::Char | Prim::UnicodeChar => return None,
    })
}

/// `char` bytes up to the first NUL: UTF-8 when they are, else Latin-1.
fn char_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let bytes = bytes.get(..end).unwrap_or_default();
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// `unicodeChar` bytes (UTF-16 big-endian) up to the first NUL; unpaired surrogates become
/// U+FFFD.
fn utf16_text(bytes: &[u8]) -> String {
    let units = bytes
        .chunks_exact(2)
        .map(|pair| match *pair {
            [a, b] => u16::from_be_bytes([a, b]),
            _ => 0,
        })
        .take_while(|&u| u != 0);
    char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
}

// ---------------------------------------------------------------------------------------
// TABLEDATA values
// ---------------------------------------------------------------------------------------

/// One TD. Strings are taken as they are (empty: NULL); other values are trimmed.
fn parse_td(field: &Field, raw: &str) -> Result<Cell, String> {
    if field.target == Target::Text {
        return Ok(if raw.is_empty() { Cell::Null } else { Cell::Text(raw.to_string()) });
    }
    let text = raw.trim();
    if text.is_empty() {
        return Ok(Cell::Null);
    }
    let null = field.null;
    Ok(match field.target {
        Target::Timestamp => Cell::Timestamp(parse_timestamp(text)?),
        Target::Boolean if field.prim == Prim::Bit => match text {
            "1" => Cell::Boolean(true),
            "0" => Cell::Boolean(false),
            _ => return Err(format!("{text:?} is not a bit (0 or 1)")),
        },
        Target::Boolean => parse_bool(text)?.map_or(Cell::Null, Cell::Boolean),
        Target::Short | Target::Int | Target::Long => {
            let v = parse_int(text)?;
            if Some(v) == null {
                Cell::Null
            } else {
                let out_of_range = || format!("{text} is out of range for {}", datatype_name(field.prim));
                match field.prim {
                    Prim::UnsignedByte => Cell::Short(u8::try_from(v).map_err(|_| out_of_range())?.into()),
                    Prim::Short => Cell::Short(i16::try_from(v).map_err(|_| out_of_range())?),
                    Prim::Int => Cell::Int(i32::try_from(v).map_err(|_| out_of_range())?),
                    _ => Cell::Long(v),
                }
            }
        }
        Target::Float => {
            let v: f32 = text.parse().map_err(|_| not_a_number(text))?;
            if v.is_nan() { Cell::Null } else { Cell::Float(v) }
        }
        Target::Double => {
            let v: f64 = text.parse().map_err(|_| not_a_number(text))?;
            if v.is_nan() { Cell::Null } else { Cell::Double(v) }
        }
        Target::FloatArray => {
            let mut values = Vec::new();
            for token in text.split_ascii_whitespace() {
                let v: f32 = token.parse().map_err(|_| not_a_number(token))?;
                values.push(Some(v).filter(|v| !v.is_nan()));
            }
            array_cell(values, true, Cell::FloatArray)
        }
        Target::DoubleArray => {
            let mut values = Vec::new();
            for token in text.split_ascii_whitespace() {
                match field.prim {
                    Prim::Bit => {
                        for c in token.chars() {
                            values.push(Some(match c {
                                '0' => 0.0,
                                '1' => 1.0,
                                _ => return Err(format!("{token:?} is not a bit array (0 and 1)")),
                            }));
                        }
                    }
                    Prim::Boolean => values.push(parse_bool(token)?.map(|b| if b { 1.0 } else { 0.0 })),
                    prim if prim.is_integer() => {
                        let v = parse_int(token)?;
                        values.push(if Some(v) == null { None } else { Some(v as f64) });
                    }
                    _ => {
                        let v: f64 = token.parse().map_err(|_| not_a_number(token))?;
                        values.push(Some(v).filter(|v| !v.is_nan()));
                    }
                }
            }
            array_cell(values, true, Cell::DoubleArray)
        }
        Target::Text => Cell::Text(raw.to_string()),
    })
}

fn datatype_name(prim: Prim) -> &'static str {
    match prim {
        Prim::Boolean => "boolean",
        Prim::Bit => "bit",
        Prim::UnsignedByte => "unsignedByte",
        Prim::Short => "short",
        Prim::Int => "int",
        Prim::Long => "long",
        Prim::Char => "char",
        Prim::UnicodeChar => "unicodeChar",
        Prim::Float => "float",
        Prim::Double => "double",
    }
}

fn not_a_number(text: &str) -> String {
    format!("{text:?} is not a number")
}

fn parse_bool(text: &str) -> Result<Option<bool>, String> {
    let is = |s: &str| text.eq_ignore_ascii_case(s);
    if is("t") || is("true") || text == "1" {
        Ok(Some(true))
    } else if is("f") || is("false") || text == "0" {
        Ok(Some(false))
    } else if text == "?" {
        Ok(None)
    } else {
        Err(format!("{text:?} is not a boolean (T, F, true, false, 1, 0 or ? for NULL)"))
    }
}

/// A decimal integer (optional sign) or a hexadecimal one (0x...).
fn parse_int(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not an integer");
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..).unwrap_or_default()),
        Some(b'+') => (false, text.get(1..).unwrap_or_default()),
        _ => (false, text),
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return Err(bad());
    }
    let magnitude: i128 = if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        i128::from(u64::from_str_radix(hex, 16).map_err(|_| bad())?)
    } else {
        digits.parse::<i128>().map_err(|_| bad())?
    };
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).map_err(|_| format!("{text} is out of range for long"))
}

/// An ISO 8601 timestamp (DALI 1.1 section 3.3.3): `[+-]YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z]`
/// (a space instead of the T is accepted).
fn parse_timestamp(text: &str) -> Result<NaiveDateTime, String> {
    let bad = || format!("{text:?} is not an ISO 8601 timestamp (YYYY-MM-DDThh:mm:ss[.fff][Z])");
    let s = text.strip_suffix(['Z', 'z']).unwrap_or(text);
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(at) => (s.get(..at).ok_or_else(bad)?, Some(s.get(at + 1..).ok_or_else(bad)?)),
        None => (s, None),
    };
    let (negative, date_digits) = match date.as_bytes().first() {
        Some(b'-') => (true, date.get(1..).ok_or_else(bad)?),
        Some(b'+') => (false, date.get(1..).ok_or_else(bad)?),
        _ => (false, date),
    };
    let mut parts = date_digits.split('-');
    let (Some(year), Some(month), Some(day), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let digits = |s: &str, min: usize, max: usize| -> Result<u32, String> {
        if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let year = i32::try_from(digits(year, 4, 6)?).map_err(|_| bad())?;
    let year = if negative { -year } else { year };
    let date = NaiveDate::from_ymd_opt(year, digits(month, 2, 2)?, digits(day, 2, 2)?).ok_or_else(bad)?;
    let Some(time) = time else {
        return date.and_hms_opt(0, 0, 0).ok_or_else(bad);
    };
    let (hms, fraction) = match time.split_once('.') {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (time, None),
    };
    let mut parts = hms.split(':');
    let (Some(hour), Some(minute), second, None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let hour = digits(hour, 2, 2)?;
    let minute = digits(minute, 2, 2)?;
    let mut second = match second {
        Some(s) => digits(s, 2, 2)?,
        None if fraction.is_none() => 0,
        None => return Err(bad()),
    };
    let mut nanos = 0u32;
    if let Some(fraction) = fraction {
        if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        for (i, b) in fraction.bytes().take(9).enumerate() {
            nanos += u32::from(b - b'0') * 10u32.pow(8 - i as u32);
        }
    }
    // A leap second: chrono's representation is second 59 with nanoseconds >= 1e9.
    if second == 60 {
        second = 59;
        nanos += 1_000_000_000;
    }
    date.and_hms_nano_opt(hour, minute, second, nanos).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adql::{ResultColumn, ValueType};
    use crate::votable::{DocumentInfo, End, Format, ResultWriter};

    fn ts(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micro: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_micro_opt(h, mi, s, micro).unwrap()
    }

    /// A document with these FIELD elements and this DATA content.
    fn doc(fields: &str, data: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?>\n<VOTABLE version=\"1.4\" xmlns=\"http://www.ivoa.net/xml/VOTable/v1.3\">\
             <RESOURCE type=\"results\"><TABLE>{fields}<DATA>{data}</DATA></TABLE></RESOURCE></VOTABLE>"
        )
    }

    fn read(text: &str) -> Result<UploadedTable, String> {
        read_table(text.as_bytes(), 1000)
    }

    fn err(text: &str) -> String {
        match read(text) {
            Ok(table) => panic!("expected an error, got {:?}", table.rows),
            Err(e) => e,
        }
    }

    fn b64(bytes: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    fn stream(kind: &str, bytes: &[u8]) -> String {
        format!("<{kind}><STREAM encoding=\"base64\">{}</STREAM></{kind}>", b64(bytes))
    }

    // ---- TABLEDATA ----

    #[test]
    fn tabledata_scalars() {
        let fields = "<FIELD name=\"b\" datatype=\"boolean\"/><FIELD name=\"u\" datatype=\"unsignedByte\"/>\
            <FIELD name=\"s\" datatype=\"short\"/><FIELD name=\"i\" datatype=\"int\" unit=\"m\" ucd=\"meta.id\" utype=\"x:y\"><DESCRIPTION> An &lt;int&gt; </DESCRIPTION></FIELD>\
            <FIELD name=\"l\" datatype=\"long\"/><FIELD name=\"f\" datatype=\"float\"/><FIELD name=\"d\" datatype=\"double\"/>\
            <FIELD name=\"c\" datatype=\"char\" arraysize=\"*\"/><FIELD name=\"t\" datatype=\"char\" arraysize=\"*\" xtype=\"timestamp\"/>";
        let data = "<TABLEDATA>\
            <TR><TD>T</TD><TD>255</TD><TD>-32768</TD><TD> 42 </TD><TD>-9223372036854775808</TD><TD>1.5</TD><TD>-2.5e-300</TD><TD> a&amp;b </TD><TD>2021-03-04T05:06:07.123456Z</TD></TR>\
            <TR><TD>false</TD><TD>0</TD><TD>+7</TD><TD>0x1F</TD><TD>9223372036854775807</TD><TD>+Inf</TD><TD>-Inf</TD><TD><![CDATA[<x>]]></TD><TD>2021-03-04</TD></TR>\
            <TR><TD>?</TD><TD/><TD></TD><TD>  </TD><TD/><TD>NaN</TD><TD>nan</TD><TD/><TD/></TR>\
            <TR><TD>1</TD></TR>\
            </TABLEDATA>";
        let table = read(&doc(fields, data)).unwrap();
        assert_eq!(table.columns.len(), 9);
        let i = &table.columns[3];
        assert_eq!((i.name.as_str(), i.datatype, i.column_index), ("i", Datatype::Int, 4));
        assert_eq!(i.unit.as_deref(), Some("m"));
        assert_eq!(i.ucd.as_deref(), Some("meta.id"));
        assert_eq!(i.utype.as_deref(), Some("x:y"));
        assert_eq!(i.description, "An <int>");
        assert_eq!(table.columns[0].description, "");
        assert_eq!(table.columns[7].arraysize, Some(ArraySize::Variable));
        assert_eq!(table.columns[8].xtype.as_deref(), Some("timestamp"));
        assert!(!i.principal && !i.indexed && !i.std && !i.delimited);
        assert_eq!(
            table.rows,
            vec![
                vec![
                    Cell::Boolean(true),
                    Cell::Short(255),
                    Cell::Short(-32768),
                    Cell::Int(42),
                    Cell::Long(i64::MIN),
                    Cell::Float(1.5),
                    Cell::Double(-2.5e-300),
                    Cell::Text(" a&b ".into()),
                    Cell::Timestamp(ts(2021, 3, 4, 5, 6, 7, 123456)),
                ],
                vec![
                    Cell::Boolean(false),
                    Cell::Short(0),
                    Cell::Short(7),
                    Cell::Int(31),
                    Cell::Long(i64::MAX),
                    Cell::Float(f32::INFINITY),
                    Cell::Double(f64::NEG_INFINITY),
                    Cell::Text("<x>".into()),
                    Cell::Timestamp(ts(2021, 3, 4, 0, 0, 0, 0)),
                ],
                vec![Cell::Null; 9],
                [vec![Cell::Boolean(true)], vec![Cell::Null; 8]].concat(),
            ]
        );
    }

    #[test]
    fn tabledata_arrays_and_sentinels() {
        let fields = "<FIELD name=\"fa\" datatype=\"float\" arraysize=\"3\"/>\
            <FIELD name=\"da\" datatype=\"double\" arraysize=\"2x*\"/>\
            <FIELD name=\"ia\" datatype=\"int\" arraysize=\"*\"><VALUES null=\"-1\"/></FIELD>\
            <FIELD name=\"ba\" datatype=\"boolean\" arraysize=\"3\"/>\
            <FIELD name=\"bits\" datatype=\"bit\" arraysize=\"4\"/>\
            <FIELD name=\"n\" datatype=\"short\"><VALUES null=\"-99\"><MIN value=\"0\"/></VALUES></FIELD>";
        let data = "<TABLEDATA>\
            <TR><TD>1 NaN 3</TD><TD>1 2\n 3\t4</TD><TD>5 -1 7</TD><TD>T ? false</TD><TD>1 0 11</TD><TD>-99</TD></TR>\
            <TR><TD>NaN NaN NaN</TD><TD/><TD>-1</TD><TD>? ? ?</TD><TD>0101</TD><TD>3</TD></TR>\
            </TABLEDATA>";
        let table = read(&doc(fields, data)).unwrap();
        assert_eq!(table.columns[0].arraysize, Some(ArraySize::Fixed(3)));
        assert_eq!(table.columns[1].arraysize, Some(ArraySize::Variable));
        assert_eq!(table.columns[4].datatype, Datatype::Double);
        assert_eq!(
            table.rows[0],
            vec![
                Cell::FloatArray(vec![Some(1.0), None, Some(3.0)]),
                Cell::DoubleArray(vec![Some(1.0), Some(2.0), Some(3.0), Some(4.0)]),
                Cell::DoubleArray(vec![Some(5.0), None, Some(7.0)]),
                Cell::DoubleArray(vec![Some(1.0), None, Some(0.0)]),
                Cell::DoubleArray(vec![Some(1.0), Some(0.0), Some(1.0), Some(1.0)]),
                Cell::Null,
            ]
        );
        assert_eq!(
            table.rows[1],
            vec![
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::DoubleArray(vec![Some(0.0), Some(1.0), Some(0.0), Some(1.0)]),
                Cell::Short(3),
            ]
        );
    }

    #[test]
    fn tabledata_unicode() {
        let fields = "<FIELD name=\"s\" datatype=\"unicodeChar\" arraysize=\"*\"/><FIELD name=\"c\" datatype=\"char\"/>";
        let data = "<TABLEDATA><TR><TD>Ærø ☃ 𝄞 &#x1D11E;&#233;</TD><TD>x</TD></TR></TABLEDATA>";
        let table = read(&doc(fields, data)).unwrap();
        assert_eq!(table.rows[0], vec![Cell::Text("Ærø ☃ 𝄞 𝄞é".into()), Cell::Text("x".into())]);
        assert_eq!(table.columns[1].arraysize, None);
        assert_eq!(table.columns[1].datatype, Datatype::Char);
    }

    #[test]
    fn tabledata_bad_values_name_row_and_column() {
        let field = |t: &str| format!("<FIELD name=\"x\" datatype=\"{t}\"/>");
        let one = |t: &str, v: &str| err(&doc(&field(t), &format!("<TABLEDATA><TR><TD>1</TD></TR><TR><TD>{v}</TD></TR></TABLEDATA>")));
        let e = one("double", "1.2.3");
        assert!(e.contains("row 2") && e.contains("\"x\"") && e.contains("not a number"), "{e}");
        assert!(one("int", "1.5").contains("not an integer"));
        assert!(one("short", "40000").contains("out of range for short"));
        assert!(one("unsignedByte", "-1").contains("out of range for unsignedByte"));
        assert!(one("long", "99999999999999999999").contains("out of range"));
        assert!(one("boolean", "yes").contains("not a boolean"));
        let e = err(&doc(
            "<FIELD name=\"t\" datatype=\"char\" arraysize=\"*\" xtype=\"timestamp\"/>",
            "<TABLEDATA><TR><TD>2021-13-01T00:00:00</TD></TR></TABLEDATA>",
        ));
        assert!(e.contains("row 1") && e.contains("\"t\"") && e.contains("ISO 8601"), "{e}");
        let e = err(&doc(&field("int"), "<TABLEDATA><TR><TD>1</TD><TD>2</TD></TR></TABLEDATA>"));
        assert!(e.contains("more TD"), "{e}");
    }

    #[test]
    fn timestamps() {
        let ok = |s: &str| parse_timestamp(s).unwrap();
        assert_eq!(ok("2021-03-04T05:06:07"), ts(2021, 3, 4, 5, 6, 7, 0));
        assert_eq!(ok("2021-03-04T05:06:07.5Z"), ts(2021, 3, 4, 5, 6, 7, 500000));
        assert_eq!(ok("2021-03-04 05:06:07.123456789123"), ts(2021, 3, 4, 5, 6, 7, 123456) + chrono::Duration::nanoseconds(789));
        assert_eq!(ok("2021-03-04T05:06"), ts(2021, 3, 4, 5, 6, 0, 0));
        assert_eq!(ok("2021-03-04"), ts(2021, 3, 4, 0, 0, 0, 0));
        assert_eq!(ok("-0044-03-15T12:00:00"), NaiveDate::from_ymd_opt(-44, 3, 15).unwrap().and_hms_opt(12, 0, 0).unwrap());
        assert_eq!(ok("+10000-01-01T00:00:00"), ts(10000, 1, 1, 0, 0, 0, 0));
        assert_eq!(ok("2016-12-31T23:59:60"), NaiveDate::from_ymd_opt(2016, 12, 31).unwrap().and_hms_milli_opt(23, 59, 59, 1000).unwrap());
        for bad in ["2021-3-4", "2021-03-04T", "2021-03-04T05", "2021-03-04T05:06:07.", "2021-02-30", "x", "2021-03-04T25:00:00", "2021-03-04T05:06:07+01:00", "", "T", "-", "2021-03-04T05:06.5"] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }

    // ---- BINARY and BINARY2 ----

    fn all_types_fields() -> &'static str {
        "<FIELD name=\"b\" datatype=\"boolean\"/>\
         <FIELD name=\"u\" datatype=\"unsignedByte\"><VALUES null=\"255\"/></FIELD>\
         <FIELD name=\"s\" datatype=\"short\"><VALUES null=\"-32768\"/></FIELD>\
         <FIELD name=\"i\" datatype=\"int\"><VALUES null=\"-2147483648\"/></FIELD>\
         <FIELD name=\"l\" datatype=\"long\"><VALUES null=\"-9223372036854775808\"/></FIELD>\
         <FIELD name=\"f\" datatype=\"float\"/>\
         <FIELD name=\"d\" datatype=\"double\"/>\
         <FIELD name=\"c\" datatype=\"char\" arraysize=\"4\"/>\
         <FIELD name=\"v\" datatype=\"char\" arraysize=\"*\"/>\
         <FIELD name=\"w\" datatype=\"unicodeChar\" arraysize=\"*\"/>\
         <FIELD name=\"fa\" datatype=\"float\" arraysize=\"2\"/>\
         <FIELD name=\"da\" datatype=\"double\" arraysize=\"2x*\"/>\
         <FIELD name=\"sa\" datatype=\"short\" arraysize=\"3*\"><VALUES null=\"-1\"/></FIELD>\
         <FIELD name=\"bits\" datatype=\"bit\" arraysize=\"10\"/>\
         <FIELD name=\"bit\" datatype=\"bit\"/>\
         <FIELD name=\"t\" datatype=\"char\" arraysize=\"*\" xtype=\"timestamp\"/>"
    }

    fn value_bytes(row: &mut Vec<u8>, null: bool) {
        if null {
            row.push(b'?');
            row.push(255);
            row.extend_from_slice(&i16::MIN.to_be_bytes());
            row.extend_from_slice(&i32::MIN.to_be_bytes());
            row.extend_from_slice(&i64::MIN.to_be_bytes());
            row.extend_from_slice(&f32::NAN.to_be_bytes());
            row.extend_from_slice(&f64::NAN.to_be_bytes());
            row.extend_from_slice(&[0, 0, 0, 0]);
            row.extend_from_slice(&[0, 0, 0, 0]);
            row.extend_from_slice(&[0, 0, 0, 0]);
            row.extend_from_slice(&f32::NAN.to_be_bytes());
            row.extend_from_slice(&f32::NAN.to_be_bytes());
            row.extend_from_slice(&[0, 0, 0, 0]);
            row.extend_from_slice(&[0, 0, 0, 0]);
            row.extend_from_slice(&[0, 0]);
            row.push(0);
            row.extend_from_slice(&[0, 0, 0, 0]);
            return;
        }
        row.push(b't');
        row.push(200);
        row.extend_from_slice(&(-2i16).to_be_bytes());
        row.extend_from_slice(&70000i32.to_be_bytes());
        row.extend_from_slice(&(1i64 << 40).to_be_bytes());
        row.extend_from_slice(&0.25f32.to_be_bytes());
        row.extend_from_slice(&(-1.0e100f64).to_be_bytes());
        row.extend_from_slice(b"ab\0\0");
        row.extend_from_slice(&[0, 0, 0, 3]);
        row.extend_from_slice(&[b'x', 0xE9, b'y']); // Latin-1 é
        row.extend_from_slice(&[0, 0, 0, 3, 0x00, 0xE9, 0xD8, 0x34, 0xDD, 0x1E]); // é 𝄞
        row.extend_from_slice(&1.5f32.to_be_bytes());
        row.extend_from_slice(&f32::NAN.to_be_bytes());
        row.extend_from_slice(&[0, 0, 0, 2]); // 2 x 2 doubles
        for v in [1.0f64, 2.0, f64::NAN, 4.0] {
            row.extend_from_slice(&v.to_be_bytes());
        }
        row.extend_from_slice(&[0, 0, 0, 2]);
        row.extend_from_slice(&5i16.to_be_bytes());
        row.extend_from_slice(&(-1i16).to_be_bytes());
        row.extend_from_slice(&[0b1010_0000, 0b0100_0000]);
        row.push(0x80);
        let t = b"2001-02-03T04:05:06.5";
        row.extend_from_slice(&(t.len() as u32).to_be_bytes());
        row.extend_from_slice(t);
    }

    fn expected_values() -> Vec<Cell> {
        vec![
            Cell::Boolean(true),
            Cell::Short(200),
            Cell::Short(-2),
            Cell::Int(70000),
            Cell::Long(1 << 40),
            Cell::Float(0.25),
            Cell::Double(-1.0e100),
            Cell::Text("ab".into()),
            Cell::Text("xéy".into()),
            Cell::Text("é𝄞".into()),
            Cell::FloatArray(vec![Some(1.5), None]),
            Cell::DoubleArray(vec![Some(1.0), Some(2.0), None, Some(4.0)]),
            Cell::DoubleArray(vec![Some(5.0), None]),
            Cell::DoubleArray([1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0].into_iter().map(Some).collect()),
            Cell::Boolean(true),
            Cell::Timestamp(ts(2001, 2, 3, 4, 5, 6, 500000)),
        ]
    }

    #[test]
    fn binary_all_types_and_nulls() {
        let mut bytes = Vec::new();
        value_bytes(&mut bytes, false);
        value_bytes(&mut bytes, true);
        let table = read(&doc(all_types_fields(), &stream("BINARY", &bytes))).unwrap();
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0], expected_values());
        // The scalar bit reads false; everything else is NULL.
        // Bits have no NULL: the scalar bit reads false, the bit array zeros.
        let mut nulls = vec![Cell::Null; 16];
        nulls[13] = Cell::DoubleArray(vec![Some(0.0); 10]);
        nulls[14] = Cell::Boolean(false);
        assert_eq!(table.rows[1], nulls);
        assert_eq!(table.columns[13].arraysize, Some(ArraySize::Fixed(10)));
        assert_eq!(table.columns[14].datatype, Datatype::Boolean);
        assert_eq!(table.columns[14].arraysize, None);
        assert_eq!(table.columns[12].arraysize, Some(ArraySize::AtMost(3)));
    }

    #[test]
    fn binary2_flags() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&[0, 0]);
        value_bytes(&mut bytes, false);
        // Every column flagged but the first and the last; the values are still there.
        bytes.extend_from_slice(&[0b0111_1111, 0b1111_1110]);
        value_bytes(&mut bytes, false);
        // No flags, NULL-looking values: sentinels and NaN still read as NULL, empty strings
        // and arrays are empty, not NULL.
        bytes.extend_from_slice(&[0, 0]);
        value_bytes(&mut bytes, true);
        let table = read(&doc(all_types_fields(), &stream("BINARY2", &bytes))).unwrap();
        assert_eq!(table.rows.len(), 3);
        assert_eq!(table.rows[0], expected_values());
        let mut flagged = vec![Cell::Null; 16];
        flagged[0] = Cell::Boolean(true);
        flagged[15] = Cell::Timestamp(ts(2001, 2, 3, 4, 5, 6, 500000));
        assert_eq!(table.rows[1], flagged);
        let mut unflagged = vec![Cell::Null; 16];
        unflagged[7] = Cell::Text(String::new());
        unflagged[8] = Cell::Text(String::new());
        unflagged[9] = Cell::Text(String::new());
        unflagged[11] = Cell::DoubleArray(vec![]);
        unflagged[12] = Cell::DoubleArray(vec![]);
        unflagged[13] = Cell::DoubleArray(vec![Some(0.0); 10]);
        unflagged[14] = Cell::Boolean(false);
        assert_eq!(table.rows[2], unflagged);
        // A flagged value is not decoded: a timestamp that is no timestamp does not matter.
        let mut bytes = vec![0, 1];
        value_bytes(&mut bytes, false);
        let at = bytes.len() - 21;
        bytes[at..].copy_from_slice(b"not a timestamp, no!!");
        let table = read(&doc(all_types_fields(), &stream("BINARY2", &bytes))).unwrap();
        assert_eq!(table.rows[0][15], Cell::Null);
        bytes[1] = 0;
        let e = err(&doc(all_types_fields(), &stream("BINARY2", &bytes)));
        assert!(e.contains("row 1, column \"t\"") && e.contains("ISO 8601"), "{e}");
    }

    #[test]
    fn base64_with_whitespace_everywhere_and_inner_padding() {
        let fields = "<FIELD name=\"i\" datatype=\"int\"/>";
        let encoded = b64(&[0, 0, 0, 1, 0, 0, 0, 2]);
        let spaced: String = encoded.chars().flat_map(|c| [c, '\n', ' ']).collect();
        let data = format!("<BINARY><STREAM encoding=\"base64\">\r\n{spaced}\t</STREAM></BINARY>");
        let table = read(&doc(fields, &data)).unwrap();
        assert_eq!(table.rows, vec![vec![Cell::Int(1)], vec![Cell::Int(2)]]);
        // Two separately padded pieces (a writer that flushed), and a character reference.
        let data = format!("<BINARY><STREAM encoding='base64'>{}&#10;{}</STREAM></BINARY>", b64(&[0, 0, 0, 1]), b64(&[0, 0, 0, 2]));
        let table = read(&doc(fields, &data)).unwrap();
        assert_eq!(table.rows, vec![vec![Cell::Int(1)], vec![Cell::Int(2)]]);
        // No encoding attribute: base64 assumed. Empty stream: no rows.
        let table = read(&doc(fields, &format!("<BINARY><STREAM>{}</STREAM></BINARY>", b64(&[0, 0, 0, 3])))).unwrap();
        assert_eq!(table.rows, vec![vec![Cell::Int(3)]]);
        assert!(read(&doc(fields, "<BINARY2><STREAM encoding=\"base64\"/></BINARY2>")).unwrap().rows.is_empty());
        assert!(read(&doc(fields, "<BINARY2><STREAM encoding=\"base64\">\n</STREAM></BINARY2>")).unwrap().rows.is_empty());
    }

    #[test]
    fn malformed_binary() {
        let fields = "<FIELD name=\"i\" datatype=\"int\"/><FIELD name=\"s\" datatype=\"char\" arraysize=\"*\"/>";
        // Truncated base64: a lone character.
        let mut encoded = b64(&[0, 0, 0, 1, 0, 0, 0, 0]);
        encoded.push('A');
        let e = err(&doc(fields, &format!("<BINARY><STREAM encoding=\"base64\">{encoded}</STREAM></BINARY>")));
        assert!(e.contains("truncated"), "{e}");
        // A row cut short.
        let e = err(&doc(fields, &stream("BINARY", &[0, 0, 0, 1, 0, 0])));
        assert!(e.contains("row 1") && e.contains("\"s\"") && e.contains("truncated"), "{e}");
        // A count larger than the bytes left: an error, not an allocation.
        let e = err(&doc(fields, &stream("BINARY", &[0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, b'a'])));
        assert!(e.contains("count 4294967295") && e.contains("only 1"), "{e}");
        let e = err(&doc(
            "<FIELD name=\"a\" datatype=\"double\" arraysize=\"1000x*\"/>",
            &stream("BINARY2", &[0, 0x7F, 0xFF, 0xFF, 0xFF]),
        ));
        assert!(e.contains("needs") && e.contains("row 1"), "{e}");
        // Bad base64 characters.
        let e = err(&doc(fields, "<BINARY><STREAM encoding=\"base64\">AAAA*AAA</STREAM></BINARY>"));
        assert!(e.contains("'*'"), "{e}");
        // BINARY2 flags cut short.
        let many: String = (0..9).map(|i| format!("<FIELD name=\"c{i}\" datatype=\"unsignedByte\"/>")).collect();
        let e = err(&doc(&many, &stream("BINARY2", &[0])));
        assert!(e.contains("null flags"), "{e}");
    }

    // ---- document structure ----

    #[test]
    fn namespaces_prefixes_versions_and_nesting() {
        let docs = [
            // VOTable 1.1, namespace, no declaration.
            "<VOTABLE version=\"1.1\" xmlns=\"http://www.ivoa.net/xml/VOTable/v1.1\"><RESOURCE><TABLE>\
             <FIELD name=\"x\" datatype=\"int\"/><DATA><TABLEDATA><TR><TD>1</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>",
            // VOTable 1.2, prefixed, nested RESOURCEs, skipped elements.
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><!-- c --><v:VOTABLE version=\"1.2\" xmlns:v=\"http://www.ivoa.net/xml/VOTable/v1.2\">\
             <v:DESCRIPTION>d</v:DESCRIPTION><v:COOSYS ID=\"c\" system=\"ICRS\"/><v:RESOURCE><v:INFO name=\"a\" value=\"b\"/><v:RESOURCE type=\"results\">\
             <v:TABLE name=\"t\"><v:DESCRIPTION>table</v:DESCRIPTION><v:PARAM name=\"p\" datatype=\"int\" value=\"3\"/>\
             <v:GROUP><v:FIELDref ref=\"x\"/><v:PARAM name=\"q\" datatype=\"char\" arraysize=\"*\" value=\"x\"/></v:GROUP>\
             <v:FIELD ID=\"x\" datatype=\"int\"><v:LINK href=\"http://x\"/></v:FIELD>\
             <v:DATA><v:TABLEDATA><v:TR><v:TD>1</v:TD></v:TR></v:TABLEDATA></v:DATA><v:INFO name=\"after\" value=\"x\"/></v:TABLE>\
             <v:TABLE><v:FIELD name=\"y\" datatype=\"double\"/></v:TABLE></v:RESOURCE></v:RESOURCE></v:VOTABLE>",
            // VOTable 1.5 with TIMESYS, no namespace at all.
            "<VOTABLE version=\"1.5\"><RESOURCE><TIMESYS ID=\"t\" timescale=\"UTC\" refposition=\"TOPOCENTER\"/><TABLE>\
             <FIELD name=\"x\" datatype=\"int\"/><DATA><TABLEDATA><TR><TD>1</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>",
            // A simple DOCTYPE without an internal subset is harmless (nothing is fetched).
            "<?xml version=\"1.0\"?><!DOCTYPE VOTABLE SYSTEM \"http://us-vo.org/xml/VOTable.dtd\"><VOTABLE version=\"1.0\"><RESOURCE><TABLE>\
             <FIELD name=\"x\" datatype=\"int\"/><DATA><TABLEDATA><TR><TD>1</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>",
        ];
        for text in docs {
            let table = read(text).unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(table.columns.len(), 1, "{text}");
            assert_eq!(table.columns[0].name, "x");
            assert_eq!(table.rows, vec![vec![Cell::Int(1)]]);
        }
        // Rest of the document after the first TABLE is not read, even when it is broken.
        let text = "<VOTABLE><RESOURCE><TABLE><FIELD name=\"x\" datatype=\"int\"/></TABLE><oops></RESOURCE>";
        let table = read(text).unwrap();
        assert!(table.rows.is_empty());
    }

    #[test]
    fn encodings() {
        let body = "<VOTABLE><RESOURCE><TABLE><FIELD name=\"é\" datatype=\"char\" arraysize=\"*\"/>\
                    <DATA><TABLEDATA><TR><TD>ü</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>";
        let latin1: Vec<u8> = format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{body}").chars().map(|c| c as u8).collect();
        let table = read_table(&latin1, 10).unwrap();
        assert_eq!(table.columns[0].name, "é");
        assert_eq!(table.rows, vec![vec![Cell::Text("ü".into())]]);
        let mut utf16 = vec![0xFE, 0xFF];
        for unit in format!("<?xml version=\"1.0\" encoding=\"UTF-16\"?>{body}").encode_utf16() {
            utf16.extend_from_slice(&unit.to_be_bytes());
        }
        assert_eq!(read_table(&utf16, 10).unwrap().rows, vec![vec![Cell::Text("ü".into())]]);
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(body.as_bytes());
        assert_eq!(read_table(&bom, 10).unwrap().rows, vec![vec![Cell::Text("ü".into())]]);
        let start = latin1.iter().position(|&b| b == b'V').unwrap() - 1;
        let e = read_table(&latin1[start..], 10).unwrap_err();
        assert!(e.contains("not UTF-8"), "{e}");
    }

    #[test]
    fn refusals() {
        let fields = "<FIELD name=\"x\" datatype=\"int\"/>";
        let e = err(&doc(fields, "<BINARY2><STREAM href=\"http://example.com/data\" encoding=\"gzip\"/></BINARY2>"));
        assert!(e.contains("external streams are not fetched"), "{e}");
        let e = err(&doc(fields, "<BINARY><STREAM encoding=\"gzip\">AAAA</STREAM></BINARY>"));
        assert!(e.contains("only base64"), "{e}");
        let e = err(&doc(fields, "<FITS extnum=\"1\"><STREAM href=\"x.fits\"/></FITS>"));
        assert!(e.contains("FITS"), "{e}");
        let e = err(&doc(fields, "<PARQUET/>"));
        assert!(e.contains("PARQUET"), "{e}");
        let e = err(&doc("<FIELD name=\"z\" datatype=\"doubleComplex\"/>", "<TABLEDATA/>"));
        assert!(e.contains("complex"), "{e}");
        let e = err(&doc("<FIELD name=\"z\"/>", "<TABLEDATA/>"));
        assert!(e.contains("no datatype") && e.contains("\"z\""), "{e}");
        let e = err(&doc("<FIELD name=\"z\" datatype=\"real\"/>", "<TABLEDATA/>"));
        assert!(e.contains("no VOTable datatype"), "{e}");
        for size in ["0", "x", "*x2", "-1", "2x", "99999999999", "100000x100000"] {
            let e = err(&doc(&format!("<FIELD name=\"z\" datatype=\"int\" arraysize=\"{size}\"/>"), "<TABLEDATA/>"));
            assert!(e.contains("arraysize"), "{size}: {e}");
        }
        let e = err(&doc("<FIELD name=\"z\" datatype=\"int\"><VALUES null=\"none\"/></FIELD>", "<TABLEDATA/>"));
        assert!(e.contains("VALUES null"), "{e}");
        let e = err("<VOTABLE><RESOURCE><TABLE ref=\"other\"/></RESOURCE></VOTABLE>");
        assert!(e.contains("ref"), "{e}");
        let e = err("<VOTABLE><RESOURCE><INFO name=\"QUERY_STATUS\" value=\"ERROR\"/></RESOURCE></VOTABLE>");
        assert!(e.contains("no TABLE"), "{e}");
        let e = err("<html><body/></html>");
        assert!(e.contains("not a VOTable"), "{e}");
        assert!(err("").contains("empty"));
        let e = err("<VOTABLE><RESOURCE><TABLE><FIELD name=\"x\" datatype=\"int\"/><DATA><TABLEDATA><TR><TD>1</TD>");
        assert!(e.contains("truncated"), "{e}");
        let e = err("<VOTABLE><RESOURCE><TABLE><FIELD name=\"x\" datatype=\"int\"/><DATA><TABLEDATA><TR><TD>1</TR>");
        assert!(e.contains("not well-formed"), "{e}");
        let e = err("<VOTABLE><RESOURCE><TABLE><DATA><TABLEDATA/></DATA></TABLE></RESOURCE></VOTABLE>");
        assert!(e.contains("no FIELD"), "{e}");
        let e = err(&doc(fields, "<TABLEDATA><TR><TD>1<B>x</B></TD></TR></TABLEDATA>"));
        assert!(e.contains("TD holds"), "{e}");
    }

    #[test]
    fn entities_and_doctype_are_refused() {
        let laughs = "<?xml version=\"1.0\"?><!DOCTYPE VOTABLE [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>\
                      <VOTABLE><RESOURCE><TABLE><FIELD name=\"x\" datatype=\"char\" arraysize=\"*\"/>\
                      <DATA><TABLEDATA><TR><TD>&b;</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>";
        let e = err(laughs);
        assert!(e.contains("DOCTYPE") && e.contains("refused"), "{e}");
        let xxe = "<?xml version=\"1.0\"?><!DOCTYPE VOTABLE [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\
                   <VOTABLE><RESOURCE><TABLE><FIELD name=\"x\" datatype=\"char\" arraysize=\"*\"/>\
                   <DATA><TABLEDATA><TR><TD>&xxe;</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>";
        assert!(err(xxe).contains("refused"));
        // An undefined entity without a DOCTYPE.
        let e = err(&doc("<FIELD name=\"x\" datatype=\"char\" arraysize=\"*\"/>", "<TABLEDATA><TR><TD>&xxe;</TD></TR></TABLEDATA>"));
        assert!(e.contains("&xxe;") && e.contains("not defined"), "{e}");
        let e = err("<?xml version=\"1.0\"?><!ENTITY a \"b\"><VOTABLE/>");
        assert!(e.contains("refused"), "{e}");
    }

    #[test]
    fn column_names() {
        let fields = "<FIELD name=\"\" ID=\"id1\" datatype=\"int\"/><FIELD datatype=\"int\"/><FIELD name=\"n a m e\" ID=\"q\" datatype=\"int\"/>";
        let table = read(&doc(fields, "<TABLEDATA/>")).unwrap();
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id1", "col2", "n a m e"]);
        let indexes: Vec<i32> = table.columns.iter().map(|c| c.column_index).collect();
        assert_eq!(indexes, [1, 2, 3]);
        // A TABLE without DATA: no rows.
        let table = read("<VOTABLE><RESOURCE><TABLE><FIELD name=\"x\" datatype=\"int\"/></TABLE></RESOURCE></VOTABLE>").unwrap();
        assert_eq!((table.columns.len(), table.rows.len()), (1, 0));
        // The TAP 1.0 timestamp xtype is announced as timestamp; a timestamp xtype on a number is dropped.
        let fields = "<FIELD name=\"a\" datatype=\"char\" arraysize=\"*\" xtype=\"adql:TIMESTAMP\"/><FIELD name=\"b\" datatype=\"double\" xtype=\"timestamp\"/>";
        let table = read(&doc(fields, "<TABLEDATA><TR><TD>2000-01-01T00:00:00</TD><TD>1</TD></TR></TABLEDATA>")).unwrap();
        assert_eq!(table.columns[0].xtype.as_deref(), Some("timestamp"));
        assert_eq!(table.columns[1].xtype, None);
        assert_eq!(table.rows[0], vec![Cell::Timestamp(ts(2000, 1, 1, 0, 0, 0, 0)), Cell::Double(1.0)]);
    }

    #[test]
    fn row_limit() {
        let fields = "<FIELD name=\"x\" datatype=\"int\"/>";
        let tabledata = |n: usize| doc(fields, &format!("<TABLEDATA>{}</TABLEDATA>", "<TR><TD>1</TD></TR>".repeat(n)));
        assert_eq!(read_table(tabledata(3).as_bytes(), 3).unwrap().rows.len(), 3);
        let e = read_table(tabledata(4).as_bytes(), 3).unwrap_err();
        assert_eq!(e, "the uploaded table has more than 3 rows, the upload limit");
        let binary = |n: usize| doc(fields, &stream("BINARY2", &[0, 0, 0, 0, 1].repeat(n)));
        assert_eq!(read_table(binary(3).as_bytes(), 3).unwrap().rows.len(), 3);
        assert_eq!(read_table(binary(4).as_bytes(), 3).unwrap_err(), "the uploaded table has more than 3 rows, the upload limit");
        assert!(read_table(binary(1).as_bytes(), 0).is_err());
    }

    #[test]
    fn memory_is_bounded() {
        // 20000 FIELDs and rows without TDs: each TR would be 20000 NULL cells (640 kB).
        let fields = "<FIELD datatype=\"boolean\"/>".repeat(20_000);
        let text = doc(&fields, &format!("<TABLEDATA>{}</TABLEDATA>", "<TR/>".repeat(100_000)));
        assert_eq!(memory_budget(text.len()), text.len() * 32 + (64 << 20));
        let e = read_table_within(text.as_bytes(), 1_000_000, 4 << 20).unwrap_err();
        assert!(e.contains("too much memory"), "{e}");
        // Bit arrays: one bit in the stream, 16 bytes in memory; refused before the array
        // is allocated.
        let field = "<FIELD name=\"b\" datatype=\"bit\" arraysize=\"800000\"/>";
        let text = doc(field, &stream("BINARY", &vec![0xAA; 100_000 * 3]));
        let e = read_table_within(text.as_bytes(), 1_000_000, 30 << 20).unwrap_err();
        assert!(e.contains("too much memory") && e.contains("2 rows read so far"), "{e}");
        // An ordinary table is far within the bound.
        let fields = "<FIELD name=\"x\" datatype=\"double\"/>".repeat(10);
        let text = doc(&fields, &stream("BINARY2", &[0u8; 82 * 1000]));
        assert_eq!(read_table(text.as_bytes(), 1000).unwrap().rows.len(), 1000);
    }

    // ---- round trips through the writer ----

    fn writer_columns() -> Vec<ResultColumn> {
        let mut cols: Vec<ResultColumn> = [
            ("flag", ValueType::Boolean),
            ("small", ValueType::SmallInt),
            ("count", ValueType::Integer),
            ("big", ValueType::BigInt),
            ("mag", ValueType::Real),
            ("ra", ValueType::Double),
            ("name", ValueType::String),
            ("obs_time", ValueType::Timestamp),
            ("flux", ValueType::RealArray),
            ("pos", ValueType::Point),
            ("region", ValueType::Circle),
            ("footprint", ValueType::Polygon),
            ("values", ValueType::DoubleArray),
        ]
        .into_iter()
        .map(|(n, t)| ResultColumn::computed(n.to_string(), t))
        .collect();
        // Fixed and bounded sizes, and an unsignedByte.
        let mut fixed = ResultColumn::computed("spec".into(), ValueType::RealArray);
        fixed.arraysize = Some(ArraySize::Fixed(3));
        cols.push(fixed);
        let mut label = ResultColumn::computed("label".into(), ValueType::String);
        label.arraysize = Some(ArraySize::Fixed(4));
        cols.push(label);
        let mut code = ResultColumn::computed("code".into(), ValueType::String);
        code.arraysize = Some(ArraySize::AtMost(5));
        cols.push(code);
        let mut byte = ResultColumn::computed("byte".into(), ValueType::SmallInt);
        byte.datatype = Datatype::UnsignedByte;
        cols.push(byte);
        cols[5].unit = Some("deg".into());
        cols[5].ucd = Some("pos.eq.ra;meta.main".into());
        cols[5].utype = Some("x:ra".into());
        cols[5].description = Some("Right <ascension>".into());
        cols
    }

    fn writer_rows() -> Vec<Vec<Cell>> {
        vec![
            vec![
                Cell::Boolean(true),
                Cell::Short(-32767),
                Cell::Int(i32::MAX),
                Cell::Long(i64::MAX),
                Cell::Float(0.1),
                Cell::Double(1.0 / 3.0),
                Cell::Text("Ærø ☃ 𝄞 <&> \"q\", 'a' ]]>".into()),
                Cell::Timestamp(ts(2021, 3, 4, 5, 6, 7, 123456)),
                Cell::FloatArray(vec![Some(1.5), None, Some(f32::MAX)]),
                Cell::DoubleArray(vec![Some(10.5), Some(-20.25)]),
                Cell::DoubleArray(vec![Some(1.0), Some(2.0), Some(0.5)]),
                Cell::DoubleArray(vec![Some(0.0), Some(0.0), Some(1.0), Some(0.0), Some(1.0), Some(1.0)]),
                Cell::DoubleArray(vec![Some(f64::MIN_POSITIVE), None, Some(-0.0), Some(f64::INFINITY)]),
                Cell::FloatArray(vec![Some(1.0), Some(2.0), Some(3.0)]),
                Cell::Text("abcd".into()),
                Cell::Text("xy".into()),
                Cell::Short(254),
            ],
            vec![
                Cell::Boolean(false),
                Cell::Short(0),
                Cell::Int(-5),
                Cell::Long(i64::MIN + 1),
                Cell::Float(-1e-30),
                Cell::Double(6.02e23),
                Cell::Text(" spaced ".into()),
                Cell::Timestamp(ts(1999, 12, 31, 23, 59, 59, 0)),
                Cell::FloatArray(vec![Some(f32::NEG_INFINITY)]),
                Cell::DoubleArray(vec![Some(0.0), Some(-90.0)]),
                Cell::Null,
                Cell::Null,
                Cell::DoubleArray(vec![Some(1.0)]),
                Cell::FloatArray(vec![Some(1.0), None, Some(3.0)]),
                Cell::Text("é".into()),
                Cell::Text("12345".into()),
                Cell::Short(0),
            ],
            vec![Cell::Null; 17],
        ]
    }

    fn write(format: Format, columns: &[ResultColumn], rows: &[Vec<Cell>]) -> Vec<u8> {
        let mut writer = ResultWriter::new(format, columns, &DocumentInfo::default());
        for row in rows {
            writer.write_row(row);
        }
        let mut out = writer.take_chunk();
        out.extend(writer.finish(End::Overflow));
        out
    }

    #[test]
    fn round_trip_through_the_writer() {
        let columns = writer_columns();
        let rows = writer_rows();
        for format in [Format::VotableTabledata, Format::VotableBinary, Format::VotableBinary2] {
            let document = write(format, &columns, &rows);
            let table = read_table(&document, 100).unwrap_or_else(|e| panic!("{format:?}: {e}"));
            assert_eq!(table.rows, rows, "{format:?}");
            let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            let expected: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, expected);
            let ra = &table.columns[5];
            assert_eq!((ra.datatype, ra.unit.as_deref(), ra.ucd.as_deref()), (Datatype::Double, Some("deg"), Some("pos.eq.ra;meta.main")));
            assert_eq!((ra.utype.as_deref(), ra.description.as_str()), (Some("x:ra"), "Right <ascension>"));
            assert_eq!(table.columns[6].datatype, Datatype::UnicodeChar);
            assert_eq!(table.columns[7].xtype.as_deref(), Some("timestamp"));
            assert_eq!(table.columns[9].xtype.as_deref(), Some("point"));
            assert_eq!(table.columns[9].arraysize, Some(ArraySize::Fixed(2)));
            assert_eq!(table.columns[15].arraysize, Some(ArraySize::AtMost(5)));
            assert_eq!(table.columns[16].datatype, Datatype::UnsignedByte);
        }
    }

    #[test]
    fn round_trip_of_empty_values_and_nan() {
        // Documented normalisations: NaN reads as NULL; an empty string is NULL except in
        // BINARY2; an empty variable-length array is NULL except in BINARY2; an array of
        // NULLs is NULL.
        let columns: Vec<ResultColumn> = [ValueType::String, ValueType::Double, ValueType::DoubleArray, ValueType::RealArray]
            .into_iter()
            .enumerate()
            .map(|(i, t)| ResultColumn::computed(format!("c{i}"), t))
            .collect();
        let row = vec![Cell::Text(String::new()), Cell::Double(f64::NAN), Cell::DoubleArray(vec![]), Cell::FloatArray(vec![None, None])];
        for format in [Format::VotableTabledata, Format::VotableBinary, Format::VotableBinary2] {
            let table = read_table(&write(format, &columns, std::slice::from_ref(&row)), 10).unwrap();
            let expected = if format == Format::VotableBinary2 {
                vec![Cell::Text(String::new()), Cell::Null, Cell::DoubleArray(vec![]), Cell::Null]
            } else {
                vec![Cell::Null; 4]
            };
            assert_eq!(table.rows, vec![expected], "{format:?}");
        }
    }

    #[test]
    fn many_columns_and_rows_round_trip() {
        // More than 8 columns (a two-byte BINARY2 bitmap) and NULLs at every position.
        let columns: Vec<ResultColumn> = (0..11).map(|i| ResultColumn::computed(format!("c{i}"), ValueType::Integer)).collect();
        let rows: Vec<Vec<Cell>> = (0..200)
            .map(|r| (0..11).map(|c| if (r + c) % 7 == 0 { Cell::Null } else { Cell::Int(r * 100 + c) }).collect())
            .collect();
        for format in [Format::VotableTabledata, Format::VotableBinary, Format::VotableBinary2] {
            let table = read_table(&write(format, &columns, &rows), 200).unwrap();
            assert_eq!(table.rows, rows, "{format:?}");
            assert!(read_table(&write(format, &columns, &rows), 199).is_err());
        }
    }

    // ---- robustness ----

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    #[test]
    fn random_mutations_never_panic() {
        let columns = writer_columns();
        let rows = writer_rows();
        let mut seeds: Vec<Vec<u8>> =
            [Format::VotableTabledata, Format::VotableBinary, Format::VotableBinary2].iter().map(|f| write(*f, &columns, &rows)).collect();
        let mut bytes = Vec::new();
        value_bytes(&mut bytes, false);
        value_bytes(&mut bytes, true);
        seeds.push(doc(all_types_fields(), &stream("BINARY", &bytes)).into_bytes());
        let interesting: &[&[u8]] = &[b"<", b">", b"/", b"\"", b"&", b"*", b"x", b"0", b"9", b"=", b"A", b"/", b"<TD>", b"</TR>", b"<![CDATA[", b"&#0;", b"\xFF", b"\xC3"];
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut errors = 0;
        for round in 0..3000 {
            let mut data = seeds[round % seeds.len()].clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(data.len());
                match rng.below(6) {
                    0 => data[at] = rng.next() as u8,
                    1 => data[at] ^= 1 << rng.below(8),
                    2 => {
                        data.remove(at);
                    }
                    3 => {
                        let piece = interesting[rng.below(interesting.len())];
                        data.splice(at..at, piece.iter().copied());
                    }
                    4 => data.truncate(at),
                    _ => {
                        // Overwrite a base64 character (in streams, changes the row bytes).
                        let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                        data[at] = b64[rng.below(64)];
                    }
                }
                if data.is_empty() {
                    break;
                }
            }
            if read_table(&data, 50).is_err() {
                errors += 1;
            }
        }
        // Most mutations are harmless or caught; the point is that none panicked.
        assert!(errors > 0);
    }
}
