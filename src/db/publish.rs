//! Publishing the catalogue: TAP_SCHEMA rewritten from tap/, and the query role's grants set
//! to exactly the published columns, in one transaction after the check that the database
//! holds what tap/ declares.

use tokio_postgres::types::ToSql;

use super::{quote_ident, verify_catalog, DbError, QUERY_ROLE};
use crate::catalog::tap_schema::TapSchemaRows;
use crate::catalog::Catalog;

pub async fn publish_catalog(client: &mut tokio_postgres::Client, catalog: &Catalog) -> Result<(), DbError> {
    let tx = client.transaction().await?;
    verify_catalog(&tx, catalog).await?;
    write_tap_schema(&tx, &TapSchemaRows::from_catalog(catalog)).await?;
    grant_published(&tx, catalog).await?;
    tx.commit().await?;
    Ok(())
}

async fn write_tap_schema(tx: &tokio_postgres::Transaction<'_>, rows: &TapSchemaRows) -> Result<(), DbError> {
    tx.batch_execute(
        "DELETE FROM tap_schema.key_columns; DELETE FROM tap_schema.keys; DELETE FROM tap_schema.columns;
         DELETE FROM tap_schema.tables; DELETE FROM tap_schema.schemas;",
    )
    .await?;
    let insert = tx
        .prepare("INSERT INTO tap_schema.schemas (schema_name, utype, description, schema_index) VALUES ($1, $2, $3, $4)")
        .await?;
    for r in &rows.schemas {
        tx.execute(&insert, &[&r.schema_name, &r.utype, &r.description, &r.schema_index]).await?;
    }
    let insert = tx
        .prepare(
            "INSERT INTO tap_schema.tables (schema_name, table_name, table_type, utype, description, table_index)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await?;
    for r in &rows.tables {
        tx.execute(&insert, &[&r.schema_name, &r.table_name, &r.table_type, &r.utype, &r.description, &r.table_index])
            .await?;
    }
    let insert = tx
        .prepare(
            "INSERT INTO tap_schema.columns (table_name, column_name, utype, ucd, unit, description, datatype,
                arraysize, xtype, \"size\", principal, indexed, std, column_index)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .await?;
    for r in &rows.columns {
        let params: [&(dyn ToSql + Sync); 14] = [
            &r.table_name,
            &r.column_name,
            &r.utype,
            &r.ucd,
            &r.unit,
            &r.description,
            &r.datatype,
            &r.arraysize,
            &r.xtype,
            &r.size,
            &r.principal,
            &r.indexed,
            &r.std,
            &r.column_index,
        ];
        tx.execute(&insert, &params).await?;
    }
    let insert = tx
        .prepare("INSERT INTO tap_schema.keys (key_id, from_table, target_table, utype, description) VALUES ($1, $2, $3, $4, $5)")
        .await?;
    for r in &rows.keys {
        tx.execute(&insert, &[&r.key_id, &r.from_table, &r.target_table, &r.utype, &r.description]).await?;
    }
    let insert = tx
        .prepare("INSERT INTO tap_schema.key_columns (key_id, from_column, target_column) VALUES ($1, $2, $3)")
        .await?;
    for r in &rows.key_columns {
        tx.execute(&insert, &[&r.key_id, &r.from_column, &r.target_column]).await?;
    }
    Ok(())
}

/// The query role may read exactly the published columns: all earlier grants on the
/// published schemas' tables are revoked, then SELECT is granted column by column. Tables
/// (and columns) that tap/ does not publish stay unreadable to user queries.
async fn grant_published(tx: &tokio_postgres::Transaction<'_>, catalog: &Catalog) -> Result<(), DbError> {
    let role = quote_ident(QUERY_ROLE);
    let mut sql = String::new();
    for schema in catalog.schemas() {
        let s = quote_ident(&schema.name);
        sql.push_str(&format!("GRANT USAGE ON SCHEMA {s} TO {role};\n"));
        sql.push_str(&format!("REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {role};\n"));
        for table in &schema.tables {
            let columns: Vec<String> = table.columns.iter().map(|c| quote_ident(&c.name)).collect();
            sql.push_str(&format!(
                "GRANT SELECT ({}) ON {s}.{} TO {role};\n",
                columns.join(", "),
                quote_ident(&table.name)
            ));
        }
    }
    tx.batch_execute(&sql).await?;
    Ok(())
}
