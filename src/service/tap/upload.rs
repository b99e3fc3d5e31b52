//! Table uploads (TAP 1.1 section 2.5.6, DALI 1.1 section 3.4.5): UPLOAD=name,param:part
//! names a VOTable sent inline in a multipart request. Each query gets a private schema in
//! which its uploads are loaded with COPY, readable by the query role, dropped when the
//! query ends. Fetching tables from URLs is refused: a service that fetches what a request
//! names can be turned against other hosts (SSRF).

use actix_web::web::Bytes;

use super::params::ParamError;
use crate::adql::UploadTable;
use crate::catalog::{ArraySize, Column, Datatype, Table, TableType};
use crate::config::{LimitsConfig, UploadUrls};
use crate::db::{quote_ident, QUERY_ROLE};
use crate::votable::{read_table, Cell};

/// One `name,URI` of the UPLOAD parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadSpec {
    /// The table name in ADQL: TAP_UPLOAD.<name>.
    pub table: String,
    pub source: UploadSource,
}

/// Where an uploaded table is.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadSource {
    /// `param:NAME`: the multipart part NAME of the request.
    Part(String),
    /// An http(s) URL (fetched under the rules of [`super::fetch`]).
    Url(String),
}

/// Parses UPLOAD: `name,URI[;name,URI...]`.
pub fn parse_upload_param(value: &str) -> Result<Vec<UploadSpec>, ParamError> {
    let mut specs = Vec::new();
    for item in value.split(';').map(str::trim).filter(|i| !i.is_empty()) {
        let (name, uri) = item
            .split_once(',')
            .ok_or_else(|| ParamError(format!("UPLOAD={item} is not of the form table_name,URI (e.g. UPLOAD=mine,param:table1)")))?;
        let name = name.trim();
        let regular = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !regular {
            return Err(ParamError(format!("UPLOAD table name {name:?} must be an ADQL regular identifier (letters, digits, _)")));
        }
        if specs.iter().any(|s: &UploadSpec| s.table.eq_ignore_ascii_case(name)) {
            return Err(ParamError(format!("UPLOAD names the table {name} twice")));
        }
        let uri = uri.trim();
        let source = match uri.split_once(':') {
            Some((scheme, part)) if scheme.eq_ignore_ascii_case("param") && !part.is_empty() => UploadSource::Part(part.to_string()),
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") => UploadSource::Url(uri.to_string()),
            _ => return Err(ParamError(format!("UPLOAD of {name}: {uri} is neither param:PART nor an http URL"))),
        };
        specs.push(UploadSpec { table: name.to_string(), source });
    }
    Ok(specs)
}

/// Uploads loaded for one query; [`LoadedUploads::drop_schema`] removes them.
pub struct LoadedUploads {
    pub tables: Vec<UploadTable>,
    schema: Option<String>,
}

impl LoadedUploads {
    pub fn none() -> LoadedUploads {
        LoadedUploads { tables: Vec::new(), schema: None }
    }

    /// Drops the query's upload schema (with its tables).
    pub async fn drop_schema(self, pool: &deadpool_postgres::Pool) {
        if let Some(schema) = self.schema {
            match pool.get().await {
                Ok(client) => {
                    if let Err(error) = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", quote_ident(&schema))).await {
                        tracing::warn!(%schema, %error, "cannot drop an upload schema");
                    }
                }
                Err(error) => tracing::warn!(%schema, %error, "cannot drop an upload schema"),
            }
        }
    }
}

/// The PostgreSQL type of an uploaded column.
fn sql_type(column: &Column) -> &'static str {
    let array = column.arraysize.is_some() && !column.datatype.is_character();
    match (column.xtype.as_deref(), column.datatype, array) {
        (Some("timestamp"), _, _) => "timestamp",
        (_, Datatype::Char | Datatype::UnicodeChar, _) => "text",
        (_, Datatype::Boolean, false) => "boolean",
        (_, Datatype::UnsignedByte | Datatype::Short, false) => "smallint",
        (_, Datatype::Int, false) => "integer",
        (_, Datatype::Long, false) => "bigint",
        (_, Datatype::Float, false) => "real",
        (_, Datatype::Double, false) => "double precision",
        (_, Datatype::Float, true) => "real[]",
        // Arrays of other types become double arrays (ADQL has no integer arrays to offer).
        (_, _, true) => "double precision[]",
    }
}

