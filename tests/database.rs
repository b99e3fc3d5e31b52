//! The catalogue database against a real PostgreSQL 15 + q3c: migrations, TAP_SCHEMA,
//! the q3c index, and what the read-only and ingest roles can and cannot do.

mod common;

use std::path::PathBuf;

use common::*;
use dfbs_vo::catalog::tap_schema::{ColumnRow, KeyColumnRow, KeyRow, SchemaRow, TableRow, TapSchemaRows};
use dfbs_vo::catalog::Catalog;
use dfbs_vo::db::{load_migrations, migrate, publish_catalog, verify_catalog, DbError, INGEST_ROLE, QUERY_ROLE};

#[tokio::test]
async fn migrations_apply_from_empty_and_only_once() {
    let database = fresh_database("t_migrations").await;
    let migrations = load_migrations(&project_dir().join("schema")).unwrap();
    let mut client = database.connect_admin().await.unwrap();
    let first = migrate(&mut client, &migrations).await.unwrap();
    assert_eq!(first.applied.len(), migrations.len());
    assert!(first.applied[0].starts_with("001_"));
    let second = migrate(&mut client, &migrations).await.unwrap();
    assert!(second.applied.is_empty());
    assert_eq!(second.already_applied, migrations.len());
    let q3c: i64 = client.query_one("SELECT count(*) FROM pg_extension WHERE extname = 'q3c'", &[]).await.unwrap().get(0);
    assert_eq!(q3c, 1);
}

#[tokio::test]
async fn an_edited_migration_is_refused() {
    let database = fresh_database("t_edited_migration").await;
    let mut migrations = load_migrations(&project_dir().join("schema")).unwrap();
    let mut client = database.connect_admin().await.unwrap();
    migrate(&mut client, &migrations).await.unwrap();
    migrations[1].checksum = "0".repeat(64);
    let err = migrate(&mut client, &migrations).await.unwrap_err().to_string();
    assert!(err.contains("was changed after it was applied"), "{err}");
}

#[tokio::test]
async fn tap_schema_matches_tap_dir() {
    let database = catalogue_database("t_tap_schema").await;
    let client = database.connect_admin().await.unwrap();
    let expected = TapSchemaRows::from_catalog(&catalog());

    let mut actual = TapSchemaRows::default();
    for r in client.query("SELECT schema_name, utype, description, schema_index FROM tap_schema.schemas ORDER BY schema_index", &[]).await.unwrap() {
        actual.schemas.push(SchemaRow { schema_name: r.get(0), utype: r.get(1), description: r.get(2), schema_index: r.get(3) });
    }
    for r in client
        .query("SELECT schema_name, table_name, table_type, utype, description, table_index FROM tap_schema.tables ORDER BY table_index", &[])
        .await
        .unwrap()
    {
        actual.tables.push(TableRow {
            schema_name: r.get(0),
            table_name: r.get(1),
            table_type: r.get(2),
            utype: r.get(3),
            description: r.get(4),
            table_index: r.get(5),
        });
    }
    for r in client
        .query(
            "SELECT c.table_name, column_name, c.utype, ucd, unit, c.description, datatype, arraysize, xtype, \"size\",
                    principal, indexed, std, column_index
               FROM tap_schema.columns c JOIN tap_schema.tables t USING (table_name)
              ORDER BY t.table_index, column_index",
            &[],
        )
        .await
        .unwrap()
    {
        actual.columns.push(ColumnRow {
            table_name: r.get(0),
            column_name: r.get(1),
            utype: r.get(2),
            ucd: r.get(3),
            unit: r.get(4),
            description: r.get(5),
            datatype: r.get(6),
            arraysize: r.get(7),
            xtype: r.get(8),
            size: r.get(9),
            principal: r.get(10),
            indexed: r.get(11),
            std: r.get(12),
            column_index: r.get(13),
        });
    }
    for r in client
        .query("SELECT k.key_id, from_table, target_table, k.utype, k.description FROM tap_schema.keys k JOIN tap_schema.tables t ON t.table_name = k.from_table ORDER BY t.table_index, key_id", &[])
        .await
        .unwrap()
    {
        actual.keys.push(KeyRow { key_id: r.get(0), from_table: r.get(1), target_table: r.get(2), utype: r.get(3), description: r.get(4) });
    }
    for r in client
        .query("SELECT kc.key_id, from_column, target_column FROM tap_schema.key_columns kc JOIN tap_schema.keys k USING (key_id) JOIN tap_schema.tables t ON t.table_name = k.from_table ORDER BY t.table_index, key_id", &[])
        .await
        .unwrap()
    {
        actual.key_columns.push(KeyColumnRow { key_id: r.get(0), from_column: r.get(1), target_column: r.get(2) });
    }
    assert_eq!(actual.schemas, expected.schemas);
    assert_eq!(actual.tables, expected.tables);
    assert_eq!(actual.columns, expected.columns);
    assert_eq!(actual.keys, expected.keys);
    assert_eq!(actual.key_columns, expected.key_columns);
    // TAP 1.1 section 4: TAP_SCHEMA describes itself, and the DFBS tables are there.
    assert!(actual.tables.iter().any(|t| t.table_name == "tap_schema.columns"));
    let flux = actual.columns.iter().find(|c| c.table_name == "dfbs.spectra" && c.column_name == "flux").unwrap();
    assert_eq!((flux.datatype.as_str(), flux.arraysize.as_deref(), flux.size), ("float", Some("136"), Some(136)));
    let date_obs = actual.columns.iter().find(|c| c.column_name == "date_obs").unwrap();
    assert_eq!(date_obs.xtype.as_deref(), Some("timestamp"));
}

