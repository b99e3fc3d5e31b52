//! The BINARY and BINARY2 serialisations (VOTable 1.4 sections 5.4 and 5.5): each row as
//! big-endian values, base64-encoded by the caller.
//!
//! BINARY2 starts each row with a null-flag bitmap (one bit per column, most significant
//! bit first); the bytes of a flagged value are still written (NaN, the integer sentinel, an
//! empty count). BINARY has no flags: NULL is NaN for floating point values (every element of
//! a fixed-size array), the VALUES null sentinel of the FIELD for integers, '?' for booleans
//! and an empty string or array for variable-length values.
//!
//! Geometries that are no valid DALI value (see `Geometry::accepts`) are written as NULL.
//!
//! Fixed-size arrays and strings have no count and are padded (NaN, NUL) or cut to their
//! size; variable-length ones start with a 4-byte element count. `char` strings are 7-bit
//! ASCII (a non-ASCII character would become '?', but only timestamps are written as
//! `char`); `unicodeChar` strings are UTF-16 code units (characters beyond the BMP as
//! surrogate pairs, which astropy and STIL decode).

use super::column::{cell_double, cell_float, integer_for, Kind, OutColumn, Shape};
use super::{text, Cell};

/// Appends the bytes of one row to `out`.
pub fn write_row(out: &mut Vec<u8>, columns: &[OutColumn], row: &[Cell], flags: bool, scratch: &mut Vec<u8>) {
    let cells = row.iter().chain(std::iter::repeat(&Cell::Null));
    if flags {
        let bitmap_at = out.len();
        out.resize(bitmap_at + columns.len().div_ceil(8), 0);
        for (i, (column, cell)) in columns.iter().zip(cells).enumerate() {
            if !write_value(out, column.kind, cell, scratch)
                && let Some(byte) = out.get_mut(bitmap_at + i / 8)
            {
                *byte |= 0x80 >> (i % 8);
            }
        }
    } else {
        for (column, cell) in columns.iter().zip(cells) {
            write_value(out, column.kind, cell, scratch);
        }
    }
}

