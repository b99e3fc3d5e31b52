//! The conformance corpus (`tests/adql/conformance.adql`): the parser must
//! agree with every entry, and every valid query must survive
//! print → re-parse unchanged.

use crate::adql::{Version, parse};

const CORPUS: &str = include_str!("../../../tests/adql/conformance.adql");

#[derive(Debug)]
pub(crate) struct Entry {
    pub line: usize,
    pub valid: bool,
    pub version: Version,
    pub reason: String,
    pub query: String,
}

/// Parses the corpus file format described at its top.
pub(crate) fn entries() -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for (i, line) in CORPUS.lines().enumerate() {
        if (line.starts_with(' ') || line.starts_with('\t'))
            && let Some(last) = out.last_mut()
        {
            last.query.push('\n');
            last.query.push_str(line);
            continue;
        }
        let t = line.trim_end();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (tag, rest) = line
            .split_once(" | ")
            .unwrap_or_else(|| panic!("line {}: bad entry: {line}", i + 1));
        let (valid, version) = match tag {
            "valid" => (true, Version::V2_1),
            "invalid" => (false, Version::V2_1),
            "valid20" => (true, Version::V2_0),
            "invalid20" => (false, Version::V2_0),
            other => panic!("line {}: unknown tag {other}", i + 1),
        };
        let (reason, query) = if valid {
            (String::new(), rest.to_string())
        } else {
            let (r, q) = rest
                .split_once(" | ")
                .unwrap_or_else(|| panic!("line {}: invalid entry needs a reason", i + 1));
            (r.to_string(), q.to_string())
        };
        out.push(Entry {
            line: i + 1,
            valid,
            version,
            reason,
            query,
        });
    }
    out
}

#[test]
fn corpus_is_large_enough() {
    let e = entries();
    let valid = e.iter().filter(|e| e.valid).count();
    let invalid = e.len() - valid;
    println!(
        "corpus: {} entries, {valid} valid, {invalid} invalid",
        e.len()
    );
    assert!(e.len() >= 450);
}

#[test]
fn parser_agrees_with_corpus() {
    let mut failures = Vec::new();
    for e in entries() {
        match (parse(&e.query, e.version), e.valid) {
            (Ok(_), true) | (Err(_), false) => {}
            (Err(err), true) => failures.push(format!(
                "line {}: expected valid ({:?}), got error: {err}\n    {}",
                e.line, e.version, e.query
            )),
            (Ok(ast), false) => failures.push(format!(
                "line {}: expected invalid ({:?}: {}), but it parsed as: {ast}\n    {}",
                e.line, e.version, e.reason, e.query
            )),
        }
    }
    for f in &failures {
        println!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} corpus disagreements (see output)",
        failures.len()
    );
}

#[test]
fn valid_corpus_queries_round_trip() {
    let mut failures = Vec::new();
    for e in entries().into_iter().filter(|e| e.valid) {
        let Ok(ast) = parse(&e.query, e.version) else {
            continue;
        };
        let printed = ast.to_string();
        match parse(&printed, e.version) {
            Ok(again) if again == ast => {
                // Printing is a fixed point.
                if again.to_string() != printed {
                    failures.push(format!(
                        "line {}: printing is not stable: {printed}",
                        e.line
                    ));
                }
            }
            Ok(again) => failures.push(format!(
                "line {}: round trip changed the tree\n    {printed}\n    {again}",
                e.line
            )),
            Err(err) => failures.push(format!(
                "line {}: printed query does not parse: {err}\n    {printed}",
                e.line
            )),
        }
    }
    for f in &failures {
        println!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} round-trip failures (see output)",
        failures.len()
    );
}

/// `cargo test dump_corpus_errors -- --ignored --nocapture` shows the error
/// message for every invalid entry (to review their wording).
#[test]
#[ignore]
fn dump_corpus_errors() {
    for e in entries().into_iter().filter(|e| !e.valid) {
        if let Err(err) = parse(&e.query, e.version) {
            println!(
                "{:4} [{}] {}\n     -> {err}",
                e.line,
                e.reason,
                e.query.replace('\n', "\\n")
            );
        }
    }
}
