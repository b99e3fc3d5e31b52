//! Text forms of values, appended to a byte buffer without allocating: integers, floating
//! point numbers (shortest form that reads back to the same value; NaN and infinities as
//! VOTable writes them), booleans and ISO 8601 timestamps (DALI 1.1 section 3.3.3).

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDateTime, Timelike};

/// Appends the decimal form of `value`.
pub fn push_int(out: &mut Vec<u8>, value: i64) {
    let mut digits = [0u8; 20];
    let mut n = value.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if value < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

/// `fmt::Write` into a byte buffer, for the float forms that the standard library computes.
struct Bytes<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Appends a double: the shortest decimal form that parses back to the same value
/// (positional for magnitudes from 1e-5 to 1e16, exponential outside), `NaN`, `+Inf`, `-Inf`.
pub fn push_f64(out: &mut Vec<u8>, value: f64) {
    if !value.is_finite() {
        push_non_finite(out, value.is_nan(), value > 0.0);
        return;
    }
    let magnitude = value.abs();
    // Writing into a Vec cannot fail.
    let _ = if magnitude != 0.0 && !(1e-5..1e16).contains(&magnitude) {
        write!(Bytes(out), "{value:e}")
    } else {
        write!(Bytes(out), "{value}")
    };
}

/// Appends a float (single precision), in the same way as [`push_f64`].
pub fn push_f32(out: &mut Vec<u8>, value: f32) {
    if !value.is_finite() {
        push_non_finite(out, value.is_nan(), value > 0.0);
        return;
    }
    let magnitude = value.abs();
    let _ = if magnitude != 0.0 && !(1e-5..1e16).contains(&magnitude) {
        write!(Bytes(out), "{value:e}")
    } else {
        write!(Bytes(out), "{value}")
    };
}

fn push_non_finite(out: &mut Vec<u8>, nan: bool, positive: bool) {
    out.extend_from_slice(match (nan, positive) {
        (true, _) => b"NaN",
        (false, true) => b"+Inf",
        (false, false) => b"-Inf",
    });
}

fn push_padded(out: &mut Vec<u8>, value: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let mut n = value;
    let mut at = digits.len();
    while n > 0 {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let len = (digits.len() - at).max(width).min(digits.len());
    out.extend_from_slice(&digits[digits.len() - len..]);
}

/// Appends `YYYY-MM-DDThh:mm:ss[.fff]` (fraction only when non-zero, without trailing zeros).
/// Years outside 0..=9999 get a sign and at least four digits (ISO 8601 expanded years).
pub fn push_timestamp(out: &mut Vec<u8>, value: &NaiveDateTime) {
    let year = value.year();
    if !(0..=9999).contains(&year) {
        out.push(if year < 0 { b'-' } else { b'+' });
    }
    push_padded(out, year.unsigned_abs(), 4);
    out.push(b'-');
    push_padded(out, value.month(), 2);
    out.push(b'-');
    push_padded(out, value.day(), 2);
    out.push(b'T');
    push_padded(out, value.hour(), 2);
    out.push(b':');
    push_padded(out, value.minute(), 2);
    out.push(b':');
    // chrono represents a leap second as second 59 with nanoseconds >= 1e9.
    let mut nanos = value.nanosecond();
    let mut second = value.second();
    if nanos >= 1_000_000_000 {
        nanos -= 1_000_000_000;
        second += 1;
    }
    push_padded(out, second, 2);
    if nanos > 0 {
        let mut digits = 9;
        while nanos.is_multiple_of(10) {
            nanos /= 10;
            digits -= 1;
        }
        out.push(b'.');
        push_padded(out, nanos, digits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn integers() {
        for v in [0i64, 1, -1, 9, 10, 42, -32768, i64::MAX, i64::MIN, 1234567890123] {
            assert_eq!(text(|o| push_int(o, v)), v.to_string());
        }
    }

    #[test]
    fn doubles_round_trip() {
        for v in [0.0, -0.0, 1.0, 0.1, 1.0 / 3.0, 123.456, 1e-5, 9.99e-6, 1e16, 9.9e15, 1e300, -2.5e-300, f64::MAX, f64::MIN_POSITIVE, 5e-324] {
            let s = text(|o| push_f64(o, v));
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{s}");
            assert!(s.len() < 26, "{s}");
        }
        assert_eq!(text(|o| push_f64(o, 0.1)), "0.1");
        assert_eq!(text(|o| push_f64(o, 1e300)), "1e300");
        assert_eq!(text(|o| push_f64(o, 2.0)), "2");
        assert_eq!(text(|o| push_f64(o, f64::NAN)), "NaN");
        assert_eq!(text(|o| push_f64(o, f64::INFINITY)), "+Inf");
        assert_eq!(text(|o| push_f64(o, f64::NEG_INFINITY)), "-Inf");
    }

    #[test]
    fn floats_round_trip() {
        for v in [0.0f32, 0.1, 1.0 / 3.0, 3.4e38, 1e-45, f32::MIN_POSITIVE, 65504.0, -7.25] {
            let s = text(|o| push_f32(o, v));
            assert_eq!(s.parse::<f32>().unwrap().to_bits(), v.to_bits(), "{s}");
        }
        assert_eq!(text(|o| push_f32(o, 0.1)), "0.1");
        assert_eq!(text(|o| push_f32(o, f32::NAN)), "NaN");
    }

    #[test]
    fn timestamps() {
        let date = NaiveDate::from_ymd_opt(2021, 3, 4).unwrap();
        let ts = |h, m, s, n| text(|o| push_timestamp(o, &date.and_hms_nano_opt(h, m, s, n).unwrap()));
        assert_eq!(ts(5, 6, 7, 0), "2021-03-04T05:06:07");
        assert_eq!(ts(5, 6, 7, 120_000_000), "2021-03-04T05:06:07.12");
        assert_eq!(ts(23, 59, 59, 123_456_000), "2021-03-04T23:59:59.123456");
        assert_eq!(ts(23, 59, 59, 1_000_000_000), "2021-03-04T23:59:60");
        let old = NaiveDate::from_ymd_opt(33, 1, 2).unwrap().and_hms_opt(0, 0, 0).unwrap();
        assert_eq!(text(|o| push_timestamp(o, &old)), "0033-01-02T00:00:00");
        let bc = NaiveDate::from_ymd_opt(-44, 3, 15).unwrap().and_hms_opt(12, 0, 0).unwrap();
        assert_eq!(text(|o| push_timestamp(o, &bc)), "-0044-03-15T12:00:00");
        let far = NaiveDate::from_ymd_opt(12345, 6, 7).unwrap().and_hms_opt(8, 9, 10).unwrap();
        assert_eq!(text(|o| push_timestamp(o, &far)), "+12345-06-07T08:09:10");
    }
}
