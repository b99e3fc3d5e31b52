use crate::adql::*;

fn ok(q: &str) -> Query {
    match parse(q, Version::V2_1) {
        Ok(q) => q,
        Err(e) => panic!("{q}\n{e}"),
    }
}

#[test]
fn smoke() {
    let q = ok("SELECT TOP 10 ra, dec FROM t WHERE mag < 12");
    assert_eq!(q.to_string(), "SELECT TOP 10 ra, dec FROM t WHERE mag < 12");
}
