//! Lexer for ADQL (ADQL 2.1 §2.1 "Characters, keywords, identifiers and
//! literals", §2.1.9 whitespace and comments as in SQL-92).
//!
//! Produces every token with its position. The lexer is version-independent;
//! version-specific rules (e.g. hexadecimal literals, new in ADQL 2.1
//! §2.1.8) are enforced by the parser so that errors can name the feature.

use super::error::ParseError;

/// Position of a token or AST node in the query text.
///
/// `start`/`end` are byte offsets (end exclusive); `line` and `column` are
/// 1-based and refer to `start` (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub line: u32,
    pub column: u32,
}

/// The kind of an unsigned numeric literal (§2.1.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberKind {
    /// `<unsigned_decimal>`: digits only, e.g. `42`.
    Integer,
    /// `<exact_numeric_literal>` with a period, e.g. `1.5`, `.5`, `5.`.
    Decimal,
    /// `<approximate_numeric_literal>`, e.g. `1.5E-3`.
    Float,
    /// `<unsigned_hexadecimal>` (ADQL 2.1), e.g. `0x2F`.
    Hex,
}

/// A lexical token.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// A regular identifier or keyword, exactly as written.
    Word(String),
    /// A delimited identifier `"..."`; the content with `""` unescaped.
    Delimited(String),
    /// A character string literal `'...'`; content with `''` unescaped and
    /// newline-separated adjacent literals concatenated (SQL-92 §5.3).
    String(String),
    /// An unsigned numeric literal, as written.
    Number(String, NumberKind),
    LParen,
    RParen,
    Comma,
    Dot,
    Star,
    Plus,
    Minus,
    Slash,
    /// `||`
    Concat,
    Eq,
    /// `<>` or `!=`
    NotEq,
    Lt,
    Gt,
    LtEq,
    GtEq,
    /// `&` (bitwise and, ADQL 2.1 optional "Bitwise operators")
    Amp,
    /// `|` (bitwise or)
    Pipe,
    /// `^` (bitwise xor)
    Caret,
    /// `~` (bitwise not)
    Tilde,
    Semicolon,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl TokenKind {
    /// How the token is named in error messages.
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Word(w) => format!("'{w}'"),
            TokenKind::Delimited(w) => format!("\"{}\"", w.replace('"', "\"\"")),
            TokenKind::String(s) => {
                let short: String = s.chars().take(30).collect();
                if short.len() < s.len() {
                    format!("string '{short}...'")
                } else {
                    format!("string '{short}'")
                }
            }
            TokenKind::Number(n, _) => format!("number {n}"),
            TokenKind::Eof => "end of query".to_string(),
            other => format!("'{}'", other.symbol()),
        }
    }

    /// The text of a punctuation token.
    pub fn symbol(&self) -> &'static str {
        match self {
            TokenKind::LParen => "(",
            TokenKind::RParen => ")",
            TokenKind::Comma => ",",
            TokenKind::Dot => ".",
            TokenKind::Star => "*",
            TokenKind::Plus => "+",
            TokenKind::Minus => "-",
            TokenKind::Slash => "/",
            TokenKind::Concat => "||",
            TokenKind::Eq => "=",
            TokenKind::NotEq => "<>",
            TokenKind::Lt => "<",
            TokenKind::Gt => ">",
            TokenKind::LtEq => "<=",
            TokenKind::GtEq => ">=",
            TokenKind::Amp => "&",
            TokenKind::Pipe => "|",
            TokenKind::Caret => "^",
            TokenKind::Tilde => "~",
            TokenKind::Semicolon => ";",
            _ => "",
        }
    }
}

struct Lexer<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    i: usize,
    line: u32,
    column: u32,
}

