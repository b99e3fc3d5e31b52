//! Does the database hold what tap/ publishes? Every published table and column must exist
//! with a type that the declared VOTable datatype can carry, and every column declared
//! `indexed` must be covered by an index. `db migrate` refuses to publish otherwise.

use std::collections::HashMap;

use tokio_postgres::GenericClient;

use super::DbError;
use crate::catalog::{ArraySize, Catalog, Column, Datatype};

/// Lists every disagreement between `catalog` and the database; Ok when there is none.
pub async fn verify_catalog<C: GenericClient>(client: &C, catalog: &Catalog) -> Result<(), DbError> {
    let schemas: Vec<String> = catalog.schemas().iter().map(|s| s.name.clone()).collect();
    let mut types: HashMap<(String, String, String), String> = HashMap::new();
    for row in client
        .query(
            "SELECT table_schema::text, table_name::text, column_name::text, udt_name::text
               FROM information_schema.columns WHERE table_schema = ANY($1)",
            &[&schemas],
        )
        .await?
    {
        types.insert((row.get(0), row.get(1), row.get(2)), row.get(3));
    }
    let mut index_defs: HashMap<(String, String), Vec<String>> = HashMap::new();
    for row in client
        .query("SELECT schemaname::text, tablename::text, indexdef FROM pg_indexes WHERE schemaname = ANY($1)", &[&schemas])
        .await?
    {
        index_defs.entry((row.get(0), row.get(1))).or_default().push(row.get(2));
    }

    let mut problems = Vec::new();
    for table in catalog.tables() {
        let qualified = table.qualified_name();
        let exists = types.keys().any(|(s, t, _)| *s == table.schema && *t == table.name);
        if !exists {
            problems.push(format!("published table {qualified} does not exist in the database"));
            continue;
        }
        for column in &table.columns {
            let key = (table.schema.clone(), table.name.clone(), column.name.clone());
            match types.get(&key) {
                None => problems.push(format!("published column {qualified}.{} does not exist in the database", column.name)),
                Some(udt) if !type_fits(column, udt) => problems.push(format!(
                    "{qualified}.{} is declared {}{} but the database column is {udt}",
                    column.name,
                    column.datatype,
                    column.arraysize.map(|a| format!("[{a}]")).unwrap_or_default()
                )),
                Some(_) => {}
            }
            if column.indexed {
                let defs = index_defs.get(&(table.schema.clone(), table.name.clone()));
                let covered = defs.is_some_and(|defs| defs.iter().any(|d| index_mentions(d, &column.name)));
                if !covered {
                    problems.push(format!("{qualified}.{} is declared indexed but no index covers it", column.name));
                }
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(DbError::Disagreement(problems)) }
}

/// Can a PostgreSQL column of type `udt` (information_schema udt_name; arrays start with
/// '_') be published with the column's VOTable datatype?
fn type_fits(column: &Column, udt: &str) -> bool {
    let (is_array, base) = match udt.strip_prefix('_') {
        Some(base) => (true, base),
        None => (false, udt),
    };
    let character = column.datatype.is_character();
    // Character data is an array of characters in VOTable, never a PostgreSQL array.
    if character {
        if is_array {
            return false;
        }
        return match column.xtype.as_deref() {
            Some("timestamp") => matches!(base, "timestamp" | "timestamptz" | "date"),
            _ => matches!(base, "text" | "varchar" | "bpchar" | "json" | "jsonb" | "name"),
        };
    }
    let wants_array = matches!(column.arraysize, Some(ArraySize::Fixed(_) | ArraySize::AtMost(_) | ArraySize::Variable));
    if wants_array != is_array {
        return false;
    }
    match column.datatype {
        Datatype::Boolean => base == "bool",
        Datatype::UnsignedByte | Datatype::Short => base == "int2",
        Datatype::Int => base == "int4",
        Datatype::Long => base == "int8",
        Datatype::Float => base == "float4",
        Datatype::Double => matches!(base, "float8" | "numeric"),
        Datatype::Char | Datatype::UnicodeChar => false,
    }
}

/// Whether an index definition (pg_indexes.indexdef) names the column in its key.
fn index_mentions(indexdef: &str, column: &str) -> bool {
    let key = indexdef.split_once(" USING ").map(|(_, k)| k).unwrap_or(indexdef);
    key.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).any(|word| word == column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_definitions_are_read_by_word() {
        let def = "CREATE INDEX spectra_q3c ON dfbs.spectra USING btree (q3c_ang2ipix(ra, dec))";
        assert!(index_mentions(def, "ra"));
        assert!(index_mentions(def, "dec"));
        assert!(!index_mentions(def, "spectra"));
        assert!(!index_mentions(def, "r"));
    }
}
