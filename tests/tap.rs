//! The TAP service over HTTP: VOSI tables and capabilities (schema-valid), synchronous
//! queries in every format, MAXREC and OVERFLOW, and DALI error documents.

mod common;

use std::sync::OnceLock;

use common::*;

struct Service {
    server: Server,
    _dir: tempfile::TempDir,
}

/// One server for the tests of this file, with a few rows in the catalogue.
fn service() -> &'static Service {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let dir = test_dir();
        let data = dir.path().join("pg");
        let server = Server::start(&data);
        psql(
            &data,
            "INSERT INTO dfbs.plates (plateid, emulsion, ra_center, dec_center, date_obs) VALUES ('fbs0001', 'IIF', 10, 20, '1968-05-24 01:02:03');
             INSERT INTO dfbs.spectra (specid, objectid, plate, ra, dec, magb, sp_class, flux)
               SELECT 'fbs0001-' || i, 'o' || i, 'fbs0001', 10 + i * 0.001, 20, 15 + i * 0.01, 'OK', array_fill(i::real, ARRAY[136])
                 FROM generate_series(1, 50) AS i;",
        );
        Service { server, _dir: dir }
    })
}

fn sync(query: &str, extra: &str) -> HttpResponse {
    let address = &service().server.address;
    http_get(address, &format!("/tap/sync?LANG=ADQL&QUERY={}{extra}", url_encode(query))).unwrap()
}

fn count_rows(votable: &str) -> usize {
    votable.matches("<TR>").count()
}

#[test]
fn tables_are_schema_valid_and_complete() {
    let address = &service().server.address;
    for path in ["/tap/tables", "/tap/tables?detail=min", "/tap/tables?DETAIL=max", "/tap/tables/dfbs.spectra", "/tap/tables/tap_schema.columns"] {
        let response = http_get(address, path).unwrap();
        assert_eq!(response.status, 200, "{path}");
        assert!(response.header("content-type").unwrap_or_default().starts_with("text/xml"));
        xmllint_validate(&response.body, "VOSITables.xsd").unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    let all = http_get(address, "/tap/tables").unwrap().body;
    for table in catalog().tables() {
        assert!(all.contains(&format!("<name>{}</name>", table.qualified_name())));
        for column in &table.columns {
            assert!(all.contains(&format!("<name>{}</name>", dfbs_vo::xml::escape(&column.published_name()))));
        }
    }
    let min = http_get(address, "/tap/tables?detail=min").unwrap().body;
    assert!(!min.contains("<column"));
    assert_eq!(http_get(address, "/tap/tables/nope.nope").unwrap().status, 404);
    assert_eq!(http_get(address, "/tap/tables?detail=medium").unwrap().status, 400);
}

#[test]
fn capabilities_are_schema_valid_and_truthful() {
    let address = &service().server.address;
    let response = http_get(address, "/tap/capabilities").unwrap();
    assert_eq!(response.status, 200);
    xmllint_validate(&response.body, "capabilities-wrapper.xsd").expect("capabilities validate");
    let body = &response.body;
    assert!(body.contains("standardID=\"ivo://ivoa.net/std/TAP\""));
    assert!(body.contains(&format!("<accessURL use=\"base\">http://{address}/tap</accessURL>")));
    assert!(body.contains("ivo://ivoa.net/std/ADQL#v2.1"));
    assert!(body.contains("<form>ivo_hasword(haystack TEXT, needle TEXT) -&gt; INTEGER</form>"));
    // Every declared output format is accepted by /tap/sync.
    for mime in body.split("<mime>").skip(1).map(|s| s.split('<').next().unwrap_or_default().replace("&amp;", "&")) {
        let r = sync("SELECT TOP 1 specid FROM dfbs.spectra", &format!("&RESPONSEFORMAT={}", url_encode(&mime)));
        assert_eq!(r.status, 200, "{mime}: {}", r.body);
    }
}

#[test]
fn sync_queries_in_every_format() {
    let r = sync("SELECT TOP 5 specid, ra, dec, magb FROM dfbs.spectra ORDER BY specid", "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").unwrap_or_default().starts_with("application/x-votable+xml"));
    assert_eq!(count_rows(&r.body), 5);
    assert!(r.body.contains("<INFO name=\"QUERY_STATUS\" value=\"OK\""));
    assert!(r.body.contains("name=\"ra\"") && r.body.contains("unit=\"deg\""));

    let csv = sync("SELECT TOP 3 specid, magb FROM dfbs.spectra ORDER BY specid", "&RESPONSEFORMAT=csv");
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap_or_default().starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 4, "{}", csv.body);
    assert_eq!(lines[0], "specid,magb");
    let tsv = sync("SELECT TOP 3 specid, magb FROM dfbs.spectra", "&FORMAT=tsv");
    assert_eq!(tsv.body.lines().next(), Some("specid\tmagb"));
    let b2 = sync("SELECT TOP 3 specid, flux FROM dfbs.spectra", "&RESPONSEFORMAT=votable/b2");
    assert!(b2.body.contains("<BINARY2>"), "{}", b2.body);
    // POST works like GET, and parameter names are case-insensitive.
    let post = http_post_form(&service().server.address, "/tap/sync", &[("lang", "ADQL"), ("query", "SELECT COUNT(*) AS n FROM dfbs.spectra"), ("request", "doQuery")]).unwrap();
    assert_eq!(post.status, 200, "{}", post.body);
    assert!(post.body.contains("<TD>50</TD>"), "{}", post.body);
}

