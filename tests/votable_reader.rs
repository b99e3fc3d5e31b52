//! The VOTable reader (table uploads) on documents written by other tools: astropy 7.1
//! (TABLEDATA, BINARY, BINARY2, from an astropy Table with masked values, fixed, 2-D and
//! variable-length arrays, bit booleans, unicode and byte strings and a timestamp), STILTS
//! from CSV (votable-tabledata, votable-binary-inline, votable-binary2-inline, and VOTable
//! 1.1 BINARY and 1.2 TABLEDATA documents, with blanks and computed array columns) and STILTS
//! re-serialising astropy's document (STIL's unicodeChar, 2-D and variable-length arrays in
//! TABLEDATA, BINARY and BINARY2). The values read back are those the tools were given.
//!
//! Needs STILTS (`stilts`) and the project's virtualenv (.venv with astropy), like the rest
//! of the test suite.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{NaiveDate, NaiveDateTime};
use dfbs_vo::catalog::{ArraySize, Datatype};
use dfbs_vo::votable::{read_table, Cell, UploadedTable};

fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(command: &mut Command) {
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn read(path: &Path) -> UploadedTable {
    let data = std::fs::read(path).unwrap();
    read_table(&data, 1000).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ts(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, milli: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_milli_opt(h, mi, s, milli).unwrap()
}

fn doubles(values: &[f64]) -> Cell {
    Cell::DoubleArray(values.iter().map(|v| if v.is_nan() { None } else { Some(*v) }).collect())
}

const ASTROPY_SCRIPT: &str = r#"
import sys
import numpy as np
from astropy.table import Table, MaskedColumn
from astropy.io.votable import from_table
out = sys.argv[1]
t = Table()
t['i16'] = np.array([1, -2, 3], dtype=np.int16)
t['i32'] = MaskedColumn(np.array([10, 20, 30], dtype=np.int32), mask=[False, True, False])
t['i64'] = np.array([2**40, -1, 0], dtype=np.int64)
t['u8'] = np.array([0, 200, 254], dtype=np.uint8)
t['f32'] = np.array([1.5, np.nan, -3.25], dtype=np.float32)
t['f64'] = MaskedColumn([0.1, 2.0, 1e300], mask=[False, False, True])
t['s'] = ['a', 'Ærø ☃', '']
t['c'] = np.array([b'ab', b'xyz', b''])
t['arr'] = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, np.nan]])
t['m'] = np.arange(18, dtype=np.int32).reshape(3, 3, 2)
t['b'] = [True, False, True]
v = np.empty(3, dtype=object)
v[0] = np.ma.array([1.0], mask=[False])
v[1] = np.ma.array([2.0, 3.0], mask=[False, False])
v[2] = np.ma.array([4.0, 5.0, 6.0], mask=[False, False, False])
t['v'] = v
t['when'] = ['2020-01-02T03:04:05', '1999-12-31T23:59:59.5', '']
t['i16'].unit = 'm'
t['i16'].description = 'A short <one>'
vt = from_table(t)
for f in vt.get_first_table().fields:
    if f.name == 'i32':
        f.values.null = -99
    if f.name == 'when':
        f.xtype = 'timestamp'
for fmt in ['tabledata', 'binary', 'binary2']:
    vt.to_xml(f'{out}/astropy_{fmt}.vot', tabledata_format=fmt)
"#;

/// Writes astropy_{tabledata,binary,binary2}.vot into `dir`.
fn write_astropy_documents(dir: &Path) {
    let script = dir.join("write.py");
    std::fs::write(&script, ASTROPY_SCRIPT).unwrap();
    run(Command::new(project_dir().join(".venv/bin/python")).arg(&script).arg(dir));
}

