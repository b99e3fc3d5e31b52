//! The metadata types. Field names follow TAP_SCHEMA 1.1 (TAP 1.1, section 4).

use std::fmt;

use serde::Deserialize;

/// Every schema, table and column the service publishes.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub(super) schemas: Vec<Schema>,
}

impl Catalog {
    pub fn schemas(&self) -> &[Schema] {
        &self.schemas
    }

    /// All published tables, in schema then table order.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.schemas.iter().flat_map(|s| s.tables.iter())
    }

    /// The schema of that name (published names are lower case; the lookup is exact).
    pub fn schema(&self, name: &str) -> Option<&Schema> {
        self.schemas.iter().find(|s| s.name == name)
    }

    /// The table `schema.table` (exact, lower-case names).
    pub fn table(&self, schema: &str, table: &str) -> Option<&Table> {
        self.schema(schema)?.tables.iter().find(|t| t.name == table)
    }

    /// The table of a qualified name `schema.table`.
    pub fn table_by_qualified_name(&self, qualified: &str) -> Option<&Table> {
        let (schema, table) = qualified.split_once('.')?;
        self.table(schema, table)
    }

    /// Tables of that unqualified name in any schema (ADQL allows unqualified table names
    /// when they are unambiguous).
    pub fn tables_named<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a Table> + 'a {
        self.tables().filter(move |t| t.name == table)
    }
}

/// A published schema (TAP_SCHEMA.schemas).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub utype: Option<String>,
    #[serde(default)]
    pub schema_index: Option<i32>,
    /// Filled from the file's `[[tables]]` entries.
    #[serde(skip)]
    pub tables: Vec<Table>,
}

/// `table` or `view` (TAP_SCHEMA.tables.table_type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TableType {
    #[default]
    Table,
    View,
}

impl TableType {
    pub fn as_str(self) -> &'static str {
        match self {
            TableType::Table => "table",
            TableType::View => "view",
        }
    }
}

/// A published table (TAP_SCHEMA.tables).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// The unqualified name; see [`Table::qualified_name`].
    pub name: String,
    #[serde(skip)]
    pub schema: String,
    #[serde(default, rename = "type")]
    pub table_type: TableType,
    pub description: String,
    #[serde(default)]
    pub utype: Option<String>,
    #[serde(default)]
    pub table_index: Option<i32>,
    pub columns: Vec<Column>,
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKey>,
}

impl Table {
    /// `schema.table`, the form TAP 1.1 (section 4.2) recommends for TAP_SCHEMA.tables.table_name.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A published column (TAP_SCHEMA.columns).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    pub datatype: Datatype,
    #[serde(default)]
    pub arraysize: Option<ArraySize>,
    #[serde(default)]
    pub xtype: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub ucd: Option<String>,
    #[serde(default)]
    pub utype: Option<String>,
    pub description: String,
    #[serde(default)]
    pub principal: bool,
    #[serde(default)]
    pub indexed: bool,
    #[serde(default)]
    pub std: bool,
    /// The name is an ADQL reserved word (TAP_SCHEMA.columns."size"): it is published
    /// delimited, `"size"` (TAP 1.1 section 4.3), and queries must quote it.
    #[serde(default)]
    pub delimited: bool,
    /// 1-based position in the table, from the declaration order.
    #[serde(skip)]
    pub column_index: i32,
}

impl Column {
    /// The name as TAP_SCHEMA and VOSI tables publish it: delimited when it is a reserved word.
    pub fn published_name(&self) -> String {
        if self.delimited { format!("\"{}\"", self.name) } else { self.name.clone() }
    }
}

/// A foreign key from the declaring table to `target_table` (TAP_SCHEMA.keys).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignKey {
    /// Qualified name of the referenced table.
    pub target_table: String,
    /// Pairs of (from_column, target_column).
    pub columns: Vec<(String, String)>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub utype: Option<String>,
    /// Derived: `<from_table>-<target_table>` (with a counter when a table has several keys
    /// to the same target).
    #[serde(skip)]
    pub key_id: String,
}

/// VOTable primitive datatypes (VOTable 1.4, section 2.1), which TAP 1.1 uses in
/// TAP_SCHEMA.columns.datatype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Datatype {
    Boolean,
    UnsignedByte,
    Short,
    Int,
    Long,
    Char,
    UnicodeChar,
    Float,
    Double,
}

impl Datatype {
    /// The VOTable spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::Boolean => "boolean",
            Datatype::UnsignedByte => "unsignedByte",
            Datatype::Short => "short",
            Datatype::Int => "int",
            Datatype::Long => "long",
            Datatype::Char => "char",
            Datatype::UnicodeChar => "unicodeChar",
            Datatype::Float => "float",
            Datatype::Double => "double",
        }
    }

    pub fn is_character(self) -> bool {
        matches!(self, Datatype::Char | Datatype::UnicodeChar)
    }
}

impl fmt::Display for Datatype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A one-dimensional VOTable arraysize (VOTable 1.4, section 2.2): `n`, `n*` or `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArraySize {
    Fixed(u32),
    AtMost(u32),
    Variable,
}

impl ArraySize {
    pub fn parse(text: &str) -> Option<ArraySize> {
        let text = text.trim();
        if text == "*" {
            return Some(ArraySize::Variable);
        }
        if let Some(n) = text.strip_suffix('*') {
            return n.parse().ok().filter(|&n| n > 0).map(ArraySize::AtMost);
        }
        text.parse().ok().filter(|&n| n > 0).map(ArraySize::Fixed)
    }

    /// The length of a fixed-size array (TAP_SCHEMA.columns."size", TAP 1.1 section 4.3).
    pub fn fixed_length(self) -> Option<u32> {
        match self {
            ArraySize::Fixed(n) => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for ArraySize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArraySize::Fixed(n) => write!(f, "{n}"),
            ArraySize::AtMost(n) => write!(f, "{n}*"),
            ArraySize::Variable => f.write_str("*"),
        }
    }
}

impl<'de> Deserialize<'de> for ArraySize {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ArraySize::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "arraysize {text:?} is not a VOTable arraysize: use n, n* or *"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arraysize_parses_the_votable_forms() {
        assert_eq!(ArraySize::parse("*"), Some(ArraySize::Variable));
        assert_eq!(ArraySize::parse("136"), Some(ArraySize::Fixed(136)));
        assert_eq!(ArraySize::parse("12*"), Some(ArraySize::AtMost(12)));
        assert_eq!(ArraySize::parse("0"), None);
        assert_eq!(ArraySize::parse("x"), None);
        assert_eq!(ArraySize::Fixed(2).to_string(), "2");
        assert_eq!(ArraySize::AtMost(2).to_string(), "2*");
    }
}
