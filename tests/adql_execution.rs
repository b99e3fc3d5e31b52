//! ADQL executed on the real PostgreSQL + q3c, as the read-only query role, against a small
//! catalogue whose answers are known: every function and operator, geometry at the RA wrap
//! and the pole, joins, set operations, CTEs, subqueries, OFFSET; plus name and type errors.

mod common;

use common::*;
use dfbs_vo::adql::{compile, AdqlError, Context, FunctionRegistry, Options, Version};
use dfbs_vo::db::QUERY_ROLE;
use tokio::sync::OnceCell;

const FIXTURE: &str = r#"
INSERT INTO dfbs.plates (plateid, emulsion, ra_center, dec_center, epoch, date_obs) VALUES
  ('fbs0001', 'IIF', 5, 10, 40000.5, '1968-05-24 01:00:00'),
  ('fbs0002', 'IIaF', 200, 80, 41000.5, '1971-02-18 02:30:00');
INSERT INTO dfbs.spectra (specid, objectid, plate, ra, dec, magb, sp_class, class_label, flux) VALUES
  ('fbs0001-s1', 'o1', 'fbs0001', 10.0,   20.0, 15.0, 'OK', 'star',   array_fill(1::real, ARRAY[136])),
  ('fbs0001-s2', 'o2', 'fbs0001', 10.05,  20.0, 16.0, 'NL', 'carbon', NULL),
  ('fbs0001-s3', 'o3', 'fbs0001', 359.95,  0.0, 17.0, 'OK', 'qso',    NULL),
  ('fbs0001-s4', 'o4', 'fbs0001', 0.05,    0.0, 18.0, 'U',  NULL,     NULL),
  ('fbs0002-s5', 'o5', 'fbs0002', 45.0,   89.9, 12.5, 'OK', 'm_star', NULL),
  ('fbs0002-s6', 'o6', 'fbs0002', 225.0,  89.9, 13.0, 'OK', 'star',   NULL),
  ('fbs0002-s7', 'o7', 'fbs0002', 180.0, -10.0, NULL, 'U',  NULL,     NULL);
"#;

struct Fixture {
    database: dfbs_vo::db::Database,
    catalog: dfbs_vo::catalog::Catalog,
    functions: FunctionRegistry,
}

async fn fixture() -> &'static Fixture {
    static FIXTURE_CELL: OnceCell<Fixture> = OnceCell::const_new();
    FIXTURE_CELL
        .get_or_init(|| async {
            let database = catalogue_database("t_adql").await;
            database.connect_admin().await.unwrap().batch_execute(FIXTURE).await.unwrap();
            Fixture { database, catalog: catalog(), functions: FunctionRegistry::standard() }
        })
        .await
}

fn translate(f: &Fixture, adql: &str, version: Version) -> Result<dfbs_vo::adql::CompiledQuery, AdqlError> {
    let context = Context { catalog: &f.catalog, uploads: &[], functions: &f.functions };
    compile(adql, version, &context, &Options::default())
}

/// The rows of an ADQL query as text (PostgreSQL's text output).
async fn rows(adql: &str) -> Vec<Vec<Option<String>>> {
    let f = fixture().await;
    let compiled = translate(f, adql, Version::V2_1).unwrap_or_else(|e| panic!("{adql}\n  -> {e}"));
    let client = f.database.connect_as(QUERY_ROLE).await.unwrap();
    let messages = client.simple_query(&compiled.sql).await.unwrap_or_else(|e| panic!("{adql}\n  SQL: {}\n  -> {e}", compiled.sql));
    messages
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some((0..row.len()).map(|i| row.get(i).map(str::to_string)).collect()),
            _ => None,
        })
        .collect()
}

/// The first column of every row.
async fn column(adql: &str) -> Vec<String> {
    rows(adql).await.into_iter().map(|r| r[0].clone().unwrap_or_else(|| "NULL".into())).collect()
}

async fn scalar(adql: &str) -> f64 {
    let values = column(adql).await;
    assert_eq!(values.len(), 1, "{adql}: {values:?}");
    values[0].parse().unwrap_or_else(|_| panic!("{adql}: {values:?}"))
}