/// The rows of the astropy table; `empty` is what an empty string reads as.
fn astropy_rows(empty: Cell) -> Vec<Vec<Cell>> {
    vec![
        vec![
            Cell::Short(1),
            Cell::Int(10),
            Cell::Long(1 << 40),
            Cell::Short(0),
            Cell::Float(1.5),
            Cell::Double(0.1),
            Cell::Text("a".into()),
            Cell::Text("ab".into()),
            doubles(&[1.0, 2.0, 3.0]),
            doubles(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]),
            Cell::Boolean(true),
            doubles(&[1.0]),
            Cell::Timestamp(ts(2020, 1, 2, 3, 4, 5, 0)),
        ],
        vec![
            Cell::Short(-2),
            Cell::Null,
            Cell::Long(-1),
            Cell::Short(200),
            Cell::Null,
            Cell::Double(2.0),
            Cell::Text("Ærø ☃".into()),
            Cell::Text("xyz".into()),
            doubles(&[4.0, 5.0, 6.0]),
            doubles(&[6.0, 7.0, 8.0, 9.0, 10.0, 11.0]),
            Cell::Boolean(false),
            doubles(&[2.0, 3.0]),
            Cell::Timestamp(ts(1999, 12, 31, 23, 59, 59, 500)),
        ],
        vec![
            Cell::Short(3),
            Cell::Int(30),
            Cell::Long(0),
            Cell::Short(254),
            Cell::Float(-3.25),
            Cell::Null,
            empty.clone(),
            empty,
            doubles(&[7.0, 8.0, f64::NAN]),
            doubles(&[12.0, 13.0, 14.0, 15.0, 16.0, 17.0]),
            Cell::Boolean(true),
            doubles(&[4.0, 5.0, 6.0]),
            Cell::Null,
        ],
    ]
}

const ASTROPY_NAMES: [&str; 13] = ["i16", "i32", "i64", "u8", "f32", "f64", "s", "c", "arr", "m", "b", "v", "when"];

#[test]
fn reads_what_astropy_writes() {
    let dir = tempfile::tempdir().unwrap();
    write_astropy_documents(dir.path());
    for format in ["tabledata", "binary", "binary2"] {
        let table = read(&dir.path().join(format!("astropy_{format}.vot")));
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ASTROPY_NAMES, "{format}");
        let column = |name: &str| table.columns.iter().find(|c| c.name == name).unwrap();
        assert_eq!(column("i16").unit.as_deref(), Some("m"));
        assert_eq!(column("i16").description, "A short <one>");
        assert_eq!(column("s").datatype, Datatype::UnicodeChar);
        assert_eq!(column("c").datatype, Datatype::Char);
        assert_eq!(column("m").arraysize, Some(ArraySize::Fixed(6)));
        assert_eq!(column("v").arraysize, Some(ArraySize::Variable));
        assert_eq!(column("b").datatype, Datatype::Boolean, "astropy writes booleans as bit");
        assert_eq!(column("when").xtype.as_deref(), Some("timestamp"));
        // The empty strings: NULL in TABLEDATA (an empty TD) and BINARY; BINARY2 has flags.
        let empty = if format == "binary2" { Cell::Text(String::new()) } else { Cell::Null };
        assert_eq!(table.rows, astropy_rows(empty), "{format}");
    }
}

const CSV: &str = "id,ra,name,flag,big,note\n\
                   1,10.5,Aero,true,12345678901,x\n\
                   2,,b,false,-5,\n\
                   3,-0.25,,,,\"a,b\"\n";

