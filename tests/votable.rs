//! The result writers checked with the reference tools: every VOTable serialisation (with a
//! complete, an OVERFLOW and an error ending) passes `stilts votlint` without a message and
//! validates against the VOTable 1.4 schema with xmllint; astropy (strict: any VOTable
//! specification warning fails) and pyvo read back the same values and the last
//! QUERY_STATUS; CSV and TSV read back the same with Python's csv module and astropy; the
//! DALI error document passes the same checks and makes pyvo raise DALQueryError.
//!
//! Needs xmllint, STILTS (`stilts`) and the project's virtualenv (.venv with astropy, pyvo),
//! like the rest of the test suite.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{NaiveDate, NaiveDateTime};
use dfbs_vo::adql::{ResultColumn, ValueType};
use dfbs_vo::catalog::{ArraySize, Datatype};
use dfbs_vo::votable::{error_document, Cell, DocumentInfo, End, Format, ResultWriter};

fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn column(name: &str, value_type: ValueType, datatype: Datatype, arraysize: Option<ArraySize>, xtype: Option<&str>) -> ResultColumn {
    let mut column = ResultColumn::computed(name.to_string(), value_type);
    column.datatype = datatype;
    column.arraysize = arraysize;
    column.xtype = xtype.map(str::to_string);
    column
}

/// One column of every type the service publishes, declared as tap/ declares them.
fn columns() -> Vec<ResultColumn> {
    let mut cols = vec![
        column("flag", ValueType::Boolean, Datatype::Boolean, None, None),
        column("small", ValueType::SmallInt, Datatype::Short, None, None),
        column("count", ValueType::Integer, Datatype::Int, None, None),
        column("big", ValueType::BigInt, Datatype::Long, None, None),
        column("mag", ValueType::Real, Datatype::Float, None, None),
        column("ra", ValueType::Double, Datatype::Double, None, None),
        column("name", ValueType::String, Datatype::UnicodeChar, Some(ArraySize::Variable), None),
        column("obs_time", ValueType::Timestamp, Datatype::Char, Some(ArraySize::Variable), Some("timestamp")),
        column("flux", ValueType::RealArray, Datatype::Float, Some(ArraySize::Fixed(136)), None),
        column("pos", ValueType::Point, Datatype::Double, Some(ArraySize::Fixed(2)), Some("point")),
        column("region", ValueType::Circle, Datatype::Double, Some(ArraySize::Fixed(3)), Some("circle")),
        column("footprint", ValueType::Polygon, Datatype::Double, Some(ArraySize::Variable), Some("polygon")),
        column("label", ValueType::String, Datatype::UnicodeChar, Some(ArraySize::Fixed(4)), None),
        column("code", ValueType::String, Datatype::UnicodeChar, Some(ArraySize::AtMost(5)), None),
        column("odd \"name\", 2", ValueType::Double, Datatype::Double, None, None),
    ];
    cols[4].unit = Some("mag".into());
    cols[4].ucd = Some("phot.mag;em.opt.V".into());
    cols[4].description = Some("Magnitude <V> & \"B\" – ☃".into());
    cols[5].unit = Some("deg".into());
    cols[5].ucd = Some("pos.eq.ra;meta.main".into());
    cols[5].utype = Some("stc:AstroCoords.Position2D.Value2.C1".into());
    cols[5].description = Some("Right ascension\nsecond line".into());
    cols[8].unit = Some("Jy".into());
    cols[9].unit = Some("deg".into());
    cols
}

fn timestamp(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micro: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_micro_opt(h, mi, s, micro).unwrap()
}