async fn error(adql: &str) -> String {
    match translate(fixture().await, adql, Version::V2_1) {
        Ok(c) => panic!("{adql} should fail but translated to {}", c.sql),
        Err(e) => e.to_string(),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * b.abs().max(1.0)
}

#[tokio::test]
async fn every_math_string_and_bitwise_function() {
    let one_row = "FROM tap_schema.schemas WHERE schema_name = 'dfbs'";
    let pi = std::f64::consts::PI;
    let cases: &[(&str, f64)] = &[
        ("ABS(-2)", 2.0),
        ("ABS(-2.5)", 2.5),
        ("CEILING(1.2)", 2.0),
        ("FLOOR(1.8)", 1.0),
        ("DEGREES(PI())", 180.0),
        ("RADIANS(180)", pi),
        ("EXP(0)", 1.0),
        ("LOG(EXP(1))", 1.0),
        ("LOG10(1000)", 3.0),
        ("MOD(7, 3)", 1.0),
        ("MOD(7.5, 2)", 1.5),
        ("POWER(2, 10)", 1024.0),
        ("SQRT(16)", 4.0),
        ("ROUND(2.567, 2)", 2.57),
        ("ROUND(2.4)", 2.0),
        ("ROUND(-2.567, 1)", -2.6),
        ("TRUNCATE(2.567, 1)", 2.5),
        ("TRUNCATE(-2.5)", -2.0),
        ("ACOS(1)", 0.0),
        ("ASIN(1)", pi / 2.0),
        ("ATAN(1)", pi / 4.0),
        ("ATAN2(1, 1)", pi / 4.0),
        ("COS(0)", 1.0),
        ("COT(PI() / 4)", 1.0),
        ("SIN(PI() / 2)", 1.0),
        ("TAN(0)", 0.0),
        ("PI()", pi),
        ("7 & 3", 3.0),
        ("4 | 1", 5.0),
        ("6 ^ 3", 5.0),
        ("~0", -1.0),
        ("0xFF", 255.0),
        ("0x7FFFFFFFFFFFFFFF", 9.223372036854776e18),
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("-3 + 1", -2.0),
        ("7 / 2.0", 3.5),
        ("1.5e3", 1500.0),
        (".5", 0.5),
        ("CAST('12' AS INTEGER)", 12.0),
        ("CAST(1.7 AS INTEGER)", 2.0),
        ("CAST(3 AS DOUBLE PRECISION) / 2", 1.5),
        ("COALESCE(NULL, 5)", 5.0),
        ("CAST(CAST(42 AS BIGINT) AS SMALLINT)", 42.0),
    ];
    for (expression, expected) in cases {
        let value = scalar(&format!("SELECT {expression} AS v {one_row}")).await;
        assert!(close(value, *expected), "{expression} = {value}, expected {expected}");
    }
    let strings: &[(&str, &str)] = &[
        ("LOWER('AbC')", "abc"),
        ("UPPER('aBc')", "ABC"),
        ("'a' || 'b' || 'c'", "abc"),
        ("CAST(12 AS VARCHAR(10))", "12"),
        ("COALESCE(NULL, 'x')", "x"),
        ("'it''s'", "it's"),
    ];
    for (expression, expected) in strings {
        assert_eq!(column(&format!("SELECT {expression} AS v {one_row}")).await, vec![expected.to_string()], "{expression}");
    }
    let r = scalar(&format!("SELECT RAND() AS r {one_row}")).await;
    assert!((0.0..1.0).contains(&r));
    // IN_UNIT converts with the column's unit (ra is in degrees).
    assert!(close(scalar("SELECT IN_UNIT(ra, 'arcsec') FROM dfbs.spectra WHERE specid = 'fbs0001-s1'").await, 36000.0));
    assert!(close(scalar("SELECT IN_UNIT(dec, 'arcmin') FROM dfbs.spectra WHERE specid = 'fbs0001-s1'").await, 1200.0));
    assert!(error("SELECT IN_UNIT(ra, 'm') FROM dfbs.spectra").await.contains("different quantities"));
    assert!(error("SELECT IN_UNIT(magb * 2, 'mag') FROM dfbs.spectra").await.contains("unit is known"));
}

#[tokio::test]
async fn comparisons_and_conditions() {
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(column("SELECT specid FROM dfbs.spectra WHERE magb BETWEEN 15 AND 17 ORDER BY specid").await, ids(&["fbs0001-s1", "fbs0001-s2", "fbs0001-s3"]));
    assert_eq!(column("SELECT specid FROM dfbs.spectra WHERE magb NOT BETWEEN 13 AND 18 ORDER BY 1").await, ids(&["fbs0002-s5"]));
    assert_eq!(column("SELECT specid FROM dfbs.spectra WHERE magb IS NULL").await, ids(&["fbs0002-s7"]));
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE class_label IS NOT NULL").await, ids(&["5"]));
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE specid LIKE 'fbs0001-%'").await, ids(&["4"]));
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE specid NOT LIKE 'fbs0001-%'").await, ids(&["3"]));
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE specid ILIKE 'FBS0002-%'").await, ids(&["3"]));
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE sp_class IN ('OK', 'NL')").await, ids(&["5"]));
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE sp_class NOT IN ('OK')").await, ids(&["3"]));
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE NOT (magb < 15 OR magb > 16) AND sp_class <> 'U'").await, ids(&["2"]));
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE magb != 15").await, ids(&["5"]));
    // Timestamps compare with ISO 8601 strings.
    assert_eq!(column("SELECT plateid FROM dfbs.plates WHERE date_obs > '1970-01-01'").await, ids(&["fbs0002"]));
}

#[tokio::test]
async fn aggregates_grouping_and_ordering() {
    assert_eq!(rows("SELECT COUNT(*), COUNT(magb), COUNT(DISTINCT plate), MIN(magb), MAX(magb), SUM(px_length) FROM dfbs.spectra").await[0],
        vec![Some("7".into()), Some("6".into()), Some("2".into()), Some("12.5".into()), Some("18".into()), None]);
    assert!(close(scalar("SELECT AVG(magb) FROM dfbs.spectra").await, (15.0 + 16.0 + 17.0 + 18.0 + 12.5 + 13.0) / 6.0));
    assert!(close(scalar("SELECT SUM(magb) FROM dfbs.spectra WHERE plate = 'fbs0001'").await, 66.0));
    assert_eq!(rows("SELECT plate, COUNT(*) AS n FROM dfbs.spectra GROUP BY plate HAVING COUNT(*) > 3 ORDER BY plate").await,
        vec![vec![Some("fbs0001".into()), Some("4".into())]]);
    assert_eq!(column("SELECT specid, magb AS m FROM dfbs.spectra WHERE magb IS NOT NULL ORDER BY m DESC").await[0], "fbs0001-s4");
    assert_eq!(column("SELECT specid, magb FROM dfbs.spectra WHERE magb IS NOT NULL ORDER BY 2 ASC").await[0], "fbs0002-s5");
    assert_eq!(column("SELECT DISTINCT plate FROM dfbs.spectra ORDER BY plate DESC").await, vec!["fbs0002", "fbs0001"]);
    assert_eq!(column("SELECT TOP 2 specid FROM dfbs.spectra ORDER BY specid").await, vec!["fbs0001-s1", "fbs0001-s2"]);
    assert_eq!(column("SELECT specid FROM dfbs.spectra ORDER BY specid OFFSET 5").await, vec!["fbs0002-s6", "fbs0002-s7"]);
    assert_eq!(column("SELECT TOP 2 specid FROM dfbs.spectra ORDER BY specid OFFSET 1").await, vec!["fbs0001-s2", "fbs0001-s3"]);
    assert_eq!(column("SELECT TOP 0 specid FROM dfbs.spectra").await.len(), 0);
    assert_eq!(column("SELECT plate FROM dfbs.spectra GROUP BY plate ORDER BY COUNT(*) DESC").await, vec!["fbs0001", "fbs0002"]);
    // NULLs sort last in both directions (PostgreSQL would put them first for DESC), so that
    // TOP n ... ORDER BY x DESC returns values.
    assert_eq!(column("SELECT TOP 1 specid FROM dfbs.spectra ORDER BY magb DESC").await, vec!["fbs0001-s4"]);
    assert_eq!(column("SELECT TOP 1 magb FROM dfbs.spectra ORDER BY 1 DESC").await, vec!["18"]);
    assert_eq!(column("SELECT magb FROM dfbs.spectra UNION SELECT magb FROM dfbs.spectra ORDER BY 1 DESC").await.last().map(String::as_str), Some("NULL"));
    assert_eq!(column("SELECT TOP 1 specid FROM dfbs.spectra ORDER BY magb ASC").await, vec!["fbs0002-s5"]);
}

#[tokio::test]
async fn joins_subqueries_set_operations_and_ctes() {
    assert_eq!(rows("SELECT s.specid, p.emulsion FROM dfbs.spectra AS s JOIN dfbs.plates AS p ON s.plate = p.plateid WHERE s.magb < 13").await,
        vec![vec![Some("fbs0002-s5".into()), Some("IIaF".into())]]);
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra s, dfbs.plates p WHERE s.plate = p.plateid AND p.emulsion = 'IIF'").await, vec!["4"]);
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.plates p LEFT OUTER JOIN dfbs.spectra s ON s.plate = p.plateid AND s.magb < 13").await, vec!["2"]);
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra s RIGHT OUTER JOIN dfbs.plates p ON s.plate = p.plateid").await, vec!["7"]);
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra s FULL OUTER JOIN dfbs.plates p ON s.plate = p.plateid").await, vec!["7"]);
    // USING and NATURAL: the join column appears once.
    let using = rows("SELECT * FROM dfbs.spectra JOIN (SELECT plateid AS plate, emulsion FROM dfbs.plates) AS p USING (plate) WHERE specid = 'fbs0001-s1'").await;
    assert_eq!(using[0].len(), translate(fixture().await, "SELECT * FROM dfbs.spectra", Version::V2_1).unwrap().columns.len() + 1);
    assert_eq!(column("SELECT emulsion FROM dfbs.spectra NATURAL JOIN (SELECT plateid AS plate, emulsion FROM dfbs.plates) AS p WHERE specid = 'fbs0002-s6'").await, vec!["IIaF"]);
    assert_eq!(column("SELECT plate FROM dfbs.spectra JOIN (SELECT plateid AS plate FROM dfbs.plates) AS p USING (plate) WHERE specid = 'fbs0002-s6'").await, vec!["fbs0002"]);

    assert_eq!(column("SELECT specid FROM dfbs.spectra WHERE plate IN (SELECT plateid FROM dfbs.plates WHERE emulsion = 'IIaF') ORDER BY specid").await,
        vec!["fbs0002-s5", "fbs0002-s6", "fbs0002-s7"]);
    assert_eq!(column("SELECT p.plateid FROM dfbs.plates p WHERE EXISTS (SELECT specid FROM dfbs.spectra s WHERE s.plate = p.plateid AND s.magb < 13)").await, vec!["fbs0002"]);
    assert_eq!(column("SELECT p.plateid FROM dfbs.plates p WHERE NOT EXISTS (SELECT specid FROM dfbs.spectra s WHERE s.plate = p.plateid AND s.magb > 17.5)").await, vec!["fbs0002"]);
    assert_eq!(column("SELECT COUNT(*) FROM (SELECT specid, magb FROM dfbs.spectra WHERE magb < 16) AS bright").await, vec!["3"]);

    assert_eq!(column("SELECT specid FROM dfbs.spectra WHERE magb < 14 UNION SELECT specid FROM dfbs.spectra WHERE magb > 17 ORDER BY specid").await,
        vec!["fbs0001-s4", "fbs0002-s5", "fbs0002-s6"]);
    assert_eq!(column("SELECT plate FROM dfbs.spectra UNION ALL SELECT plateid FROM dfbs.plates").await.len(), 9);
    assert_eq!(column("SELECT plate FROM dfbs.spectra UNION SELECT plateid FROM dfbs.plates").await.len(), 2);
    assert_eq!(column("SELECT specid FROM dfbs.spectra WHERE magb < 17 INTERSECT SELECT specid FROM dfbs.spectra WHERE magb > 13 ORDER BY 1").await,
        vec!["fbs0001-s1", "fbs0001-s2"]);
    assert_eq!(column("SELECT specid FROM dfbs.spectra WHERE magb < 17 EXCEPT SELECT specid FROM dfbs.spectra WHERE sp_class = 'OK' ORDER BY specid").await,
        vec!["fbs0001-s2"]);
    assert_eq!(column("SELECT specid FROM dfbs.spectra WHERE magb < 13 UNION SELECT specid FROM dfbs.spectra WHERE magb > 17 ORDER BY specid OFFSET 1").await,
        vec!["fbs0002-s5"]);

    assert_eq!(column("WITH bright AS (SELECT specid, magb FROM dfbs.spectra WHERE magb < 14) SELECT COUNT(*) FROM bright").await, vec!["2"]);
    assert_eq!(column("WITH a AS (SELECT plateid FROM dfbs.plates WHERE emulsion = 'IIF'), b AS (SELECT specid, plate FROM dfbs.spectra) SELECT COUNT(*) FROM b JOIN a ON b.plate = a.plateid").await, vec!["4"]);
}

#[tokio::test]
async fn geometry_at_the_wrap_and_the_pole() {
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cone = |ra: f64, dec: f64, r: f64| format!("SELECT specid FROM dfbs.spectra WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {dec}, {r})) = 1 ORDER BY specid");
    assert_eq!(column(&cone(10.0, 20.0, 0.1)).await, ids(&["fbs0001-s1", "fbs0001-s2"]));
    assert_eq!(column(&cone(0.0, 0.0, 0.1)).await, ids(&["fbs0001-s3", "fbs0001-s4"]));
    assert_eq!(column(&cone(0.0, 90.0, 0.2)).await, ids(&["fbs0002-s5", "fbs0002-s6"]));
    assert_eq!(column(&cone(180.0, 90.0, 0.05)).await.len(), 0);
    // ADQL 2.1 forms: no coordinate system, a point as centre, 1 = CONTAINS, INTERSECTS.
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE(POINT(0, 0), 0.1))").await, ids(&["2"]));
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE INTERSECTS(CIRCLE(0, 0, 0.1), POINT(ra, dec)) = 1").await, ids(&["2"]));
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE CONTAINS(POINT(ra, dec), CIRCLE(0, 0, 0.1)) = 0").await, ids(&["5"]));
    assert_eq!(column("SELECT specid FROM dfbs.spectra WHERE DISTANCE(POINT(ra, dec), POINT(0, 90)) < 0.15 ORDER BY specid").await, ids(&["fbs0002-s5", "fbs0002-s6"]));
    assert_eq!(column("SELECT specid FROM dfbs.spectra WHERE 0.15 > DISTANCE(ra, dec, 0, 90) ORDER BY specid").await, ids(&["fbs0002-s5", "fbs0002-s6"]));
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE CONTAINS(POINT(ra, dec), POLYGON(359.9, -0.1, 0.1, -0.1, 0.1, 0.1, 359.9, 0.1)) = 1").await, ids(&["2"]));
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE CONTAINS(POINT(ra, dec), POLYGON(POINT(359.9, -0.1), POINT(0.1, -0.1), POINT(0.1, 0.1))) = 1").await, ids(&["1"]));
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE CONTAINS(POINT(ra, dec), BOX(0, 0, 0.2, 0.2)) = 1").await, ids(&["2"]));
    assert_eq!(column("SELECT COUNT(*) FROM dfbs.spectra WHERE CONTAINS(POINT(ra, dec), BOX('ICRS', 10.025, 20, 0.2, 0.1)) = 1").await, ids(&["2"]));
    // Crossmatch within the catalogue: pairs closer than 0.15 degrees.
    let pairs = "SELECT a.specid, b.specid FROM dfbs.spectra AS a JOIN dfbs.spectra AS b ON CONTAINS(POINT(a.ra, a.dec), CIRCLE(b.ra, b.dec, 0.15)) = 1 WHERE a.specid < b.specid ORDER BY a.specid";
    assert_eq!(column(pairs).await, ids(&["fbs0001-s1", "fbs0001-s3"]));
    let pairs = "SELECT a.specid FROM dfbs.spectra AS a, dfbs.spectra AS b WHERE DISTANCE(POINT(a.ra, a.dec), POINT(b.ra, b.dec)) < 0.25 AND a.specid < b.specid ORDER BY 1";
    assert_eq!(column(pairs).await, ids(&["fbs0001-s1", "fbs0001-s3", "fbs0002-s5"]));
    // Distances, areas, accessors.
    assert!(close(scalar("SELECT DISTANCE(POINT(ra, dec), POINT(0.05, 0)) FROM dfbs.spectra WHERE specid = 'fbs0001-s3'").await, 0.1));
    assert!(close(scalar("SELECT DISTANCE(POINT(ra, dec), POINT(225, 89.9)) FROM dfbs.spectra WHERE specid = 'fbs0002-s5'").await, 0.2));
    let cap = 2.0 * std::f64::consts::PI * (1.0 - 1f64.to_radians().cos()) * (180.0 / std::f64::consts::PI).powi(2);
    assert!(close(scalar("SELECT AREA(CIRCLE(0, 0, 1)) FROM dfbs.plates WHERE plateid = 'fbs0001'").await, cap));
    assert!(close(scalar("SELECT COORD1(POINT(ra, dec)) FROM dfbs.spectra WHERE specid = 'fbs0001-s3'").await, 359.95));
    assert!(close(scalar("SELECT COORD2(CENTROID(CIRCLE(1, 2, 3))) FROM dfbs.plates WHERE plateid = 'fbs0001'").await, 2.0));
    assert_eq!(column("SELECT COORDSYS(POINT(ra, dec)) FROM dfbs.spectra WHERE specid = 'fbs0001-s3'").await, ids(&["ICRS"]));
    assert_eq!(column("SELECT CONTAINS(POINT(1, 1), CIRCLE(0, 0, 2)) FROM dfbs.plates WHERE plateid = 'fbs0001'").await, ids(&["1"]));
    assert_eq!(column("SELECT INTERSECTS(CIRCLE(0, 0, 1), CIRCLE(1.5, 0, 1)) FROM dfbs.plates WHERE plateid = 'fbs0001'").await, ids(&["1"]));
    assert_eq!(column("SELECT CONTAINS(CIRCLE(0, 0, 1), POLYGON(-2, -2, 2, -2, 2, 2, -2, 2)) FROM dfbs.plates WHERE plateid = 'fbs0001'").await, ids(&["1"]));
    // Geometry values come out as DALI arrays with their xtypes.
    let compiled = translate(fixture().await, "SELECT POINT(ra, dec) AS p, CIRCLE(ra, dec, 1) AS c, POLYGON(1,2, 3,4, 5,6) AS g FROM dfbs.spectra", Version::V2_1).unwrap();
    let xtypes: Vec<_> = compiled.columns.iter().map(|c| (c.xtype.as_deref(), c.arraysize.map(|a| a.to_string()))).collect();
    assert_eq!(xtypes, vec![(Some("point"), Some("2".into())), (Some("circle"), Some("3".into())), (Some("polygon"), Some("*".into()))]);
    assert_eq!(column("SELECT POINT(ra, dec) FROM dfbs.spectra WHERE specid = 'fbs0001-s1'").await, ids(&["{10,20}"]));
    assert!(error("SELECT REGION('Circle ICRS 1 2 3') FROM dfbs.plates").await.contains("REGION is not supported"));
    assert!(error("SELECT * FROM dfbs.spectra WHERE CONTAINS(POINT('GALACTIC', ra, dec), CIRCLE(0, 0, 1)) = 1").await.contains("ICRS"));
}