/// STILTS from a CSV file (ASCII: STILTS reads CSV bytes as Latin-1) with blanks and
/// computed columns, in every VOTable serialisation and in VOTable 1.1 and 1.2.
#[test]
fn reads_what_stilts_writes() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, CSV).unwrap();
    let outputs = [
        ("stilts_tabledata.vot", "votable-tabledata"),
        ("stilts_binary.vot", "votable-binary-inline"),
        ("stilts_binary2.vot", "votable-binary2-inline"),
        ("stilts_v11_binary.vot", "votable(format=BINARY,version=V11)"),
        ("stilts_v12_tabledata.vot", "votable(format=TABLEDATA,version=V12)"),
    ];
    for (file, ofmt) in outputs {
        run(Command::new("stilts").args([
            "tpipe",
            &format!("in={}", csv.display()),
            "ifmt=csv",
            "cmd=addcol arr \"array(id*1.0, id*0.5)\"; addcol fl \"(float)(id/4.0)\"; addcol n \"id == 2 ? NULL : (long)id\"",
            &format!("out={}", dir.path().join(file).display()),
            &format!("ofmt={ofmt}"),
        ]));
    }
    for (file, _) in outputs {
        let table = read(&dir.path().join(file));
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "ra", "name", "flag", "big", "note", "arr", "fl", "n"], "{file}");
        let expected = vec![
            vec![
                Cell::Short(1),
                Cell::Float(10.5),
                Cell::Text("Aero".into()),
                Cell::Boolean(true),
                Cell::Long(12345678901),
                Cell::Text("x".into()),
                doubles(&[1.0, 0.5]),
                Cell::Float(0.25),
                Cell::Long(1),
            ],
            vec![
                Cell::Short(2),
                Cell::Null,
                Cell::Text("b".into()),
                Cell::Boolean(false),
                Cell::Long(-5),
                Cell::Null,
                doubles(&[2.0, 1.0]),
                Cell::Float(0.5),
                Cell::Null,
            ],
            vec![
                Cell::Short(3),
                Cell::Float(-0.25),
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Text("a,b".into()),
                doubles(&[3.0, 1.5]),
                Cell::Float(0.75),
                Cell::Long(3),
            ],
        ];
        assert_eq!(table.rows, expected, "{file}");
    }
}

/// STILTS re-serialising astropy's TABLEDATA document: STIL's own unicodeChar (UTF-16),
/// 2-D arrays, variable-length arrays, null flags and sentinels.
#[test]
fn reads_what_stilts_writes_from_a_votable() {
    let dir = tempfile::tempdir().unwrap();
    write_astropy_documents(dir.path());
    let input = dir.path().join("astropy_tabledata.vot");
    for ofmt in ["votable-tabledata", "votable-binary-inline", "votable-binary2-inline"] {
        let out = dir.path().join(format!("stilts_{ofmt}.vot"));
        run(Command::new("stilts").args([
            "tpipe",
            &format!("in={}", input.display()),
            &format!("out={}", out.display()),
            &format!("ofmt={ofmt}"),
        ]));
        let table = read(&out);
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ASTROPY_NAMES, "{ofmt}");
        assert_eq!(table.columns[6].datatype, Datatype::UnicodeChar, "{ofmt}");
        assert_eq!(table.columns[12].xtype.as_deref(), Some("timestamp"), "{ofmt}");
        // STIL read the empty strings as NULL, and writes them so.
        assert_eq!(table.rows, astropy_rows(Cell::Null), "{ofmt}");
    }
}

/// Read speed, for the record (release build):
/// `cargo test --release --test votable_reader -- --ignored --nocapture read_speed`.
#[test]
#[ignore]
fn read_speed() {
    use dfbs_vo::adql::{ResultColumn, ValueType};
    use dfbs_vo::votable::{DocumentInfo, End, Format, ResultWriter};
    let columns: Vec<ResultColumn> = (0..10).map(|i| ResultColumn::computed(format!("c{i}"), ValueType::Double)).collect();
    let rows = 500_000;
    // BINARY2 first and last: the first read also pays for the process's first large
    // allocations (page faults), later ones reuse the memory.
    for format in [Format::VotableBinary2, Format::VotableBinary, Format::VotableTabledata, Format::VotableBinary2] {
        let mut writer = ResultWriter::new(format, &columns, &DocumentInfo::default());
        let mut document = Vec::new();
        for r in 0..rows {
            let row: Vec<Cell> = (0..10).map(|c| Cell::Double(r as f64 * 0.001 + c as f64)).collect();
            writer.write_row(&row);
            if writer.buffered() > 1 << 20 {
                document.extend(writer.take_chunk());
            }
        }
        document.extend(writer.finish(End::Complete));
        let start = std::time::Instant::now();
        let table = read_table(&document, rows as u64).unwrap();
        let seconds = start.elapsed().as_secs_f64();
        assert_eq!(table.rows.len(), rows);
        eprintln!(
            "{format:?}: {rows} rows x 10 doubles, {:.1} MB, {seconds:.3} s, {:.0} rows/s, {:.0} MB/s",
            document.len() as f64 / 1e6,
            rows as f64 / seconds,
            document.len() as f64 / 1e6 / seconds
        );
    }
}
