//! TAP_SCHEMA 1.1 (TAP 1.1, section 4) rendered from the catalogue: the rows of
//! tap_schema.schemas, tables, columns, keys and key_columns.

use super::model::Catalog;

#[derive(Debug, Clone, PartialEq)]
pub struct SchemaRow {
    pub schema_name: String,
    pub utype: Option<String>,
    pub description: Option<String>,
    pub schema_index: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub schema_name: String,
    pub table_name: String,
    pub table_type: String,
    pub utype: Option<String>,
    pub description: Option<String>,
    pub table_index: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRow {
    pub table_name: String,
    pub column_name: String,
    pub utype: Option<String>,
    pub ucd: Option<String>,
    pub unit: Option<String>,
    pub description: Option<String>,
    pub datatype: String,
    pub arraysize: Option<String>,
    pub xtype: Option<String>,
    pub size: Option<i32>,
    pub principal: i32,
    pub indexed: i32,
    pub std: i32,
    pub column_index: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyRow {
    pub key_id: String,
    pub from_table: String,
    pub target_table: String,
    pub utype: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyColumnRow {
    pub key_id: String,
    pub from_column: String,
    pub target_column: String,
}

/// The full content of TAP_SCHEMA for a catalogue.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TapSchemaRows {
    pub schemas: Vec<SchemaRow>,
    pub tables: Vec<TableRow>,
    pub columns: Vec<ColumnRow>,
    pub keys: Vec<KeyRow>,
    pub key_columns: Vec<KeyColumnRow>,
}

/// Empty strings are published as NULL, which is what clients expect for "not given".
fn non_empty(value: &Option<String>) -> Option<String> {
    value.as_ref().filter(|v| !v.is_empty()).cloned()
}

impl TapSchemaRows {
    pub fn from_catalog(catalog: &Catalog) -> TapSchemaRows {
        let mut rows = TapSchemaRows::default();
        for schema in catalog.schemas() {
            rows.schemas.push(SchemaRow {
                schema_name: schema.name.clone(),
                utype: non_empty(&schema.utype),
                description: Some(schema.description.clone()),
                schema_index: schema.schema_index,
            });
            for table in &schema.tables {
                let table_name = table.qualified_name();
                rows.tables.push(TableRow {
                    schema_name: schema.name.clone(),
                    table_name: table_name.clone(),
                    table_type: table.table_type.as_str().to_string(),
                    utype: non_empty(&table.utype),
                    description: Some(table.description.clone()),
                    table_index: table.table_index,
                });
                for column in &table.columns {
                    rows.columns.push(ColumnRow {
                        table_name: table_name.clone(),
                        column_name: column.published_name(),
                        utype: non_empty(&column.utype),
                        ucd: non_empty(&column.ucd),
                        unit: non_empty(&column.unit),
                        description: Some(column.description.clone()),
                        datatype: column.datatype.as_str().to_string(),
                        arraysize: column.arraysize.map(|a| a.to_string()),
                        xtype: non_empty(&column.xtype),
                        size: column.arraysize.and_then(|a| a.fixed_length()).map(|n| n as i32),
                        principal: column.principal as i32,
                        indexed: column.indexed as i32,
                        std: column.std as i32,
                        column_index: Some(column.column_index),
                    });
                }
                for key in &table.foreign_keys {
                    rows.keys.push(KeyRow {
                        key_id: key.key_id.clone(),
                        from_table: table_name.clone(),
                        target_table: key.target_table.clone(),
                        utype: non_empty(&key.utype),
                        description: non_empty(&key.description),
                    });
                    for (from, to) in &key.columns {
                        rows.key_columns.push(KeyColumnRow {
                            key_id: key.key_id.clone(),
                            from_column: from.clone(),
                            target_column: to.clone(),
                        });
                    }
                }
            }
        }
        rows
    }
}
