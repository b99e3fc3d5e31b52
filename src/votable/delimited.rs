//! CSV (RFC 4180) and TSV (text/tab-separated-values) rows.
//!
//! Both start with a header line of column names. NULL is an empty field; booleans are
//! `true`/`false`; numbers as in TABLEDATA (shortest round-trip form, `NaN`, `+Inf`, `-Inf`);
//! timestamps ISO 8601; arrays space-separated in one field (a NULL element as `NaN`).
//!
//! CSV lines end with CRLF (RFC 4180); a field is quoted when it contains a comma, quote,
//! CR or LF, starts or ends with a space or tab, or is an empty (non-NULL) string, which
//! keeps it apart from NULL; quotes inside are doubled.
//!
//! TSV lines end with LF; in values and names, backslash, tab, LF and CR are written as
//! `\\`, `\t`, `\n` and `\r`, so that every line is one row.

use super::{number, Cell};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Csv,
    Tsv,
}

impl Dialect {
    fn separator(self) -> u8 {
        match self {
            Dialect::Csv => b',',
            Dialect::Tsv => b'\t',
        }
    }

    fn line_end(self) -> &'static [u8] {
        match self {
            Dialect::Csv => b"\r\n",
            Dialect::Tsv => b"\n",
        }
    }
}

pub fn write_header<'a>(out: &mut Vec<u8>, dialect: Dialect, names: impl Iterator<Item = &'a str>) {
    for (i, name) in names.enumerate() {
        if i > 0 {
            out.push(dialect.separator());
        }
        push_text(out, dialect, name);
    }
    out.extend_from_slice(dialect.line_end());
}

pub fn write_row(out: &mut Vec<u8>, dialect: Dialect, columns: usize, row: &[Cell]) {
    for (i, cell) in row.iter().chain(std::iter::repeat(&Cell::Null)).take(columns).enumerate() {
        if i > 0 {
            out.push(dialect.separator());
        }
        push_cell(out, dialect, cell);
    }
    out.extend_from_slice(dialect.line_end());
}

fn push_cell(out: &mut Vec<u8>, dialect: Dialect, cell: &Cell) {
    match cell {
        Cell::Null => {}
        Cell::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Cell::Short(v) => number::push_int(out, i64::from(*v)),
        Cell::Int(v) => number::push_int(out, i64::from(*v)),
        Cell::Long(v) => number::push_int(out, *v),
        Cell::Float(v) => number::push_f32(out, *v),
        Cell::Double(v) => number::push_f64(out, *v),
        Cell::Text(s) => push_text(out, dialect, s),
        Cell::Timestamp(t) => number::push_timestamp(out, t),
        Cell::FloatArray(values) => {
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                number::push_f32(out, v.unwrap_or(f32::NAN));
            }
        }
        Cell::DoubleArray(values) => {
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                number::push_f64(out, v.unwrap_or(f64::NAN));
            }
        }
    }
}

fn push_text(out: &mut Vec<u8>, dialect: Dialect, s: &str) {
    match dialect {
        Dialect::Csv => {
            let needs_quotes = s.is_empty()
                || s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
                || s.starts_with([' ', '\t'])
                || s.ends_with([' ', '\t']);
            if !needs_quotes {
                out.extend_from_slice(s.as_bytes());
                return;
            }
            out.push(b'"');
            for part in s.split_inclusive('"') {
                out.extend_from_slice(part.as_bytes());
                if part.ends_with('"') {
                    out.push(b'"');
                }
            }
            out.push(b'"');
        }
        Dialect::Tsv => {
            let bytes = s.as_bytes();
            let mut start = 0;
            for (i, &b) in bytes.iter().enumerate() {
                let escaped: &[u8] = match b {
                    b'\\' => b"\\\\",
                    b'\t' => b"\\t",
                    b'\n' => b"\\n",
                    b'\r' => b"\\r",
                    _ => continue,
                };
                out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
                out.extend_from_slice(escaped);
                start = i + 1;
            }
            out.extend_from_slice(bytes.get(start..).unwrap_or_default());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(dialect: Dialect, cells: &[Cell]) -> String {
        let mut out = Vec::new();
        write_row(&mut out, dialect, cells.len(), cells);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_quoting() {
        let cells = [
            Cell::Text("plain".into()),
            Cell::Text("a,b".into()),
            Cell::Text("say \"hi\"".into()),
            Cell::Text("two\nlines".into()),
            Cell::Text(String::new()),
            Cell::Null,
            Cell::Text(" padded".into()),
            Cell::Text("é".into()),
        ];
        assert_eq!(row(Dialect::Csv, &cells), "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"\",,\" padded\",é\r\n");
    }

    #[test]
    fn csv_values() {
        let cells = [
            Cell::Boolean(true),
            Cell::Short(-2),
            Cell::Double(0.1),
            Cell::Float(f32::NAN),
            Cell::DoubleArray(vec![Some(1.0), None, Some(-2.5)]),
            Cell::Double(f64::NEG_INFINITY),
        ];
        assert_eq!(row(Dialect::Csv, &cells), "true,-2,0.1,NaN,1 NaN -2.5,-Inf\r\n");
    }

    #[test]
    fn tsv_escapes() {
        let cells = [Cell::Text("a\tb\\c\nd\re".into()), Cell::Null, Cell::Int(7)];
        assert_eq!(row(Dialect::Tsv, &cells), "a\\tb\\\\c\\nd\\re\t\t7\n");
        let mut out = Vec::new();
        write_header(&mut out, Dialect::Csv, ["a", "b,c"].into_iter());
        assert_eq!(out, b"a,\"b,c\"\r\n");
    }
}