/// Appends one value; false when it is NULL (what was written then stands for NULL).
#[inline]
fn write_value(out: &mut Vec<u8>, kind: Kind, cell: &Cell, scratch: &mut Vec<u8>) -> bool {
    match kind {
        Kind::Double => {
            let v = cell_double(cell);
            out.extend_from_slice(&v.unwrap_or(f64::NAN).to_be_bytes());
            v.is_some()
        }
        Kind::Float => {
            let v = cell_float(cell);
            out.extend_from_slice(&v.unwrap_or(f32::NAN).to_be_bytes());
            v.is_some()
        }
        Kind::Boolean => {
            let v = match *cell {
                Cell::Boolean(b) => Some(b),
                _ => None,
            };
            out.push(match v {
                Some(true) => b'T',
                Some(false) => b'F',
                None => b'?',
            });
            v.is_some()
        }
        Kind::UnsignedByte | Kind::Short | Kind::Int | Kind::Long => {
            let v = integer_for(kind, cell);
            let value = v.or(kind.null_sentinel()).unwrap_or(0);
            match kind {
                Kind::UnsignedByte => out.push(value as u8),
                Kind::Short => out.extend_from_slice(&(value as i16).to_be_bytes()),
                Kind::Int => out.extend_from_slice(&(value as i32).to_be_bytes()),
                _ => out.extend_from_slice(&value.to_be_bytes()),
            }
            v.is_some()
        }
        Kind::FloatArray(shape) => match cell {
            Cell::FloatArray(values) => {
                array(out, shape, values, 4, |out, v| out.extend_from_slice(&v.unwrap_or(f32::NAN).to_be_bytes()));
                true
            }
            Cell::DoubleArray(values) => {
                array(out, shape, values, 4, |out, v| {
                    out.extend_from_slice(&v.map_or(f32::NAN, |v| v as f32).to_be_bytes())
                });
                true
            }
            _ => {
                null_array(out, shape, &f32::NAN.to_be_bytes());
                false
            }
        },
        Kind::Geometry(geometry) => {
            if geometry.accepts_cell(cell) {
                write_value(out, Kind::DoubleArray(geometry.shape()), cell, scratch)
            } else {
                null_array(out, geometry.shape(), &f64::NAN.to_be_bytes());
                false
            }
        }
        Kind::DoubleArray(shape) => match cell {
            Cell::DoubleArray(values) => {
                array(out, shape, values, 8, |out, v| out.extend_from_slice(&v.unwrap_or(f64::NAN).to_be_bytes()));
                true
            }
            Cell::FloatArray(values) => {
                array(out, shape, values, 8, |out, v| {
                    out.extend_from_slice(&v.map_or(f64::NAN, f64::from).to_be_bytes())
                });
                true
            }
            _ => {
                null_array(out, shape, &f64::NAN.to_be_bytes());
                false
            }
        },
        Kind::Ascii(shape) => match text::cell_text(cell, scratch) {
            Some(s) => {
                let s = text::truncate(s, shape.limit(), false);
                let count_at = start_count(out, shape);
                let mut n = 0usize;
                for c in s.chars() {
                    out.push(if c.is_ascii() { c as u8 } else { b'?' });
                    n += 1;
                }
                end_count(out, shape, count_at, n, 1);
                true
            }
            None => {
                null_array(out, shape, &[0]);
                false
            }
        },
        Kind::Unicode(shape) => match text::cell_text(cell, scratch) {
            Some(s) => {
                let s = text::truncate(s, shape.limit(), true);
                let count_at = start_count(out, shape);
                let mut n = 0usize;
                for unit in s.encode_utf16() {
                    out.extend_from_slice(&unit.to_be_bytes());
                    n += 1;
                }
                end_count(out, shape, count_at, n, 2);
                true
            }
            None => {
                null_array(out, shape, &[0, 0]);
                false
            }
        },
    }
}

/// Writes a placeholder count for variable-length values; returns where it is.
#[inline]
fn start_count(out: &mut Vec<u8>, shape: Shape) -> usize {
    let at = out.len();
    if !matches!(shape, Shape::Fixed(_)) {
        out.extend_from_slice(&[0; 4]);
    }
    at
}

/// Fills in the count of a variable-length value, or pads a fixed-size one with zeros.
#[inline]
fn end_count(out: &mut Vec<u8>, shape: Shape, count_at: usize, n: usize, width: usize) {
    match shape {
        Shape::Fixed(size) => out.resize(out.len() + size.saturating_sub(n) * width, 0),
        _ => {
            let count = u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes();
            if let Some(slot) = out.get_mut(count_at..count_at + 4) {
                slot.copy_from_slice(&count);
            }
        }
    }
}

#[inline]
fn array<T>(out: &mut Vec<u8>, shape: Shape, values: &[T], width: usize, push: impl Fn(&mut Vec<u8>, &T)) {
    let n = values.len().min(shape.limit());
    match shape {
        Shape::Fixed(size) => {
            out.reserve(size * width);
            for v in values.iter().take(n) {
                push(out, v);
            }
            // Padding: NaN of the element type.
            let nan: &[u8] = if width == 4 { &[0x7f, 0xc0, 0, 0] } else { &[0x7f, 0xf8, 0, 0, 0, 0, 0, 0] };
            for _ in n..size {
                out.extend_from_slice(nan);
            }
        }
        _ => {
            out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes());
            out.reserve(n * width);
            for v in values.iter().take(n) {
                push(out, v);
            }
        }
    }
}