fn rows() -> Vec<Vec<Cell>> {
    let flux: Vec<Option<f32>> = (0..136).map(|i| if i == 5 { None } else { Some(i as f32 * 0.5 + 0.1) }).collect();
    let mut rows = vec![
        vec![
            Cell::Boolean(true),
            Cell::Short(-32767),
            Cell::Int(i32::MAX),
            Cell::Long(i64::MAX),
            Cell::Float(0.1),
            Cell::Double(1.0 / 3.0),
            Cell::Text("Ærø ☃ 𝄞 <&> \"q\", 'a' ]]>".into()),
            Cell::Timestamp(timestamp(2021, 3, 4, 5, 6, 7, 123456)),
            Cell::FloatArray(flux),
            Cell::DoubleArray(vec![Some(10.5), Some(-20.25)]),
            Cell::DoubleArray(vec![Some(1.0), Some(2.0), Some(0.5)]),
            Cell::DoubleArray((0..8).map(|i| Some(f64::from(i) * 1.25)).collect()),
            Cell::Text("abc".into()),
            Cell::Text("xy".into()),
            Cell::Double(-0.0),
        ],
        vec![Cell::Null; 15],
        vec![
            Cell::Boolean(false),
            Cell::Short(0),
            Cell::Int(i32::MIN + 1),
            Cell::Long(i64::MIN + 1),
            Cell::Float(f32::INFINITY),
            Cell::Double(f64::NEG_INFINITY),
            Cell::Text("line1\nline2\r\nline3\tend".into()),
            Cell::Timestamp(timestamp(1999, 12, 31, 23, 59, 59, 0)),
            Cell::FloatArray((0..10).map(|i| Some(i as f32 * 3.4e37)).collect()),
            Cell::DoubleArray(vec![Some(f64::NAN), None]),
            Cell::DoubleArray(vec![Some(1e300), Some(5e-324), Some(0.5)]),
            Cell::DoubleArray(vec![]),
            Cell::Text("abcdefgh".into()),
            Cell::Text("too long".into()),
            Cell::Double(5e-324),
        ],
        vec![
            Cell::Boolean(true),
            Cell::Short(i16::MAX),
            Cell::Int(0),
            Cell::Long(-1),
            Cell::Float(f32::NAN),
            Cell::Double(f64::MAX),
            Cell::Text(String::new()),
            Cell::Timestamp(timestamp(1, 1, 1, 0, 0, 0, 1)),
            Cell::FloatArray((0..140).map(|i| Some(-(i as f32))).collect()),
            Cell::DoubleArray(vec![Some(359.99999999999994), Some(-89.99999999999999)]),
            Cell::Null,
            Cell::DoubleArray(vec![Some(1.0), Some(2.0), Some(3.0), Some(4.0), Some(5.0), Some(6.0)]),
            Cell::Text("𝄞𝄞𝄞".into()),
            Cell::Text(" ÆØ ".into()),
            Cell::Double(f64::MIN_POSITIVE),
        ],
    ];
    for i in 0..300i32 {
        let null = i % 7 == 3;
        let cell = |c: Cell| if null { Cell::Null } else { c };
        rows.push(vec![
            cell(Cell::Boolean(i % 2 == 0)),
            cell(Cell::Short(i as i16 - 150)),
            Cell::Int(i * 1000),
            cell(Cell::Long(i64::from(i) * 1_000_000_000_007)),
            cell(Cell::Float(i as f32 * 1.1)),
            Cell::Double(f64::from(i) * std::f64::consts::PI),
            cell(Cell::Text(format!("row {i} – ✓"))),
            cell(Cell::Timestamp(timestamp(2020, 1 + (i % 12) as u32, 1 + (i % 28) as u32, (i % 24) as u32, 0, 0, (i as u32 * 1000) % 1_000_000))),
            cell(Cell::FloatArray((0..136).map(|j| Some((i * 136 + j) as f32 / 7.0)).collect())),
            cell(Cell::DoubleArray(vec![Some(f64::from(i) / 3.0), Some(-f64::from(i) / 9.0)])),
            cell(Cell::DoubleArray(vec![Some(f64::from(i)), Some(1.0), Some(0.001)])),
            cell(Cell::DoubleArray((0..(2 * (i % 5) + 6)).map(|j| Some(f64::from(i + j) / 11.0)).collect())),
            cell(Cell::Text(format!("L{}", i % 1000))),
            cell(Cell::Text(format!("c{i}"))),
            cell(Cell::Double(1.0 / f64::from(i + 1))),
        ]);
    }
    rows
}

// --- Expected values, as JSON for tests/data/votable/check.py ---

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn cut_utf16(s: &str, limit: usize) -> String {
    let mut units = 0;
    s.chars().take_while(|c| {
        units += c.len_utf16();
        units <= limit
    }).collect()
}

fn timestamp_text(t: &NaiveDateTime) -> String {
    use chrono::Timelike;
    let mut text = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    if t.nanosecond() > 0 {
        text.push_str(format!(".{:09}", t.nanosecond()).trim_end_matches('0'));
    }
    text
}