#[tokio::test]
async fn positional_queries_use_the_q3c_index() {
    for adql in [
        "SELECT specid FROM dfbs.spectra WHERE CONTAINS(POINT(ra, dec), CIRCLE(10, 20, 0.1)) = 1",
        "SELECT specid FROM dfbs.spectra WHERE DISTANCE(POINT(ra, dec), POINT(10, 20)) < 0.1",
        "SELECT specid FROM dfbs.spectra WHERE CONTAINS(POINT(ra, dec), POLYGON(9, 19, 11, 19, 11, 21)) = 1",
        "SELECT a.specid FROM dfbs.plates AS p JOIN dfbs.spectra AS a ON CONTAINS(POINT(a.ra, a.dec), CIRCLE(p.ra_center, p.dec_center, 0.5)) = 1",
    ] {
        let (sql, plan) = plan(adql, "SET enable_seqscan = off").await;
        assert!(plan.contains("spectra_q3c"), "{adql}\n{sql}\n{plan}");
    }
}

#[tokio::test]
async fn the_highest_anomaly_scores_are_read_from_their_index() {
    // DESC sorts NULLs last, which an ascending index read backwards cannot give; the index of
    // schema/011 is in that order, so a TOP n needs no sort of the whole table.
    let adql = "SELECT TOP 5 specid, anomaly_score FROM dfbs.spectra ORDER BY anomaly_score DESC";
    let (sql, plan) = plan(adql, "SET enable_seqscan = off; SET enable_sort = off").await;
    assert!(plan.contains("spectra_anomaly_score") && !plan.contains("Sort"), "{sql}\n{plan}");
}

