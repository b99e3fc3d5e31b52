//! The TABLEDATA serialisation (VOTable 1.4 section 5.1): one TR per row, one TD per cell.
//!
//! NULL is an empty TD for every column except fixed-size arrays, where an empty cell is
//! not a valid value (votlint: "wrong number of elements"); those get NaN in every element,
//! which readers take as null. The same holds for polygons: votlint parses an empty polygon
//! cell as a bad number, so a NULL polygon is six NaN (three NaN vertices), the smallest
//! polygon votlint accepts; astropy reads it as a fully masked array. Geometries that are no
//! valid DALI value are written as NULL. Strings and arrays are cut to their declared
//! arraysize, and fixed-size arrays are padded with NaN, so every cell matches its FIELD.

use super::column::{cell_double, cell_float, integer_for, Kind, OutColumn, Shape};
use super::{number, text, Cell};

pub fn write_row(out: &mut Vec<u8>, columns: &[OutColumn], row: &[Cell], scratch: &mut Vec<u8>) {
    out.extend_from_slice(b"<TR>");
    for (column, cell) in columns.iter().zip(row.iter().chain(std::iter::repeat(&Cell::Null))) {
        write_cell(out, column.kind, cell, scratch);
    }
    out.extend_from_slice(b"</TR>\n");
}

fn write_cell(out: &mut Vec<u8>, kind: Kind, cell: &Cell, scratch: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(b"<TD>");
    let content = out.len();
    match kind {
        Kind::Boolean => {
            if let Cell::Boolean(b) = *cell {
                out.push(if b { b'T' } else { b'F' });
            }
        }
        Kind::UnsignedByte | Kind::Short | Kind::Int | Kind::Long => {
            if let Some(v) = integer_for(kind, cell) {
                number::push_int(out, v);
            }
        }
        Kind::Float => {
            if let Some(v) = cell_float(cell) {
                number::push_f32(out, v);
            }
        }
        Kind::Double => {
            if let Some(v) = cell_double(cell) {
                number::push_f64(out, v);
            }
        }
        Kind::FloatArray(shape) => match cell {
            Cell::FloatArray(values) => array(out, shape, values, |out, v: &Option<f32>| number::push_f32(out, v.unwrap_or(f32::NAN))),
            Cell::DoubleArray(values) => {
                array(out, shape, values, |out, v: &Option<f64>| number::push_f32(out, v.map_or(f32::NAN, |v| v as f32)))
            }
            _ => null_array(out, shape),
        },
        Kind::DoubleArray(shape) => double_array(out, shape, cell),
        Kind::Geometry(geometry) => {
            if geometry.accepts_cell(cell) {
                double_array(out, geometry.shape(), cell);
            } else {
                match geometry.shape() {
                    Shape::Fixed(n) => null_array(out, Shape::Fixed(n)),
                    shape if shape.limit() >= 6 => out.extend_from_slice(b"NaN NaN NaN NaN NaN NaN"),
                    _ => {}
                }
            }
        }
        Kind::Ascii(shape) | Kind::Unicode(shape) => {
            if let Some(s) = text::cell_text(cell, scratch) {
                let s = text::truncate(s, shape.limit(), matches!(kind, Kind::Unicode(_)));
                crate::xml::append_text(out, s);
            }
        }
    }
    if out.len() == content {
        out.truncate(start);
        out.extend_from_slice(b"<TD/>");
    } else {
        out.extend_from_slice(b"</TD>");
    }
}

fn double_array(out: &mut Vec<u8>, shape: Shape, cell: &Cell) {
    match cell {
        Cell::DoubleArray(values) => array(out, shape, values, |out, v: &Option<f64>| number::push_f64(out, v.unwrap_or(f64::NAN))),
        Cell::FloatArray(values) => {
            array(out, shape, values, |out, v: &Option<f32>| number::push_f64(out, v.map_or(f64::NAN, f64::from)))
        }
        _ => null_array(out, shape),
    }
}

fn array<T>(out: &mut Vec<u8>, shape: Shape, values: &[T], push: impl Fn(&mut Vec<u8>, &T)) {
    let n = values.len().min(shape.limit());
    for (i, v) in values.iter().take(n).enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        push(out, v);
    }
    if let Shape::Fixed(size) = shape {
        for i in n..size {
            if i > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(b"NaN");
        }
    }
}

fn null_array(out: &mut Vec<u8>, shape: Shape) {
    array::<f64>(out, shape, &[], |_, _| {});
}
