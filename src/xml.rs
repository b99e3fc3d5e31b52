//! The one escaping routine for XML text and attribute values, used by every document the
//! service writes: appended straight into an output buffer (no allocation per value, for the
//! streaming writers), or as a string ([`escape`]) for documents built with `format!`.
//!
//! The characters XML 1.0 cannot carry (control characters other than tab, newline and
//! carriage return; U+FFFE and U+FFFF) are dropped. Carriage returns are written as `&#13;`
//! (a parser would turn a literal CR or CRLF into LF), and in attribute values tab, newline
//! and CR are written as character references (attribute-value normalisation would turn them
//! into spaces), so text comes back exactly.

use std::borrow::Cow;

/// Escapes `text` for element content or a (double- or single-quoted) attribute value.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.bytes().any(special_attr) {
        return Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len() + 16);
    append_attr(&mut out, text);
    // Only whole characters are ever dropped or replaced by ASCII: still UTF-8.
    Cow::Owned(String::from_utf8(out).unwrap_or_default())
}

/// Whether this byte needs attention in text content. Bytes of multi-byte UTF-8 sequences
/// are >= 0x80; U+FFFE and U+FFFF start with 0xEF.
#[inline]
fn special_text(b: u8) -> bool {
    matches!(b, b'&' | b'<' | b'>' | b'\r' | 0xEF) || (b < 0x20 && b != b'\t' && b != b'\n')
}

#[inline]
fn special_attr(b: u8) -> bool {
    matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | 0xEF) || b < 0x20
}

/// Appends `text` escaped for element content.
pub fn append_text(out: &mut Vec<u8>, text: &str) {
    append(out, text, special_text);
}

/// Appends `text` escaped for an attribute value in double quotes.
pub fn append_attr(out: &mut Vec<u8>, text: &str) {
    append(out, text, special_attr);
}

fn append(out: &mut Vec<u8>, text: &str, special: fn(u8) -> bool) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !special(b) {
            i += 1;
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        let mut skip = 1;
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\'' => out.extend_from_slice(b"&apos;"),
            b'\t' => out.extend_from_slice(b"&#9;"),
            b'\n' => out.extend_from_slice(b"&#10;"),
            b'\r' => out.extend_from_slice(b"&#13;"),
            0xEF => {
                // U+FFFE is EF BF BE, U+FFFF is EF BF BF: drop those, keep the rest.
                let rest = &bytes[i..];
                if rest.len() >= 3 && rest[1] == 0xBF && (rest[2] == 0xBE || rest[2] == 0xBF) {
                    skip = 3;
                } else {
                    out.push(b);
                }
            }
            _ => {} // a forbidden control character: dropped
        }
        i += skip;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::escape;

    fn text(s: &str) -> String {
        let mut out = Vec::new();
        super::append_text(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    fn attr(s: &str) -> String {
        let mut out = Vec::new();
        super::append_attr(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(text("a<b & c>d \"q\" 'a'"), "a&lt;b &amp; c&gt;d \"q\" 'a'");
        assert_eq!(attr("a<b & \"q\""), "a&lt;b &amp; &quot;q&quot;");
        assert_eq!(attr("'a'"), "&apos;a&apos;");
        assert_eq!(text("]]>"), "]]&gt;");
    }

    #[test]
    fn whitespace_survives_parsing() {
        assert_eq!(text("a\tb\nc\r\nd"), "a\tb\nc&#13;\nd");
        assert_eq!(attr("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
    }

    #[test]
    fn forbidden_characters_are_dropped_and_unicode_kept() {
        assert_eq!(text("a\u{0}b\u{1b}c\u{FFFE}d\u{FFFF}e"), "abcde");
        assert_eq!(text("Ærø ☃ 𝄞 \u{FFFD} \u{EFFF}"), "Ærø ☃ 𝄞 \u{FFFD} \u{EFFF}");
        assert_eq!(attr("\u{7}x"), "x");
        assert_eq!(text("plain"), "plain");
    }

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(escape("a<b & 'c'\u{1}"), "a&lt;b &amp; &apos;c&apos;");
        assert!(matches!(escape("plain"), std::borrow::Cow::Borrowed(_)));
    }
}