/// The translated SQL of `adql` and PostgreSQL's plan for it, run as the query role after
/// `settings` (planner switches that make a usable index show).
async fn plan(adql: &str, settings: &str) -> (String, String) {
    let f = fixture().await;
    let sql = translate(f, adql, Version::V2_1).unwrap().sql;
    let client = f.database.connect_as(QUERY_ROLE).await.unwrap();
    let lines: Vec<String> = client
        .simple_query(&format!("{settings}; EXPLAIN {sql}"))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        })
        .collect();
    (sql, lines.join("\n"))
}

#[tokio::test]
async fn names_case_rules_and_tap_schema() {
    // Regular identifiers are case-insensitive, delimited ones exact.
    assert_eq!(column("SELECT SpecID FROM DFBS.Spectra WHERE SPECID = 'fbs0001-s1'").await, vec!["fbs0001-s1"]);
    assert_eq!(column("SELECT \"specid\" FROM \"dfbs\".\"spectra\" WHERE specid = 'fbs0001-s1'").await, vec!["fbs0001-s1"]);
    assert!(error("SELECT \"SpecID\" FROM dfbs.spectra").await.contains("case-sensitive"));
    // Unqualified table names resolve when unambiguous.
    assert_eq!(column("SELECT COUNT(*) FROM spectra").await, vec!["7"]);
    // TAP_SCHEMA, including the reserved column name "size".
    let published = catalog().table("dfbs", "spectra").unwrap().columns.len() as f64;
    assert_eq!(scalar("SELECT COUNT(*) FROM TAP_SCHEMA.columns WHERE table_name = 'dfbs.spectra'").await, published);
    assert_eq!(column("SELECT \"size\" FROM tap_schema.columns WHERE table_name = 'dfbs.spectra' AND column_name = 'flux'").await, vec!["136"]);
    // Aliases keep the case they were written in.
    let f = fixture().await;
    let c = translate(f, "SELECT ra AS MyRA, dec AS \"Dec J2000\" FROM dfbs.spectra", Version::V2_1).unwrap();
    assert_eq!(c.columns[0].name, "MyRA");
    assert_eq!(c.columns[1].name, "Dec J2000");
    assert_eq!(c.columns[0].unit.as_deref(), Some("deg"));
    assert_eq!(column("SELECT t.MyRA FROM (SELECT ra AS MyRA FROM dfbs.spectra WHERE specid = 'fbs0001-s1') AS t").await, vec!["10"]);
    // t.* and *.
    assert_eq!(rows("SELECT p.* FROM dfbs.plates AS p WHERE plateid = 'fbs0001'").await[0].len(), catalog().table("dfbs", "plates").unwrap().columns.len());
    // User-defined functions.
    assert_eq!(column("SELECT ivo_hasword('blue compact galaxy', 'Compact') FROM dfbs.plates WHERE plateid = 'fbs0001'").await, vec!["1"]);
    assert_eq!(column("SELECT ivo_string_agg(plateid, ',') FROM dfbs.plates").await.len(), 1);
}