/// The metadata of an uploaded column as the query sees it: arrays other than float ones
/// are double arrays in the database, and so announced.
fn published(mut column: Column) -> Column {
    let array = column.arraysize.is_some() && !column.datatype.is_character();
    if array && column.datatype != Datatype::Float {
        column.datatype = Datatype::Double;
    }
    if column.datatype == Datatype::UnsignedByte && !array {
        column.datatype = Datatype::Short;
    }
    if column.datatype.is_character() && column.arraysize.is_none() {
        column.arraysize = Some(ArraySize::Variable);
    }
    column
}

/// Text COPY format (PostgreSQL COPY, text format): tab-separated, \N for NULL, backslash
/// escapes.
fn copy_text(cell: &Cell, out: &mut String) {
    fn escape(text: &str, out: &mut String) {
        for c in text.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\0' => {}
                c => out.push(c),
            }
        }
    }
    fn array<T: std::fmt::Display>(values: &[Option<T>], out: &mut String) {
        out.push('{');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match v {
                Some(v) => out.push_str(&v.to_string()),
                None => out.push_str("NULL"),
            }
        }
        out.push('}');
    }
    match cell {
        Cell::Null => out.push_str("\\N"),
        Cell::Boolean(b) => out.push(if *b { 't' } else { 'f' }),
        Cell::Short(v) => out.push_str(&v.to_string()),
        Cell::Int(v) => out.push_str(&v.to_string()),
        Cell::Long(v) => out.push_str(&v.to_string()),
        Cell::Float(v) if v.is_nan() => out.push_str("\\N"),
        Cell::Float(v) => out.push_str(&v.to_string()),
        Cell::Double(v) if v.is_nan() => out.push_str("\\N"),
        Cell::Double(v) => out.push_str(&v.to_string()),
        Cell::Text(t) => escape(t, out),
        Cell::Timestamp(t) => out.push_str(&t.format("%Y-%m-%d %H:%M:%S%.f").to_string()),
        Cell::FloatArray(values) => array(values, out),
        Cell::DoubleArray(values) => array(values, out),
    }
}