/// Splits an ADQL query into tokens; the last token is always `Eof`.
pub fn tokenize(src: &str) -> Result<Vec<Token>, ParseError> {
    let mut lx = Lexer {
        src,
        chars: src.char_indices().collect(),
        i: 0,
        line: 1,
        column: 1,
    };
    let mut out = Vec::new();
    loop {
        lx.skip_separators()?;
        let start = lx.here();
        let Some(c) = lx.peek(0) else {
            out.push(Token {
                kind: TokenKind::Eof,
                span: start,
            });
            return Ok(out);
        };
        let kind = lx.token(c, start)?;
        let span = Span {
            end: lx.offset(),
            ..start
        };
        out.push(Token { kind, span });
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{0c}')
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).map(|&(_, c)| c)
    }

    fn offset(&self) -> usize {
        self.chars.get(self.i).map_or(self.src.len(), |&(o, _)| o)
    }

    fn here(&self) -> Span {
        let o = self.offset();
        Span {
            start: o,
            end: o,
            line: self.line,
            column: self.column,
        }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek(0)?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    /// Skips whitespace and `--` comments (§2.1.9, SQL-92 `<separator>`).
    /// Returns whether a newline was crossed.
    fn skip_separators(&mut self) -> Result<bool, ParseError> {
        let mut newline = false;
        loop {
            match self.peek(0) {
                Some(c) if is_space(c) => {
                    newline |= c == '\n';
                    self.bump();
                }
                Some('-') if self.peek(1) == Some('-') => {
                    while let Some(c) = self.peek(0) {
                        if c == '\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                Some('/') if self.peek(1) == Some('*') => {
                    return Err(ParseError::new(
                        "block comments ('/* ... */') are not part of ADQL",
                        self.here(),
                    )
                    .with_hint("use '--' comments, which run to the end of the line"));
                }
                _ => return Ok(newline),
            }
        }
    }

    fn token(&mut self, c: char, start: Span) -> Result<TokenKind, ParseError> {
        let simple = |lx: &mut Self, n: usize, k: TokenKind| {
            for _ in 0..n {
                lx.bump();
            }
            Ok(k)
        };
        match c {
            'a'..='z' | 'A'..='Z' => {
                let mut w = String::new();
                while let Some(c) = self.peek(0) {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        w.push(c);
                        self.bump();
                    } else {
                        break;
                    }
                }
                Ok(TokenKind::Word(w))
            }
            '0'..='9' => self.number(start),
            '.' if self.peek(1).is_some_and(|c| c.is_ascii_digit()) => self.number(start),
            '"' => self.delimited(start),
            '\'' => self.string(),
            '(' => simple(self, 1, TokenKind::LParen),
            ')' => simple(self, 1, TokenKind::RParen),
            ',' => simple(self, 1, TokenKind::Comma),
            '.' => simple(self, 1, TokenKind::Dot),
            '*' => simple(self, 1, TokenKind::Star),
            '+' => simple(self, 1, TokenKind::Plus),
            '-' => simple(self, 1, TokenKind::Minus),
            '/' => simple(self, 1, TokenKind::Slash),
            '&' => simple(self, 1, TokenKind::Amp),
            '^' => simple(self, 1, TokenKind::Caret),
            '~' => simple(self, 1, TokenKind::Tilde),
            ';' => simple(self, 1, TokenKind::Semicolon),
            '|' if self.peek(1) == Some('|') => simple(self, 2, TokenKind::Concat),
            '|' => simple(self, 1, TokenKind::Pipe),
            '=' if self.peek(1) == Some('=') => Err(ParseError::new(
                "'==' is not an ADQL operator",
                start,
            )
            .with_hint("use '=' to compare values")),
            '=' => simple(self, 1, TokenKind::Eq),
            '<' if self.peek(1) == Some('>') => simple(self, 2, TokenKind::NotEq),
            '<' if self.peek(1) == Some('=') => simple(self, 2, TokenKind::LtEq),
            '<' => simple(self, 1, TokenKind::Lt),
            '>' if self.peek(1) == Some('=') => simple(self, 2, TokenKind::GtEq),
            '>' => simple(self, 1, TokenKind::Gt),
            '!' if self.peek(1) == Some('=') => simple(self, 2, TokenKind::NotEq),
            '!' => Err(ParseError::new("unexpected character '!'", start)
                .with_hint("ADQL has no '!' operator; use NOT or '!=' / '<>'")),
            '`' => Err(ParseError::new("unexpected character '`'", start)
                .with_hint("quote identifiers with double quotes, e.g. \"my column\"")),
            '[' | ']' => Err(ParseError::new(format!("unexpected character '{c}'"), start)
                .with_hint("quote identifiers with double quotes, e.g. \"my column\"")),
            '%' => Err(ParseError::new("unexpected character '%'", start)
                .with_hint("ADQL has no '%' operator; use MOD(x, y)")),
            '_' => Err(ParseError::new("unexpected character '_'", start)
                .with_hint("regular identifiers must start with a letter; quote other names, e.g. \"_name\"")),
            _ => Err(ParseError::new(format!("unexpected character '{c}'"), start)),
        }
    }

    fn digits(&mut self, out: &mut String) -> usize {
        let mut n = 0;
        while let Some(c) = self.peek(0).filter(char::is_ascii_digit) {
            out.push(c);
            self.bump();
            n += 1;
        }
        n
    }

    /// `<unsigned_numeric_literal>` (§2.1.8): exact, approximate or hex.
    fn number(&mut self, start: Span) -> Result<TokenKind, ParseError> {
        let mut text = String::new();
        if self.peek(0) == Some('0') && matches!(self.peek(1), Some('x' | 'X')) {
            text.push('0');
            self.bump();
            if let Some(x) = self.bump() {
                text.push(x);
            }
            let mut n = 0;
            while let Some(c) = self.peek(0).filter(char::is_ascii_hexdigit) {
                text.push(c);
                self.bump();
                n += 1;
            }
            if n == 0
                || self
                    .peek(0)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(ParseError::new(
                    "malformed hexadecimal literal",
                    start,
                )
                .with_hint("write hexadecimal literals as 0x followed by the digits 0-9, a-f, e.g. 0x2F"));
            }
            return Ok(TokenKind::Number(text, NumberKind::Hex));
        }
        let mut kind = NumberKind::Integer;
        self.digits(&mut text);
        if self.peek(0) == Some('.') {
            text.push('.');
            self.bump();
            kind = NumberKind::Decimal;
            self.digits(&mut text);
        }
        if matches!(self.peek(0), Some('e' | 'E')) {
            let signed = matches!(self.peek(1), Some('+' | '-'));
            let d = if signed { self.peek(2) } else { self.peek(1) };
            if d.is_some_and(|c| c.is_ascii_digit()) {
                for _ in 0..if signed { 2 } else { 1 } {
                    if let Some(c) = self.bump() {
                        text.push(c);
                    }
                }
                self.digits(&mut text);
                kind = NumberKind::Float;
            }
        }
        Ok(TokenKind::Number(text, kind))
    }

    /// `<delimited_identifier>` (§2.1.6): `"..."` with `""` for a quote.
    fn delimited(&mut self, start: Span) -> Result<TokenKind, ParseError> {
        self.bump();
        let mut s = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(ParseError::new(
                        "unterminated delimited identifier: missing closing '\"'",
                        start,
                    ));
                }
                Some('"') if self.peek(0) == Some('"') => {
                    self.bump();
                    s.push('"');
                }
                Some('"') => break,
                Some(c) => s.push(c),
            }
        }
        if s.is_empty() {
            return Err(ParseError::new("empty delimited identifier \"\"", start)
                .with_hint("a quoted identifier needs at least one character"));
        }
        Ok(TokenKind::Delimited(s))
    }

    /// `<character_string_literal>` (§2.1.8) with `''` for a quote; literals
    /// separated by whitespace containing a newline are concatenated, as in
    /// SQL-92 §5.3.
    fn string(&mut self) -> Result<TokenKind, ParseError> {
        let mut s = String::new();
        loop {
            let part_start = self.here();
            self.bump();
            loop {
                match self.bump() {
                    None => {
                        return Err(ParseError::new(
                            "unterminated string literal: missing closing quote (')",
                            part_start,
                        )
                        .with_hint(
                            "write a quote inside a string as two quotes, e.g. 'O''Brien'",
                        ));
                    }
                    Some('\'') if self.peek(0) == Some('\'') => {
                        self.bump();
                        s.push('\'');
                    }
                    Some('\'') => break,
                    Some(c) => s.push(c),
                }
            }
            // Look for a continuation: <separator> with a newline, then a quote.
            let save = (self.i, self.line, self.column);
            let newline = self.skip_separators()?;
            if self.peek(0) == Some('\'') {
                if newline {
                    continue;
                }
                return Err(ParseError::new(
                    "two string literals next to each other on one line",
                    self.here(),
                )
                .with_hint("to continue a string literal, start the next part on a new line (SQL-92), or use ||"));
            }
            (self.i, self.line, self.column) = save;
            return Ok(TokenKind::String(s));
        }
    }
}