#[tokio::test]
async fn errors_name_the_problem_and_its_place() {
    let e = error("SELECT mgb FROM dfbs.spectra").await;
    assert!(e.contains("there is no column mgb; did you mean magb?") && e.contains("line 1, column 8"), "{e}");
    let e = error("SELECT ra FROM dfbs.spectrum").await;
    assert!(e.contains("did you mean spectrum") || e.contains("did you mean spectra"), "{e}");
    assert!(error("SELECT ra FROM dfbs.spectra, dfbs.plates AS p, dfbs.spectra").await.contains("appears twice"));
    assert!(error("SELECT ra FROM dfbs.spectra s, dfbs.spectra s").await.contains("two tables"));
    assert!(error("SELECT x.ra FROM dfbs.spectra s").await.contains("x is not a table or alias"));
    assert!(error("SELECT plate FROM dfbs.spectra s JOIN (SELECT plateid AS plate FROM dfbs.plates) p ON s.plate = p.plate").await.contains("ambiguous"));
    assert!(error("SELECT ra FROM nope.spectra").await.contains("no schema nope"));
    assert!(error("SELECT ra + 'a' FROM dfbs.spectra").await.contains("arithmetic needs numbers"));
    assert!(error("SELECT specid FROM dfbs.spectra WHERE specid > 3").await.contains("cannot compare"));
    assert!(error("SELECT UPPER(ra) FROM dfbs.spectra").await.contains("needs a string"));
    assert!(error("SELECT SQRT(specid) FROM dfbs.spectra").await.contains("needs a number"));
    assert!(error("SELECT ivo_nope(1) FROM dfbs.spectra").await.contains("there is no function ivo_nope"));
    assert!(error("SELECT specid FROM dfbs.spectra UNION SELECT ra, dec FROM dfbs.spectra").await.contains("same number"));
    assert!(error("SELECT specid FROM dfbs.spectra UNION SELECT ra FROM dfbs.spectra").await.contains("a string on the left"));
    assert!(error("SELECT specid FROM dfbs.spectra ORDER BY 3").await.contains("position 3"));
    assert!(error("SELECT AREA(ra) FROM dfbs.spectra").await.contains("needs a geometry"));
    assert!(error("SELECT 99999999999999999999 FROM dfbs.spectra").await.contains("too large"));
    assert!(error("SELECT specid FROM dfbs.spectra WHERE specid IN (SELECT ra, dec FROM dfbs.spectra)").await.contains("one column"));
    // Syntax errors come from the parser, with their position.
    assert!(error("SELECT ra FORM dfbs.spectra").await.contains("line 1"));
}