/// Parses the uploaded VOTables and loads them into a new private schema.
pub async fn load(
    pool: &deadpool_postgres::Pool,
    specs: &[UploadSpec],
    parts: &[(String, Bytes)],
    limits: &LimitsConfig,
) -> Result<LoadedUploads, String> {
    if specs.is_empty() {
        return Ok(LoadedUploads::none());
    }
    let mut parsed = Vec::new();
    for spec in specs {
        let fetched;
        let data = match &spec.source {
            UploadSource::Part(part) => parts
                .iter()
                .find(|(name, _)| name == part)
                .map(|(_, d)| d)
                .ok_or_else(|| format!("UPLOAD names the part {part} for table {}, but the request has no such part", spec.table))?,
            UploadSource::Url(url) => {
                if limits.upload_urls == UploadUrls::Off {
                    return Err(format!("UPLOAD of {} from {url}: this service does not fetch tables from URLs; send the table inline", spec.table));
                }
                fetched = super::fetch::fetch(url, limits.upload_max_bytes).await?;
                &fetched
            }
        };
        let table = read_table(data, limits.upload_max_rows)
            .map_err(|e| format!("the uploaded table {} is not a VOTable this service can read: {e}", spec.table))?;
        if table.columns.is_empty() {
            return Err(format!("the uploaded table {} has no columns", spec.table));
        }
        parsed.push((spec, table));
    }
    let mut client = pool.get().await.map_err(|e| format!("the database is not available for uploads: {e}"))?;
    let schema: String = client
        .query_one("SELECT 'tap_upload_' || replace(gen_random_uuid()::text, '-', '')", &[])
        .await
        .map_err(|e| e.to_string())?
        .get(0);
    let loaded = LoadedUploads { tables: Vec::new(), schema: Some(schema.clone()) };
    let result = async {
        let tx = client.transaction().await.map_err(|e| e.to_string())?;
        tx.batch_execute(&format!("CREATE SCHEMA {s}; GRANT USAGE ON SCHEMA {s} TO {role};", s = quote_ident(&schema), role = quote_ident(QUERY_ROLE)))
            .await
            .map_err(|e| e.to_string())?;
        let mut tables = Vec::new();
        for (spec, table) in parsed {
            let columns: Vec<Column> = table.columns.into_iter().map(published).collect();
            // Columns keep their uploaded names, quoted: names that differ only in case stay
            // distinct (VO-INTEROP mistake 8) and any text is a safe identifier. PostgreSQL
            // truncates identifiers to 63 bytes, which could merge two names: refused.
            let mut seen = std::collections::HashSet::new();
            for c in &columns {
                if c.name.is_empty() || c.name.len() > 63 || c.name.contains('\0') {
                    return Err(format!("uploaded column name {:?} of {} must have 1 to 63 bytes", c.name, spec.table));
                }
                if !seen.insert(c.name.clone()) {
                    return Err(format!("the uploaded table {} has two columns named {}", spec.table, c.name));
                }
            }
            let definitions: Vec<String> = columns.iter().map(|c| format!("{} {}", quote_ident(&c.name), sql_type(c))).collect();
            let sql_table = format!("{}.{}", quote_ident(&schema), quote_ident(&spec.table.to_ascii_lowercase()));
            tx.batch_execute(&format!("CREATE TABLE {sql_table} ({}); GRANT SELECT ON {sql_table} TO {};", definitions.join(", "), quote_ident(QUERY_ROLE)))
                .await
                .map_err(|e| e.to_string())?;
            let sink = tx.copy_in(&format!("COPY {sql_table} FROM STDIN")).await.map_err(|e| e.to_string())?;
            let mut sink = Box::pin(sink);
            let mut buffer = String::new();
            for row in &table.rows {
                for (i, cell) in row.iter().enumerate() {
                    if i > 0 {
                        buffer.push('\t');
                    }
                    copy_text(cell, &mut buffer);
                }
                buffer.push('\n');
                if buffer.len() > 256 * 1024 {
                    futures_util::SinkExt::send(&mut sink, Bytes::from(std::mem::take(&mut buffer))).await.map_err(|e| e.to_string())?;
                }
            }
            if !buffer.is_empty() {
                futures_util::SinkExt::send(&mut sink, Bytes::from(buffer)).await.map_err(|e| e.to_string())?;
            }
            sink.as_mut().finish().await.map_err(|e| format!("loading the uploaded table {} failed: {e}", spec.table))?;
            tx.batch_execute(&format!("ANALYZE {sql_table}")).await.map_err(|e| e.to_string())?;
            let mut columns = columns;
            for (i, column) in columns.iter_mut().enumerate() {
                column.column_index = i as i32 + 1;
            }
            tables.push((spec.table.clone(), sql_table, columns));
        }
        tx.commit().await.map_err(|e| e.to_string())?;
        Ok::<_, String>(tables)
    }
    .await;
    match result {
        Ok(tables) => {
            let mut loaded = loaded;
            for (name, sql_table, columns) in tables {
                loaded.tables.push(UploadTable {
                    table: Table {
                        name,
                        schema: "tap_upload".into(),
                        table_type: TableType::Table,
                        description: "an uploaded table".into(),
                        utype: None,
                        table_index: None,
                        columns,
                        foreign_keys: Vec::new(),
                    },
                    sql_name: sql_table,
                });
            }
            Ok(loaded)
        }
        Err(e) => {
            loaded.drop_schema(pool).await;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_parameter_forms() {
        assert_eq!(
            parse_upload_param("mine,param:t1;other,http://example.org/t.xml").unwrap(),
            vec![
                UploadSpec { table: "mine".into(), source: UploadSource::Part("t1".into()) },
                UploadSpec { table: "other".into(), source: UploadSource::Url("http://example.org/t.xml".into()) }
            ]
        );
        assert!(parse_upload_param("mine,file:///etc/passwd").is_err());
        assert!(parse_upload_param("mine").is_err());
        assert!(parse_upload_param("1x,param:a").is_err());
        assert!(parse_upload_param("a,param:x;A,param:y").unwrap_err().0.contains("twice"));
    }

    #[test]
    fn copy_text_escapes() {
        let mut out = String::new();
        copy_text(&Cell::Text("a\tb\\c\nd".into()), &mut out);
        assert_eq!(out, "a\\tb\\\\c\\nd");
        out.clear();
        copy_text(&Cell::DoubleArray(vec![Some(1.5), None]), &mut out);
        assert_eq!(out, "{1.5,NULL}");
    }
}
