//! ADQL (Astronomical Data Query Language) parser: lexer, typed syntax
//! tree, recursive-descent parser and printer for ADQL 2.1 (IVOA
//! Recommendation 2023-12-15), with an ADQL 2.0 mode.
//!
//! ```ignore
//! use crate::adql::{parse, Version};
//! let q = parse("SELECT TOP 10 ra, dec FROM t WHERE mag < 12", Version::V2_1)?;
//! assert_eq!(q.to_string(), "SELECT TOP 10 ra, dec FROM t WHERE mag < 12");
//! ```
//!
//! The parser checks syntax only; whether tables, columns and user-defined
//! functions exist is for a later checking stage.

pub mod ast;
pub mod compile;
pub mod error;
pub mod lexer;
pub mod parser;
pub mod print;
pub mod reserved;

#[cfg(test)]
mod tests;

pub use ast::*;
pub use compile::{compile, AdqlError, CompileError, CompiledQuery, Context, FunctionRegistry, Options, ResultColumn, UploadTable, ValueType};
pub use error::ParseError;
pub use lexer::{Token, TokenKind, tokenize};

/// The ADQL version to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Version {
    /// ADQL 2.0 (IVOA Recommendation 2008-10-30).
    V2_0,
    /// ADQL 2.1 (IVOA Recommendation 2023-12-15).
    #[default]
    V2_1,
}

impl Version {
    /// The version named by a TAP `LANG` value such as `ADQL-2.0` or
    /// `ADQL` (= 2.1); `None` for anything else.
    pub fn from_lang(lang: &str) -> Option<Version> {
        match lang.trim().to_ascii_uppercase().as_str() {
            "ADQL" | "ADQL-2.1" => Some(Version::V2_1),
            "ADQL-2.0" => Some(Version::V2_0),
            _ => None,
        }
    }
}

/// Parses a whole ADQL query.
pub fn parse(query: &str, version: Version) -> Result<Query, ParseError> {
    parser::run_parser(
        lexer::tokenize(query)?,
        version,
        parser::Parser::parse_statement,
    )
}

/// Parses a whole ADQL query and returns the depth of its syntax tree too: code that walks
/// the tree recursively (the compiler) uses it to choose a large enough stack.
pub fn parse_with_depth(query: &str, version: Version) -> Result<(Query, usize), ParseError> {
    parser::run_parser(
        lexer::tokenize(query)?,
        version,
        parser::Parser::parse_statement_with_depth,
    )
}

/// Parses a single value expression or search condition (for tests and
/// tools), e.g. `ra BETWEEN 10 AND 20`.
pub fn parse_expression(text: &str, version: Version) -> Result<Expr, ParseError> {
    parser::run_parser(
        lexer::tokenize(text)?,
        version,
        parser::Parser::parse_standalone_expression,
    )
}

/// A close keyword or standard function name for a misspelt word (for
/// checkers reporting unknown functions), e.g. `SQTR` → `SQRT`.
pub fn suggest_function(name: &str) -> Option<&'static str> {
    let names: Vec<&'static str> = ast::Function::standard_names()
        .chain(ast::GEOMETRY_FUNCTIONS.iter().copied())
        .chain(["COUNT", "AVG", "MIN", "MAX", "SUM", "CAST", "COALESCE"])
        .collect();
    error::suggest(name, &names)
}