/// The value a client reads back for `cell` in column `col`.
fn expected_value(out: &mut String, col: &ResultColumn, cell: &Cell, votable: bool) {
    let fixed = match col.arraysize {
        Some(ArraySize::Fixed(n)) => Some(n as usize),
        _ => None,
    };
    let limit = match col.arraysize {
        Some(ArraySize::Fixed(n)) | Some(ArraySize::AtMost(n)) if votable => n as usize,
        _ => usize::MAX,
    };
    match cell {
        Cell::Null => out.push_str("null"),
        Cell::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Cell::Short(v) => {
            let _ = write!(out, "{v}");
        }
        Cell::Int(v) => {
            let _ = write!(out, "{v}");
        }
        Cell::Long(v) => {
            let _ = write!(out, "{v}");
        }
        Cell::Float(v) => json_string(out, &format!("{v:?}")),
        Cell::Double(v) => json_string(out, &format!("{v:?}")),
        Cell::Text(s) => json_string(out, &cut_utf16(s, limit)),
        Cell::Timestamp(t) => json_string(out, &timestamp_text(t)),
        Cell::FloatArray(values) => {
            let mut texts: Vec<String> = values.iter().map(|v| v.map_or("NaN".to_string(), |v| format!("{v:?}"))).collect();
            if votable && let Some(n) = fixed {
                texts.resize(n, "NaN".into());
            }
            json_list(out, &texts);
        }
        Cell::DoubleArray(values) => {
            let mut texts: Vec<String> = values.iter().map(|v| v.map_or("NaN".to_string(), |v| format!("{v:?}"))).collect();
            if votable && let Some(n) = fixed {
                texts.resize(n, "NaN".into());
            }
            json_list(out, &texts);
        }
    }
}

fn json_list(out: &mut String, texts: &[String]) {
    out.push('[');
    for (i, t) in texts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, t);
    }
    out.push(']');
}

/// `votable`: strings and arrays are cut or padded to their arraysize. `tabledata`: astropy
/// strips the whitespace around TD text.
fn expected_json(columns: &[ResultColumn], rows: &[Vec<Cell>], end: &End, votable: bool, tabledata: bool) -> String {
    let mut out = format!("{{\"tabledata\":{tabledata},\"columns\":[");
    for (i, col) in columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let kind = match col.value_type {
            ValueType::Boolean => "bool",
            ValueType::SmallInt | ValueType::Integer | ValueType::BigInt => "int",
            ValueType::Real => "float32",
            ValueType::Double => "float64",
            ValueType::String | ValueType::Null => "text",
            ValueType::Timestamp => "timestamp",
            ValueType::RealArray => "float32[]",
            ValueType::Point | ValueType::Circle | ValueType::Polygon | ValueType::DoubleArray => "float64[]",
        };
        out.push_str("{\"name\":");
        json_string(&mut out, &col.name);
        let _ = write!(out, ",\"type\":\"{kind}\",\"size\":");
        match col.arraysize {
            Some(ArraySize::Fixed(n)) if kind.ends_with("[]") => {
                let _ = write!(out, "{n}");
            }
            _ => out.push_str("null"),
        }
        out.push('}');
    }
    out.push_str("],\"rows\":[");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        for (j, (col, cell)) in columns.iter().zip(row).enumerate() {
            if j > 0 {
                out.push(',');
            }
            expected_value(&mut out, col, cell, votable);
        }
        out.push(']');
    }
    let (status, message) = match end {
        End::Complete => ("OK", None),
        End::Overflow => ("OVERFLOW", None),
        End::Error(m) => ("ERROR", Some(m.as_str())),
    };
    let _ = write!(out, "],\"status\":\"{status}\",\"message\":");
    match message {
        Some(m) => json_string(&mut out, m),
        None => out.push_str("null"),
    }
    out.push('}');
    out
}

// --- Running the tools ---