/// Metadata that names a column the database lacks, or a type it cannot carry, is refused.
#[tokio::test]
async fn a_disagreement_between_database_and_tap_is_refused() {
    let database = catalogue_database("t_disagreement").await;
    let mut client = database.connect_admin().await.unwrap();
    let text = std::fs::read_to_string(project_dir().join("tap/dfbs.toml")).unwrap();
    let tap_schema = std::fs::read_to_string(project_dir().join("tap/tap_schema.toml")).unwrap();
    let load = |dfbs: String| {
        Catalog::from_sources(&[(PathBuf::from("dfbs.toml"), dfbs), (PathBuf::from("tap_schema.toml"), tap_schema.clone())]).unwrap()
    };

    // A published column that does not exist.
    let extra = text.replace("name = \"magr\"", "name = \"magv\"");
    let err = publish_catalog(&mut client, &load(extra)).await.unwrap_err();
    assert!(matches!(err, DbError::Disagreement(_)));
    assert!(err.to_string().contains("dfbs.spectra.magv does not exist"), "{err}");

    // A type the database column cannot carry (snr is real, not a long).
    let wrong_type = text.replacen("name = \"snr\"\n  datatype = \"float\"", "name = \"snr\"\n  datatype = \"long\"", 1);
    let err = publish_catalog(&mut client, &load(wrong_type)).await.unwrap_err().to_string();
    assert!(err.contains("dfbs.spectra.snr is declared long but the database column is float4"), "{err}");

    // A column claimed indexed without an index.
    let unindexed = text.replacen("name = \"magb\"\n  datatype = \"float\"", "name = \"magb\"\n  datatype = \"float\"\n  indexed = true", 1);
    let err = publish_catalog(&mut client, &load(unindexed)).await.unwrap_err().to_string();
    assert!(err.contains("magb is declared indexed but no index covers it"), "{err}");

    // A column dropped from the database.
    client.batch_execute("ALTER TABLE dfbs.spectra DROP COLUMN magr").await.unwrap();
    let err = verify_catalog(&client, &catalog()).await.unwrap_err().to_string();
    assert!(err.contains("dfbs.spectra.magr does not exist"), "{err}");
}

async fn insert_plate(client: &tokio_postgres::Client, plateid: &str) {
    client
        .execute("INSERT INTO dfbs.plates (plateid, ra_center, dec_center, source_file) VALUES ($1, 30, 20, '/secret/path.fits')", &[&plateid])
        .await
        .unwrap();
}

