//! Strings of string columns: the text of a cell, and cutting it to a declared arraysize.

use super::{number, Cell};

/// The text a cell puts into a string column: the string itself, a timestamp in ISO 8601,
/// anything else in its TABLEDATA form (formatted into `scratch`); None for NULL.
pub fn cell_text<'a>(cell: &'a Cell, scratch: &'a mut Vec<u8>) -> Option<&'a str> {
    if let Cell::Text(s) = cell {
        return Some(s);
    }
    scratch.clear();
    match cell {
        Cell::Null | Cell::Text(_) => return None,
        Cell::Timestamp(t) => number::push_timestamp(scratch, t),
        Cell::Boolean(b) => scratch.push(if *b { b'T' } else { b'F' }),
        Cell::Short(v) => number::push_int(scratch, i64::from(*v)),
        Cell::Int(v) => number::push_int(scratch, i64::from(*v)),
        Cell::Long(v) => number::push_int(scratch, *v),
        Cell::Float(v) => number::push_f32(scratch, *v),
        Cell::Double(v) => number::push_f64(scratch, *v),
        Cell::FloatArray(values) => join(scratch, values, |out, v| number::push_f32(out, v.unwrap_or(f32::NAN))),
        Cell::DoubleArray(values) => join(scratch, values, |out, v| number::push_f64(out, v.unwrap_or(f64::NAN))),
    }
    std::str::from_utf8(scratch).ok()
}

fn join<T>(out: &mut Vec<u8>, values: &[T], push: impl Fn(&mut Vec<u8>, &T)) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        push(out, v);
    }
}

/// The longest prefix of `s` within `limit` characters: UTF-16 code units for
/// `unicodeChar` (`utf16`), characters for `char` (where each is written as one byte).
/// A surrogate pair is never split.
pub fn truncate(s: &str, limit: usize, utf16: bool) -> &str {
    if limit == usize::MAX || s.len() <= limit {
        // Every character takes at least one byte, so no more than len() units.
        return s;
    }
    let mut units = 0;
    for (at, c) in s.char_indices() {
        units += if utf16 { c.len_utf16() } else { 1 };
        if units > limit {
            return s.get(..at).unwrap_or(s);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_the_declared_units() {
        assert_eq!(truncate("abcdef", 3, true), "abc");
        assert_eq!(truncate("ab", 3, true), "ab");
        assert_eq!(truncate("éèà€x", 3, false), "éèà");
        assert_eq!(truncate("a𝄞b", 2, true), "a");
        assert_eq!(truncate("a𝄞b", 3, true), "a𝄞");
        assert_eq!(truncate("a𝄞b", 2, false), "a𝄞");
        assert_eq!(truncate("anything", usize::MAX, true), "anything");
    }

    #[test]
    fn cells_as_text() {
        let mut scratch = Vec::new();
        assert_eq!(cell_text(&Cell::Text("x".into()), &mut scratch), Some("x"));
        assert_eq!(cell_text(&Cell::Null, &mut scratch), None);
        assert_eq!(cell_text(&Cell::Int(-3), &mut scratch), Some("-3"));
        assert_eq!(cell_text(&Cell::DoubleArray(vec![Some(1.5), None]), &mut scratch), Some("1.5 NaN"));
    }
}
