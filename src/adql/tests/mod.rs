//! Tests of the ADQL parser: unit tests, the conformance corpus and
//! round-trip property tests.

mod corpus;
mod roundtrip;
mod unit;
