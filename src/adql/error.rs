//! Parse errors with a position a person can act on.

use std::fmt;

/// An error found while lexing or parsing an ADQL query.
///
/// `message` says what was expected and what was found; `line` and `column`
/// are 1-based (columns count characters), `offset` is the byte offset into
/// the query text. `Display` appends the position and, when there is one, a
/// hint such as a suggested keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub line: u32,
    pub column: u32,
    pub offset: usize,
    pub hint: Option<String>,
}

impl ParseError {
    pub(crate) fn new(message: impl Into<String>, span: super::lexer::Span) -> Self {
        ParseError {
            message: message.into(),
            line: span.line,
            column: span.column,
            offset: span.start,
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {}, column {}",
            self.message, self.line, self.column
        )?;
        if let Some(h) = &self.hint {
            write!(f, "; {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

/// Edit distance (optimal string alignment: insertions, deletions,
/// substitutions and transpositions of neighbours) between two words,
/// ignoring ASCII case; `None` once it certainly exceeds `max`.
pub(crate) fn edit_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_uppercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_uppercase()).collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let w = b.len() + 1;
    let mut rows = vec![vec![0usize; w]; a.len() + 1];
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i][0] = i;
        let mut row_min = i;
        for j in 1..w {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (rows[i - 1][j - 1] + cost)
                .min(rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
    }
    let d = rows[a.len()][b.len()];
    (d <= max).then_some(d)
}

/// The closest word of `candidates` to `word` (case-insensitive), if it is
/// near enough to be a plausible misspelling (and not the word itself).
pub fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    if word.len() < 3 {
        return None;
    }
    let max = if word.len() <= 4 { 1 } else { 2 };
    let mut best: Option<(usize, &'c str)> = None;
    for c in candidates {
        if c.eq_ignore_ascii_case(word) {
            return None;
        }
        if let Some(d) = edit_distance(word, c, max)
            && best.is_none_or(|(bd, _)| d < bd)
        {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}