#[tokio::test]
async fn cone_queries_use_the_q3c_index() {
    let database = catalogue_database("t_q3c").await;
    let client = database.connect_admin().await.unwrap();
    insert_plate(&client, "fbs0001").await;
    // 50,000 spectra spread over a 4 x 4 degree plate: enough for the planner to prefer
    // the index for a 1 arcmin cone.
    client
        .batch_execute(
            "INSERT INTO dfbs.spectra (specid, objectid, plate, ra, dec)
             SELECT 'fbs0001-' || i, 'obj' || i, 'fbs0001', 28 + 4 * random(), 18 + 4 * random()
               FROM generate_series(1, 50000) AS i;
             ANALYZE dfbs.spectra;",
        )
        .await
        .unwrap();
    let plan: Vec<String> = client
        .query("EXPLAIN SELECT specid FROM dfbs.spectra WHERE q3c_radial_query(ra, dec, 30.0, 20.0, 1.0/60)", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let plan = plan.join("\n");
    assert!(plan.contains("spectra_q3c"), "the cone query does not use the q3c index:\n{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
    // The index answers correctly: every returned row is inside the cone.
    let rows = client
        .query(
            "SELECT q3c_dist(ra, dec, 30.0, 20.0) FROM dfbs.spectra WHERE q3c_radial_query(ra, dec, 30.0, 20.0, 0.1)",
            &[],
        )
        .await
        .unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.get::<_, f64>(0) <= 0.1));
}

#[tokio::test]
async fn the_query_role_reads_published_columns_only_and_never_writes() {
    let database = catalogue_database("t_query_role").await;
    let admin = database.connect_admin().await.unwrap();
    insert_plate(&admin, "fbs0002").await;
    let query = database.connect_as(QUERY_ROLE).await.unwrap();

    // Published tables and columns are readable.
    let plates: i64 = query.query_one("SELECT count(plateid) FROM dfbs.plates", &[]).await.unwrap().get(0);
    assert_eq!(plates, 1);
    query.query("SELECT specid, ra, dec, flux FROM dfbs.spectra", &[]).await.unwrap();
    query.query("SELECT column_name FROM tap_schema.columns", &[]).await.unwrap();
    query.query("SELECT q3c_dist(0, 0, 1, 1)", &[]).await.unwrap();

    let denied = |result: Result<Vec<tokio_postgres::Row>, tokio_postgres::Error>, what: &str| {
        let error = result.expect_err(what);
        let code = error.code().map(|c| c.code().to_string()).unwrap_or_default();
        // 42501 insufficient_privilege, 25006 read_only_sql_transaction
        assert!(code == "42501" || code == "25006", "{what}: unexpected error {error}");
    };
    // An unpublished column, an unpublished table.
    denied(query.query("SELECT source_file FROM dfbs.plates", &[]).await, "unpublished column");
    denied(query.query("SELECT * FROM dfbs_service.schema_migrations", &[]).await, "unpublished table");
    // No writes: not by default (read-only transactions), not after switching that off.
    denied(query.query("INSERT INTO dfbs.plates (plateid) VALUES ('x')", &[]).await, "insert");
    query.batch_execute("SET default_transaction_read_only = off").await.unwrap();
    denied(query.query("INSERT INTO dfbs.plates (plateid) VALUES ('x')", &[]).await, "insert after read-only off");
    denied(query.query("UPDATE dfbs.spectra SET ra = 0", &[]).await, "update");
    denied(query.query("DELETE FROM tap_schema.columns", &[]).await, "delete");
    denied(query.query("CREATE TABLE dfbs.mine (x int)", &[]).await, "create table");
    denied(query.query("CREATE TABLE public.mine (x int)", &[]).await, "create table in public");
    denied(query.query("CREATE TEMP TABLE mine (x int)", &[]).await, "create temporary table");
    // A statement timeout is set for the role.
    let timeout: String = database.connect_as(QUERY_ROLE).await.unwrap().query_one("SHOW statement_timeout", &[]).await.unwrap().get(0);
    assert_ne!(timeout, "0");
}

#[tokio::test]
async fn the_ingest_role_writes_the_catalogue_but_not_its_metadata() {
    let database = catalogue_database("t_ingest_role").await;
    let ingest = database.connect_as(INGEST_ROLE).await.unwrap();
    insert_plate(&ingest, "fbs0003").await;
    ingest
        .execute("INSERT INTO dfbs.spectra (specid, objectid, plate, ra, dec) VALUES ('fbs0003-a', 'a', 'fbs0003', 1, 2)", &[])
        .await
        .unwrap();
    assert!(ingest.execute("DELETE FROM tap_schema.columns", &[]).await.is_err());
    assert!(ingest.execute("CREATE TABLE dfbs.mine (x int)", &[]).await.is_err());
}