#[tokio::test]
async fn the_row_limit_and_top_combine() {
    let f = fixture().await;
    let context = Context { catalog: &f.catalog, uploads: &[], functions: &f.functions };
    let limited = |adql: &str, limit: u64| compile(adql, Version::V2_1, &context, &Options { row_limit: Some(limit) }).unwrap().sql;
    assert!(limited("SELECT specid FROM dfbs.spectra", 4).ends_with("LIMIT 4"));
    assert!(limited("SELECT TOP 2 specid FROM dfbs.spectra", 4).ends_with("LIMIT 2"));
    assert!(limited("SELECT TOP 10 specid FROM dfbs.spectra", 4).ends_with("LIMIT 4"));
    let sql = limited("SELECT specid FROM dfbs.spectra UNION SELECT plateid FROM dfbs.plates", 3);
    let client = f.database.connect_as(QUERY_ROLE).await.unwrap();
    let n = client.simple_query(&sql).await.unwrap().into_iter().filter(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_))).count();
    assert_eq!(n, 3);
}

#[tokio::test]
async fn adql_2_0_mode() {
    let f = fixture().await;
    assert!(translate(f, "SELECT TOP 1 specid FROM dfbs.spectra WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 10, 20, 1)) = 1", Version::V2_0).is_ok());
    assert!(translate(f, "SELECT specid FROM dfbs.spectra OFFSET 2", Version::V2_0).is_err());
    assert!(translate(f, "SELECT specid FROM dfbs.spectra WHERE specid ILIKE 'x'", Version::V2_0).is_err());
}