fn run(command: &mut Command) -> (bool, String) {
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// With VOTABLE_TEST_KEEP=DIR, the documents are also copied there for inspection.
fn keep(path: &Path) {
    if let Ok(dir) = std::env::var("VOTABLE_TEST_KEEP") {
        let _ = std::fs::copy(path, Path::new(&dir).join(path.file_name().unwrap()));
    }
}

fn xmllint(path: &Path) {
    keep(path);
    let xsd = project_dir().join("tests/data/xsd");
    let (ok, text) = run(Command::new("xmllint")
        .env("XML_CATALOG_FILES", xsd.join("catalog.xml"))
        .args(["--noout", "--nonet", "--schema"])
        .arg(xsd.join("VOTable.xsd"))
        .arg(path));
    assert!(ok, "xmllint {}: {text}", path.display());
}

fn votlint(path: &Path) {
    let (ok, text) = run(Command::new("stilts").arg("votlint").arg(format!("votable={}", path.display())));
    assert!(ok && text.trim().is_empty(), "votlint {} reports:\n{text}", path.display());
}

/// votlint of STILTS 3.4.7 (Debian) misreads every non-empty variable-length xtype="polygon"
/// array in BINARY and BINARY2 streams (it reads the element count twice, then reports
/// stream corruption or runs out of memory), although the bytes are as VOTable 1.4 section
/// 5.4 prescribes and as a plain double[*] column of the same bytes passes (and STIL's own
/// reader, `stilts tpipe`, and astropy read the polygons back). So the binary documents are
/// linted with the polygon xtype taken off the FIELD, which leaves every byte of the stream
/// as it is and still has votlint check each value.
fn votlint_binary(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let stripped = text.replace(" xtype=\"polygon\"", "");
    assert_eq!(stripped.len() + " xtype=\"polygon\"".len(), text.len(), "one polygon FIELD");
    let copy = path.with_extension("nopolygon.vot");
    std::fs::write(&copy, stripped).unwrap();
    votlint(&copy);
}

fn python_check(mode: &str, path: &Path, expected: &str) {
    let expected_path = path.with_extension("expected.json");
    std::fs::write(&expected_path, expected).unwrap();
    keep(&expected_path);
    let (ok, text) = run(Command::new(project_dir().join(".venv/bin/python"))
        .arg(project_dir().join("tests/data/votable/check.py"))
        .arg(mode)
        .arg(path)
        .arg(&expected_path));
    assert!(ok && text.trim_end().ends_with("ok"), "{mode} check of {}:\n{text}", path.display());
}

fn info() -> DocumentInfo {
    DocumentInfo {
        query: Some("SELECT *\nFROM dfbs.spectra\r\nWHERE name = 'x' AND mag < 3 -- \"<&>\"".into()),
        infos: vec![("request_date".into(), "2024-01-02T03:04:05".into()), ("service".into(), "dfbs-vo ☃".into())],
        table_name: Some("result".into()),
    }
}

/// Writes a document, taking the bytes in chunks as the service does.
fn write_document(format: Format, columns: &[ResultColumn], rows: &[Vec<Cell>], end: End) -> Vec<u8> {
    let mut writer = ResultWriter::new(format, columns, &info());
    let mut document = Vec::new();
    for row in rows {
        writer.write_row(row);
        if writer.buffered() > 8192 {
            document.extend(writer.take_chunk());
        }
    }
    document.extend(writer.finish(end));
    document
}

const ERROR_MESSAGE: &str = "Query failed after 303 rows: division by zero <&> \"x\"\nsecond line ☃";

fn check_votable_format(format: Format, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let columns = columns();
    let rows = rows();
    for end in [End::Complete, End::Overflow, End::Error(ERROR_MESSAGE.into())] {
        let document = write_document(format, &columns, &rows, end.clone());
        let text = std::str::from_utf8(&document).expect("UTF-8");
        let path = dir.path().join(format!("{name}-{}.vot", match end { End::Complete => "ok", End::Overflow => "overflow", End::Error(_) => "error" }));
        std::fs::write(&path, &document).unwrap();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VOTABLE version=\"1.4\""));
        assert!(text.contains("<INFO name=\"QUERY_STATUS\" value=\"OK\"/>\n<INFO name=\"QUERY\" value=\"SELECT *&#10;FROM"));
        assert!(text.contains("datatype=\"unicodeChar\""));
        let tail = text.rsplit_once("</TABLE>").unwrap().1;
        match &end {
            End::Complete => assert_eq!(tail, "\n</RESOURCE>\n</VOTABLE>\n"),
            End::Overflow => assert!(tail.contains("<INFO name=\"QUERY_STATUS\" value=\"OVERFLOW\"/>")),
            End::Error(_) => assert!(tail.contains("<INFO name=\"QUERY_STATUS\" value=\"ERROR\">Query failed")),
        }
        if format != Format::VotableTabledata {
            let stream = text.split_once("<STREAM encoding=\"base64\">\n").unwrap().1.split_once("</STREAM>").unwrap().0;
            assert!(stream.lines().all(|l| l.len() <= 76 && l.len() % 4 == 0), "base64 lines");
            assert!(stream.lines().rev().skip(1).all(|l| l.len() == 76), "full base64 lines");
        }
        assert_eq!(text.contains("<VALUES null="), format == Format::VotableBinary);
        xmllint(&path);
        if format == Format::VotableTabledata {
            votlint(&path);
        } else {
            votlint_binary(&path);
        }
        python_check("votable", &path, &expected_json(&columns, &rows, &end, true, format == Format::VotableTabledata));
    }
}