#[tokio::test]
async fn the_catalogue_refuses_impossible_values() {
    let database = catalogue_database("t_constraints").await;
    let client = database.connect_admin().await.unwrap();
    insert_plate(&client, "fbs0004").await;
    let insert = |ra: f64, dec: f64, quality: &'static str| {
        let client = &client;
        async move {
            client
                .execute(
                    "INSERT INTO dfbs.spectra (specid, objectid, plate, ra, dec, sp_class) VALUES (gen_random_uuid()::text, 'o', 'fbs0004', $1, $2, $3)",
                    &[&ra, &dec, &quality],
                )
                .await
        }
    };
    assert!(insert(10.0, 10.0, "OK").await.is_ok());
    assert!(insert(360.0, 10.0, "OK").await.is_err());
    assert!(insert(10.0, 91.0, "OK").await.is_err());
    assert!(insert(10.0, 10.0, "bad").await.is_err());
    let wrong_length = client
        .execute("INSERT INTO dfbs.spectra (specid, objectid, plate, ra, dec, flux) VALUES ('f', 'o', 'fbs0004', 1, 1, '{1,2,3}')", &[])
        .await;
    assert!(wrong_length.is_err(), "flux must have the 136 bins of the DFBS grid");
}

/// Removing a column from tap/ and publishing again takes the query role's right to read it.
#[tokio::test]
async fn unpublishing_a_column_revokes_it() {
    let database = catalogue_database("t_unpublish").await;
    let mut admin = database.connect_admin().await.unwrap();
    let query = database.connect_as(QUERY_ROLE).await.unwrap();
    query.query("SELECT magr FROM dfbs.spectra", &[]).await.expect("published column readable");

    let text = std::fs::read_to_string(project_dir().join("tap/dfbs.toml")).unwrap();
    let start = text.find("  [[tables.columns]]\n  name = \"magr\"").unwrap();
    let end = start + 4 + text[start + 4..].find("  [[tables.columns]]").unwrap();
    let without_magr = format!("{}{}", &text[..start], &text[end..]);
    let tap_schema = std::fs::read_to_string(project_dir().join("tap/tap_schema.toml")).unwrap();
    let catalog = Catalog::from_sources(&[(PathBuf::from("dfbs.toml"), without_magr), (PathBuf::from("tap_schema.toml"), tap_schema)]).unwrap();
    publish_catalog(&mut admin, &catalog).await.unwrap();

    let error = query.query("SELECT magr FROM dfbs.spectra", &[]).await.expect_err("unpublished column must not be readable");
    assert_eq!(error.code().map(|c| c.code()), Some("42501"), "{error}");
    query.query("SELECT magb FROM dfbs.spectra", &[]).await.expect("the others stay readable");
    let listed: i64 = admin
        .query_one("SELECT count(*) FROM tap_schema.columns WHERE column_name = 'magr'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(listed, 0);
}

/// With database.role_password set (external servers that authenticate by password), the
/// migration gives the service roles that password, quoted safely.
#[tokio::test]
async fn role_passwords_are_set_when_configured() {
    fresh_database("t_role_password").await;
    let url = cluster().connection_params(dfbs_vo::db::ADMIN_USER, "t_role_password");
    let config = dfbs_vo::config::Config::load_with_env(
        &project_dir(),
        &[("DATABASE_URL".into(), url), ("DFBS__DATABASE__ROLE_PASSWORD".into(), "it's; secret".into())],
    )
    .unwrap();
    let database = dfbs_vo::db::Database::from_config(&config).unwrap();
    database.migrate_and_publish(&project_dir().join("schema"), &catalog()).await.unwrap();
    let client = database.connect_admin().await.unwrap();
    let hashed: Option<String> = client
        .query_one("SELECT rolpassword FROM pg_authid WHERE rolname = $1", &[&QUERY_ROLE])
        .await
        .unwrap()
        .get(0);
    assert!(hashed.is_some_and(|h| h.starts_with("SCRAM-SHA-256$")));
}
