//! Name resolution: the tables of each FROM clause (with their correlation names and
//! columns), nested for subqueries, and the ADQL case rules (ADQL 2.1 section 2.1.3: regular
//! identifiers compare case-insensitively, delimited ones exactly).

use super::types::ResultColumn;
use crate::adql::ast::{ColumnRef, Ident};

/// A column visible through a FROM item.
#[derive(Debug, Clone)]
pub struct SourceColumn {
    /// The name as ADQL sees it (catalogue names are lower-case regular identifiers).
    pub name: Ident,
    /// The SQL expression of the column, qualified with the source's SQL alias.
    pub sql: String,
    pub meta: ResultColumn,
    /// A column an earlier USING / NATURAL join merged with this one: it is not expanded by
    /// `*` and unqualified references go to the merged column.
    pub merged_away: bool,
}

/// A table, view, CTE, derived table or upload in a FROM clause.
#[derive(Debug, Clone)]
pub struct Source {
    /// The correlation name (AS ...), if any.
    pub alias: Option<Ident>,
    /// For tables without an alias: the schema and table names a qualifier may use.
    pub schema: Option<String>,
    pub table: Option<String>,
    pub columns: Vec<SourceColumn>,
}

impl Source {
    /// Does `qualifier` (the part of a column reference before the column) name this source?
    pub fn answers_to(&self, qualifier: &[Ident]) -> bool {
        match (&self.alias, qualifier) {
            (Some(alias), [q]) => q.matches(alias),
            (Some(_), _) => false,
            (None, [t]) => self.table.as_deref().is_some_and(|name| matches_name(t, name)),
            (None, [s, t]) => {
                self.schema.as_deref().is_some_and(|name| matches_name(s, name))
                    && self.table.as_deref().is_some_and(|name| matches_name(t, name))
            }
            _ => false,
        }
    }

    /// How the source is called in messages.
    pub fn display_name(&self) -> String {
        match (&self.alias, &self.schema, &self.table) {
            (Some(a), _, _) => a.value.clone(),
            (None, Some(s), Some(t)) => format!("{s}.{t}"),
            (None, None, Some(t)) => t.clone(),
            _ => "?".into(),
        }
    }
}

/// Does an ADQL identifier name the published (lower-case) name `name`?
pub fn matches_name(ident: &Ident, name: &str) -> bool {
    if ident.delimited { ident.value == name } else { ident.value.eq_ignore_ascii_case(name) }
}

/// The FROM items of one query level.
#[derive(Debug, Clone, Default)]
pub struct Level {
    pub sources: Vec<Source>,
}

/// What a column reference resolved to.
pub enum Resolved<'a> {
    Found(&'a SourceColumn),
    /// Several sources have it and the reference does not say which.
    Ambiguous(Vec<String>),
    NotFound,
}

impl Level {
    pub fn resolve(&self, reference: &ColumnRef) -> Resolved<'_> {
        let mut found: Vec<(&Source, &SourceColumn)> = Vec::new();
        for source in &self.sources {
            if !reference.qualifier.is_empty() && !source.answers_to(&reference.qualifier) {
                continue;
            }
            for column in &source.columns {
                if reference.column.matches(&column.name) {
                    if reference.qualifier.is_empty() && column.merged_away {
                        continue;
                    }
                    found.push((source, column));
                }
            }
        }
        match found.len() {
            0 => Resolved::NotFound,
            1 => Resolved::Found(found[0].1),
            _ => Resolved::Ambiguous(found.iter().map(|(s, c)| format!("{}.{}", s.display_name(), c.name.value)).collect()),
        }
    }

    /// Is there a source the qualifier names (for "no such table" messages)?
    pub fn has_source(&self, qualifier: &[Ident]) -> bool {
        self.sources.iter().any(|s| s.answers_to(qualifier))
    }

    /// Every visible column name (for suggestions).
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.sources.iter().flat_map(|s| s.columns.iter().map(|c| c.name.value.as_str()))
    }
}

/// The closest candidate to `word` by edit distance, when close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let limit = (word.len() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(closest("mgb", ["magb", "magr", "ra"]), Some("magb"));
        assert_eq!(closest("specidd", ["specid", "plate"]), Some("specid"));
        assert_eq!(closest("zzzz", ["ra", "dec"]), None);
    }

    #[test]
    fn case_rules() {
        assert!(matches_name(&Ident::new("RA"), "ra"));
        assert!(!matches_name(&Ident::delimited("RA"), "ra"));
        assert!(matches_name(&Ident::delimited("ra"), "ra"));
    }
}