#[test]
fn tabledata_documents_pass_votlint_xmllint_and_astropy() {
    check_votable_format(Format::VotableTabledata, "td");
}

#[test]
fn binary_documents_pass_votlint_xmllint_and_astropy() {
    check_votable_format(Format::VotableBinary, "binary");
}

#[test]
fn binary2_documents_pass_votlint_xmllint_and_astropy() {
    check_votable_format(Format::VotableBinary2, "binary2");
}

#[test]
fn csv_and_tsv_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let columns = columns();
    let rows = rows();
    for (format, mode) in [(Format::Csv, "csv"), (Format::Tsv, "tsv")] {
        let document = write_document(format, &columns, &rows, End::Complete);
        let path = dir.path().join(format!("result.{mode}"));
        std::fs::write(&path, &document).unwrap();
        python_check(mode, &path, &expected_json(&columns, &rows, &End::Complete, false, false));
        // The ending does not change CSV or TSV.
        assert_eq!(write_document(format, &columns, &rows, End::Error("x".into())), document);
    }
}

#[test]
fn error_document_is_valid_and_clients_see_the_error() {
    let dir = tempfile::tempdir().unwrap();
    for (i, message) in ["Syntax error at line 1: unexpected token 'FORM'", "Bad <query> & \"quotes\"\nline two ☃"].iter().enumerate() {
        let document = error_document(message);
        assert!(!document.contains("<TABLE"));
        assert_eq!(document.matches("<INFO").count(), 1);
        let path = dir.path().join(format!("error{i}.vot"));
        std::fs::write(&path, &document).unwrap();
        xmllint(&path);
        votlint(&path);
        let expected = expected_json(&[], &[], &End::Error(message.to_string()), true, false);
        python_check("error", &path, &expected);
    }
}

#[test]
fn empty_results_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    let columns = columns();
    for (format, name) in [(Format::VotableTabledata, "td"), (Format::VotableBinary, "b"), (Format::VotableBinary2, "b2")] {
        let document = write_document(format, &columns, &[], End::Complete);
        let path = dir.path().join(format!("empty-{name}.vot"));
        std::fs::write(&path, &document).unwrap();
        xmllint(&path);
        votlint(&path);
        python_check("votable", &path, &expected_json(&columns, &[], &End::Complete, true, format == Format::VotableTabledata));
    }
}

/// The chunks a caller takes add up to the document, whatever the chunk size.
#[test]
fn chunks_add_up_to_the_document() {
    let columns = columns();
    let rows = rows();
    for format in Format::ALL {
        let mut whole = ResultWriter::new(format, &columns, &info());
        for row in &rows {
            whole.write_row(row);
        }
        let expected = whole.finish(End::Overflow);
        let mut writer = ResultWriter::new(format, &columns, &info());
        let mut document = writer.take_chunk();
        assert!(!document.is_empty(), "the header is buffered at once");
        assert_eq!(writer.buffered(), 0);
        for row in &rows {
            writer.write_row(row);
            document.extend(writer.take_chunk());
        }
        document.extend(writer.finish(End::Overflow));
        assert_eq!(document, expected, "{format:?}");
    }
}

/// Encoding speed of 10 double columns (run in release mode:
/// `cargo test --release --test votable -- --ignored --nocapture encode_speed`).
#[test]
#[ignore]
fn encode_speed() {
    let columns: Vec<ResultColumn> = (0..10).map(|i| ResultColumn::computed(format!("c{i}"), ValueType::Double)).collect();
    let rows: Vec<Vec<Cell>> = (0..1000)
        .map(|r| (0..10).map(|c| Cell::Double(f64::from(r * 10 + c) * 1.234_567_891_234e-3 + 180.0)).collect())
        .collect();
    for format in Format::ALL {
        let n = 2_000_000;
        let start = std::time::Instant::now();
        let mut writer = ResultWriter::new(format, &columns, &DocumentInfo::default());
        let mut bytes = 0;
        for i in 0..n {
            writer.write_row(&rows[i % rows.len()]);
            if writer.buffered() >= 64 * 1024 {
                bytes += writer.take_chunk().len();
            }
        }
        bytes += writer.finish(End::Complete).len();
        let seconds = start.elapsed().as_secs_f64();
        println!("{format:?}: {:.0} rows/s, {:.0} MB/s of output", n as f64 / seconds, bytes as f64 / seconds / 1e6);
    }
}

