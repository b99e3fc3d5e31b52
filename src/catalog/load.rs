//! Loading and validating the TOML metadata of `tap/`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::model::{ArraySize, Catalog, Datatype, Schema, Table};

/// What is wrong with the metadata, and where.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read the table metadata in {path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{place}: {message}")]
    Invalid { place: String, message: String },
}

fn invalid(place: impl Into<String>, message: impl Into<String>) -> CatalogError {
    CatalogError::Invalid { place: place.into(), message: message.into() }
}

/// One file of `tap/`: a schema and its tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaFile {
    schema: Schema,
    #[serde(default)]
    tables: Vec<Table>,
}

impl Catalog {
    /// Loads every `*.toml` file of `dir` (one schema each), in file-name order.
    pub fn load_dir(dir: &Path) -> Result<Catalog, CatalogError> {
        let io = |error| CatalogError::Io { path: dir.to_path_buf(), error };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        let mut sources = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path)
                .map_err(|error| CatalogError::Io { path: path.clone(), error })?;
            sources.push((path, text));
        }
        if sources.is_empty() {
            return Err(invalid(dir.display().to_string(), "no *.toml table metadata found"));
        }
        Catalog::from_sources(&sources)
    }

    /// Builds the catalogue from (path, TOML text) pairs; the paths only label errors.
    pub fn from_sources(sources: &[(PathBuf, String)]) -> Result<Catalog, CatalogError> {
        let mut schemas = Vec::new();
        for (path, text) in sources {
            let file: SchemaFile = toml::from_str(text).map_err(|e| CatalogError::Syntax {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let mut schema = file.schema;
            schema.tables = file.tables;
            schemas.push(schema);
        }
        let mut catalog = Catalog { schemas };
        catalog.complete();
        catalog.validate()?;
        Ok(catalog)
    }

    /// Fills the derived fields: each table's schema, column_index, key ids.
    fn complete(&mut self) {
        for schema in &mut self.schemas {
            for table in &mut schema.tables {
                table.schema = schema.name.clone();
                for (i, column) in table.columns.iter_mut().enumerate() {
                    column.column_index = i as i32 + 1;
                }
                let from = format!("{}.{}", schema.name, table.name);
                let mut seen: Vec<String> = Vec::new();
                for key in &mut table.foreign_keys {
                    let base = format!("{from}-{}", key.target_table);
                    let n = seen.iter().filter(|s| **s == base).count();
                    key.key_id = if n == 0 { base.clone() } else { format!("{base}-{}", n + 1) };
                    seen.push(base);
                }
            }
        }
    }

    fn validate(&self) -> Result<(), CatalogError> {
        let mut schema_names = HashSet::new();
        for schema in &self.schemas {
            check_name(&schema.name, &format!("schema {}", schema.name))?;
            if !schema_names.insert(schema.name.as_str()) {
                return Err(invalid(format!("schema {}", schema.name), "declared twice"));
            }
            let mut table_names = HashSet::new();
            for table in &schema.tables {
                let place = format!("table {}", table.qualified_name());
                check_name(&table.name, &place)?;
                if !table_names.insert(table.name.as_str()) {
                    return Err(invalid(place, "declared twice"));
                }
                if table.columns.is_empty() {
                    return Err(invalid(place, "a published table needs at least one column"));
                }
                let mut column_names = HashSet::new();
                for column in &table.columns {
                    let place = format!("column {}.{}", table.qualified_name(), column.name);
                    check_name(&column.name, &place)?;
                    if !column_names.insert(column.name.as_str()) {
                        return Err(invalid(place, "declared twice"));
                    }
                    check_column_type(column.datatype, column.arraysize, column.xtype.as_deref(), &place)?;
                    if let Some(ucd) = &column.ucd {
                        check_ucd_syntax(ucd, &place)?;
                    }
                }
                for key in &table.foreign_keys {
                    let place = format!("foreign key {}", key.key_id);
                    let target = self.table_by_qualified_name(&key.target_table).ok_or_else(|| {
                        invalid(&place, format!("target table {} is not published", key.target_table))
                    })?;
                    if key.columns.is_empty() {
                        return Err(invalid(place, "names no columns"));
                    }
                    for (from, to) in &key.columns {
                        if table.column(from).is_none() {
                            return Err(invalid(&place, format!("{} has no column {from}", table.qualified_name())));
                        }
                        if target.column(to).is_none() {
                            return Err(invalid(&place, format!("{} has no column {to}", key.target_table)));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Published names are lower-case ADQL regular identifiers (ADQL 2.1 section 2.1.3), so no
/// client ever needs to quote them (VO-INTEROP mistake 9).
fn check_name(name: &str, place: &str) -> Result<(), CatalogError> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(place, format!("name {name:?} must be a lower-case identifier [a-z][a-z0-9_]*")))
    }
}

/// Datatype, arraysize and xtype must agree: character data needs an arraysize (else
/// clients read one character), and the DALI 1.1 xtypes (section 3.3) fix their shape.
fn check_column_type(
    datatype: Datatype,
    arraysize: Option<ArraySize>,
    xtype: Option<&str>,
    place: &str,
) -> Result<(), CatalogError> {
    if datatype.is_character() && arraysize.is_none() {
        return Err(invalid(place, "char columns need an arraysize (e.g. \"*\"), else clients read a single character"));
    }
    let expected = match xtype {
        None => return Ok(()),
        Some("timestamp") => (Datatype::Char, None),
        Some("point") => (Datatype::Double, Some(ArraySize::Fixed(2))),
        Some("circle") => (Datatype::Double, Some(ArraySize::Fixed(3))),
        Some("polygon") => (Datatype::Double, None),
        Some(other) => {
            return Err(invalid(place, format!("unknown xtype {other:?}: use timestamp, point, circle or polygon (DALI 1.1)")));
        }
    };
    let shape_ok = match expected.1 {
        Some(size) => arraysize == Some(size),
        None => arraysize.is_some(),
    };
    if datatype != expected.0 || !shape_ok {
        return Err(invalid(
            place,
            format!(
                "xtype {} needs datatype {}{} (DALI 1.1 section 3.3)",
                xtype.unwrap_or_default(),
                expected.0,
                expected.1.map(|s| format!(" arraysize {s}")).unwrap_or_else(|| " with an arraysize".into())
            ),
        ));
    }
    Ok(())
}

/// UCD1+ syntax (UCD 1.1 section 2.2): words of letters, digits, '.', '-' and '_', separated
/// by ';'. Whether each word is in the controlled vocabulary is checked by the test suite
/// against astropy's copy of the UCD1+ word list.
fn check_ucd_syntax(ucd: &str, place: &str) -> Result<(), CatalogError> {
    let ok = !ucd.is_empty()
        && ucd.split(';').all(|word| {
            !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        });
    if ok { Ok(()) } else { Err(invalid(place, format!("{ucd:?} is not a UCD1+ (words separated by ';')"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Catalog, CatalogError> {
        Catalog::from_sources(&[(PathBuf::from("test.toml"), text.to_string())])
    }

    const HEAD: &str = "[schema]\nname = \"s\"\ndescription = \"d\"\n";

    #[test]
    fn the_project_metadata_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tap");
        let catalog = Catalog::load_dir(&dir).expect("tap/ must load");
        let spectra = catalog.table("dfbs", "spectra").expect("dfbs.spectra");
        assert_eq!(spectra.column("specid").map(|c| c.column_index), Some(1));
        assert_eq!(spectra.foreign_keys[0].key_id, "dfbs.spectra-dfbs.plates");
        assert!(catalog.table("tap_schema", "columns").is_some());
    }

    #[test]
    fn char_without_arraysize_is_refused() {
        let text = format!("{HEAD}[[tables]]\nname = \"t\"\ndescription = \"d\"\ncolumns = [{{ name = \"c\", datatype = \"char\", description = \"d\" }}]\n");
        let err = load(&text).unwrap_err().to_string();
        assert!(err.contains("arraysize"), "{err}");
    }

    #[test]
    fn upper_case_names_are_refused() {
        let text = format!("{HEAD}[[tables]]\nname = \"T\"\ndescription = \"d\"\ncolumns = [{{ name = \"c\", datatype = \"int\", description = \"d\" }}]\n");
        assert!(load(&text).unwrap_err().to_string().contains("lower-case"));
    }

    #[test]
    fn xtype_shape_is_checked() {
        let text = format!("{HEAD}[[tables]]\nname = \"t\"\ndescription = \"d\"\ncolumns = [{{ name = \"p\", datatype = \"double\", xtype = \"point\", description = \"d\" }}]\n");
        assert!(load(&text).unwrap_err().to_string().contains("xtype point"));
    }

    #[test]
    fn dangling_foreign_keys_are_refused() {
        let text = format!("{HEAD}[[tables]]\nname = \"t\"\ndescription = \"d\"\ncolumns = [{{ name = \"c\", datatype = \"int\", description = \"d\" }}]\nforeign_keys = [{{ target_table = \"s.nope\", columns = [[\"c\", \"c\"]] }}]\n");
        assert!(load(&text).unwrap_err().to_string().contains("not published"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = format!("{HEAD}[[tables]]\nname = \"t\"\ndescription = \"d\"\ncolumns = [{{ name = \"c\", datatype = \"int\", description = \"d\", ucdd = \"x\" }}]\n");
        assert!(load(&text).is_err());
    }
}
