//! The one place where text becomes SQL: identifiers and literals are quoted here and
//! nowhere else, so no query text can change the meaning of the SQL around it.

/// A PostgreSQL delimited identifier: double quotes, inner quotes doubled.
pub fn ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A PostgreSQL string literal. With standard_conforming_strings (on by default since
/// PostgreSQL 9.1, and the service sets it for every query) backslashes are ordinary
/// characters, so only the quote needs doubling. NUL cannot be stored in text, so the caller
/// refuses it before we get here.
pub fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(ident("ra"), "\"ra\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("a\\'; DROP TABLE x; --"), "'a\\''; DROP TABLE x; --'");
        assert_eq!(literal("$$"), "'$$'");
    }
}
