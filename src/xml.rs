//! The one escaping routine for XML text and attribute values.

use std::borrow::Cow;

/// Escapes `&`, `<`, `>`, `"` and `'`, and drops the characters XML 1.0 forbids
/// (control characters other than tab, newline and carriage return).
pub fn escape(text: &str) -> Cow<'_, str> {
    let needs = text.chars().any(|c| matches!(c, '&' | '<' | '>' | '"' | '\'') || forbidden(c));
    if !needs {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if forbidden(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn forbidden(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(escape("a<b & 'c'\u{1}"), "a&lt;b &amp; &apos;c&apos;");
        assert!(matches!(escape("plain"), std::borrow::Cow::Borrowed(_)));
    }
}