/// A NULL array or string: every element `element` when fixed-size, else an empty count.
fn null_array(out: &mut Vec<u8>, shape: Shape, element: &[u8]) {
    match shape {
        Shape::Fixed(size) => {
            for _ in 0..size {
                out.extend_from_slice(element);
            }
        }
        _ => out.extend_from_slice(&[0; 4]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adql::{ResultColumn, ValueType};

    fn columns(types: &[ValueType]) -> Vec<OutColumn> {
        let cols: Vec<ResultColumn> =
            types.iter().enumerate().map(|(i, t)| ResultColumn::computed(format!("c{i}"), *t)).collect();
        OutColumn::all(&cols)
    }

    #[test]
    fn binary2_row_bytes() {
        let cols = columns(&[ValueType::Integer, ValueType::Double, ValueType::String, ValueType::Point, ValueType::Boolean]);
        let row = [Cell::Int(258), Cell::Null, Cell::Text("é𝄞".into()), Cell::DoubleArray(vec![Some(1.0), None]), Cell::Boolean(true)];
        let mut out = Vec::new();
        write_row(&mut out, &cols, &row, true, &mut Vec::new());
        // The point with a NULL coordinate is no valid point: NULL.
        let mut expected = vec![0b0101_0000];
        expected.extend_from_slice(&[0, 0, 1, 2]);
        expected.extend_from_slice(&f64::NAN.to_be_bytes());
        expected.extend_from_slice(&[0, 0, 0, 3, 0x00, 0xE9, 0xD8, 0x34, 0xDD, 0x1E]);
        expected.extend_from_slice(&f64::NAN.to_be_bytes());
        expected.extend_from_slice(&f64::NAN.to_be_bytes());
        expected.push(b'T');
        assert_eq!(out, expected);
        out.clear();
        let row = [Cell::Int(-1), Cell::Double(0.5), Cell::Text(String::new()), Cell::DoubleArray(vec![Some(1.0), Some(-2.0)]), Cell::Boolean(false)];
        write_row(&mut out, &cols, &row, true, &mut Vec::new());
        let mut expected = vec![0, 0xff, 0xff, 0xff, 0xff];
        expected.extend_from_slice(&0.5f64.to_be_bytes());
        expected.extend_from_slice(&[0, 0, 0, 0]);
        expected.extend_from_slice(&1.0f64.to_be_bytes());
        expected.extend_from_slice(&(-2.0f64).to_be_bytes());
        expected.push(b'F');
        assert_eq!(out, expected);
    }

    #[test]
    fn binary_nulls_use_sentinels_and_nan() {
        let cols = columns(&[ValueType::SmallInt, ValueType::Integer, ValueType::BigInt, ValueType::Real, ValueType::Circle, ValueType::Polygon, ValueType::String, ValueType::Boolean]);
        let row = vec![Cell::Null; 8];
        let mut out = Vec::new();
        write_row(&mut out, &cols, &row, false, &mut Vec::new());
        let mut expected = vec![0x80, 0x00, 0x80, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0];
        expected.extend_from_slice(&f32::NAN.to_be_bytes());
        for _ in 0..3 {
            expected.extend_from_slice(&f64::NAN.to_be_bytes());
        }
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, b'?']);
        assert_eq!(out, expected);
    }

    #[test]
    fn bitmap_spans_several_bytes() {
        let cols = columns(&[ValueType::SmallInt; 10]);
        let mut row = vec![Cell::Short(1); 10];
        row[0] = Cell::Null;
        row[8] = Cell::Null;
        row[9] = Cell::Null;
        let mut out = Vec::new();
        write_row(&mut out, &cols, &row, true, &mut Vec::new());
        assert_eq!(&out[..2], &[0b1000_0000, 0b1100_0000]);
        assert_eq!(out.len(), 2 + 20);
    }

    #[test]
    fn fixed_arrays_are_padded_and_cut() {
        let cols = columns(&[ValueType::Point]);
        let mut out = Vec::new();
        write_row(&mut out, &cols, &[Cell::DoubleArray(vec![Some(1.0), Some(2.0), Some(3.0)])], false, &mut Vec::new());
        assert_eq!(out.len(), 16);
        out.clear();
        write_row(&mut out, &cols, &[Cell::DoubleArray(vec![])], false, &mut Vec::new());
        assert_eq!(out.len(), 16);
    }
}
