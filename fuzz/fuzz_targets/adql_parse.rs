//! Parser round trip: whatever parses must print to text that parses to an
//! equal tree, and printing is a fixed point.
#![no_main]

use dfbs_vo::adql::{Version, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for version in [Version::V2_0, Version::V2_1] {
        let Ok(ast) = parse(text, version) else {
            continue;
        };
        let printed = ast.to_string();
        let again = match parse(&printed, version) {
            Ok(again) => again,
            Err(err) => panic!(
                "{version:?}: printed query does not parse: {err}\n  input:   {text:?}\n  printed: {printed:?}"
            ),
        };
        assert!(
            again == ast,
            "{version:?}: round trip changed the tree\n  input:   {text:?}\n  printed: {printed:?}\n  first:  {ast:?}\n  second: {again:?}"
        );
        let reprinted = again.to_string();
        assert_eq!(
            reprinted, printed,
            "{version:?}: printing is not stable\n  input: {text:?}"
        );
    }
});