#[test]
fn maxrec_and_overflow() {
    // More rows than MAXREC: truncated, OVERFLOW after the table.
    let r = sync("SELECT specid FROM dfbs.spectra", "&MAXREC=10");
    assert_eq!(count_rows(&r.body), 10);
    let overflow = r.body.find("value=\"OVERFLOW\"").expect("OVERFLOW announced");
    assert!(overflow > r.body.find("</TABLE>").unwrap(), "OVERFLOW must follow the TABLE");
    // Exactly MAXREC rows: no overflow.
    let r = sync("SELECT TOP 10 specid FROM dfbs.spectra", "&MAXREC=10");
    assert_eq!(count_rows(&r.body), 10);
    assert!(!r.body.contains("OVERFLOW"));
    let r = sync("SELECT specid FROM dfbs.spectra WHERE magb < 15.105", "&MAXREC=10");
    assert_eq!(count_rows(&r.body), 10);
    assert!(!r.body.contains("OVERFLOW"), "rows equal to MAXREC are not an overflow");
    // MAXREC=0: metadata only.
    let r = sync("SELECT specid, ra FROM dfbs.spectra", "&MAXREC=0");
    assert_eq!(r.status, 200);
    assert_eq!(count_rows(&r.body), 0);
    assert!(r.body.contains("name=\"specid\""));
    // TOP smaller than MAXREC wins.
    assert_eq!(count_rows(&sync("SELECT TOP 3 specid FROM dfbs.spectra", "&MAXREC=10").body), 3);
}

#[test]
fn errors_are_dali_error_documents() {
    let address = &service().server.address;
    for (path, fragment) in [
        (format!("/tap/sync?LANG=ADQL&QUERY={}", url_encode("SELECT mgb FROM dfbs.spectra")), "did you mean magb"),
        (format!("/tap/sync?LANG=ADQL&QUERY={}", url_encode("SELEKT 1")), "syntax error"),
        (format!("/tap/sync?LANG=PQL&QUERY={}", url_encode("SELECT 1")), "LANG=PQL is not supported"),
        ("/tap/sync?LANG=ADQL".to_string(), "missing QUERY"),
        (format!("/tap/sync?QUERY={}", url_encode("SELECT specid FROM dfbs.spectra")), "missing LANG"),
        (format!("/tap/sync?LANG=ADQL&MAXREC=lots&QUERY={}", url_encode("SELECT specid FROM dfbs.spectra")), "MAXREC=lots"),
        (format!("/tap/sync?LANG=ADQL&RESPONSEFORMAT=pdf&QUERY={}", url_encode("SELECT specid FROM dfbs.spectra")), "RESPONSEFORMAT=pdf"),
        (format!("/tap/sync?LANG=ADQL&QUERY={}", url_encode("SELECT 1/0 AS x FROM dfbs.spectra")), "division by zero"),
    ] {
        let r = http_get(address, &path).unwrap();
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert!(r.header("content-type").unwrap_or_default().starts_with("application/x-votable+xml"));
        assert_eq!(r.body.matches("name=\"QUERY_STATUS\"").count(), 1, "{}", r.body);
        assert!(r.body.contains("value=\"ERROR\""));
        assert!(!r.body.contains("<TABLE"));
        assert!(r.body.contains(fragment), "{path}: expected {fragment:?} in {}", r.body);
        xmllint_validate(&r.body, "VOTable.xsd").unwrap();
    }
    // Unknown parameters are ignored (DALI 1.1 section 3.1).
    let r = sync("SELECT TOP 1 specid FROM dfbs.spectra", "&DUMMY=ignore-me");
    assert_eq!(r.status, 200);
}

#[test]
fn tap_schema_is_queryable() {
    let r = sync("SELECT table_name, column_name, datatype, arraysize, xtype, \"size\" FROM TAP_SCHEMA.columns WHERE table_name = 'dfbs.spectra' AND column_name = 'flux'", "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<TD>136</TD>"), "{}", r.body);
}

#[test]
fn examples_are_served_and_every_example_runs() {
    let address = &service().server.address;
    let response = http_get(address, "/tap/examples").unwrap();
    assert_eq!(response.status, 200);
    assert!(response.header("content-type").unwrap_or_default().starts_with("application/xhtml+xml"));
    assert!(response.body.contains("vocab=\"http://www.ivoa.net/rdf/examples#\""));
    // Well-formed XML (xmllint without a schema).
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &response.body).unwrap();
    let out = std::process::Command::new("xmllint").args(["--noout", "--nonet"]).arg(file.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let examples = dfbs_vo::service::tap::examples::load(&project_dir().join("tap")).unwrap();
    assert!(examples.len() >= 5);
    for example in &examples {
        assert!(response.body.contains(&format!("id=\"{}\"", example.id)));
        let r = sync(&example.query, "");
        assert_eq!(r.status, 200, "example {} fails: {}", example.id, r.body);
        assert!(r.body.contains("value=\"OK\""), "example {}: {}", example.id, r.body);
    }
    // Declared in the capabilities, as it exists.
    assert!(http_get(address, "/tap/capabilities").unwrap().body.contains("ivo://ivoa.net/std/DALI#examples"));
}
