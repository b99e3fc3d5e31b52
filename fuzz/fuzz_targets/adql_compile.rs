//! ADQL -> PostgreSQL translation: never panics, and the SQL it emits is
//! non-empty, has balanced quotes and contains no statement separator or
//! comment outside string literals and quoted identifiers.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use dfbs_vo::adql::{CompiledQuery, Context, FunctionRegistry, Options, Version, compile};
use dfbs_vo::catalog::Catalog;
use libfuzzer_sys::fuzz_target;

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    let sources = vec![
        (PathBuf::from("dfbs.toml"), include_str!("../../tap/dfbs.toml").to_string()),
        (PathBuf::from("tap_schema.toml"), include_str!("../../tap/tap_schema.toml").to_string()),
    ];
    Catalog::from_sources(&sources).unwrap()
});
static FUNCTIONS: LazyLock<FunctionRegistry> = LazyLock::new(FunctionRegistry::standard);

/// Checks the SQL outside '...' strings ('' escapes) and "..." identifiers
/// ("" escapes); returns what is wrong, if anything.
///
/// Quote balance is checked quote-aware: every quoted run must be closed
/// (outside identifiers the `'` count is even, outside strings the `"`
/// count is even). Counting each character over the whole text would flag
/// valid SQL such as `SELECT x AS "it's"`.
fn check_sql(sql: &str) -> Result<(), String> {
    if sql.trim().is_empty() {
        return Err("empty SQL".into());
    }
    let b = sql.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                // Skip to the closing quote; a doubled quote is an escape.
                i += 1;
                loop {
                    if i >= b.len() {
                        return Err(format!("unterminated {} quote", q as char));
                    }
                    if b[i] == q {
                        if i + 1 < b.len() && b[i + 1] == q {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
            }
            b';' => return Err(format!("';' at byte {i}")),
            b'-' if b.get(i + 1) == Some(&b'-') => return Err(format!("'--' at byte {i}")),
            b'/' if b.get(i + 1) == Some(&b'*') => return Err(format!("'/*' at byte {i}")),
            _ => i += 1,
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let context = Context { catalog: &CATALOG, uploads: &[], functions: &FUNCTIONS };
    let options = Options { row_limit: Some(1001) };
    for version in [Version::V2_0, Version::V2_1] {
        if let Ok(CompiledQuery { sql, .. }) = compile(text, version, &context, &options) {
            if let Err(problem) = check_sql(&sql) {
                panic!("{version:?}: bad SQL: {problem}\n  input: {text:?}\n  sql:   {sql}");
            }
        }
    }
});
