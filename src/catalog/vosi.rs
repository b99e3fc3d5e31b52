//! VOSI 1.1 tables (section 3.4): the tableset of the service, rendered from the catalogue
//! in VODataService 1.1 (`vs:TableSet`, `vs:Table`; column xtypes as
//! `dataType/@extendedType`).

use super::model::{Catalog, Column, Table, TableType};
use crate::xml::escape;

const NAMESPACES: &str = "xmlns:vosi=\"http://www.ivoa.net/xml/VOSITables/v1.0\" \
     xmlns:vs=\"http://www.ivoa.net/xml/VODataService/v1.1\" \
     xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";

/// How much of each table to describe (VOSI 1.1 section 3.4: `detail=min` leaves columns out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Min,
    Max,
}

/// The whole tableset: GET /tap/tables.
pub fn tableset(catalog: &Catalog, detail: Detail) -> String {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<vosi:tableset {NAMESPACES}>\n");
    for schema in catalog.schemas() {
        out.push_str("  <schema>\n");
        element(&mut out, 4, "name", &schema.name);
        element(&mut out, 4, "description", &schema.description);
        if let Some(utype) = schema.utype.as_deref().filter(|u| !u.is_empty()) {
            element(&mut out, 4, "utype", utype);
        }
        for table in &schema.tables {
            write_table(&mut out, table, detail, "table", 4);
        }
        out.push_str("  </schema>\n");
    }
    out.push_str("</vosi:tableset>\n");
    out
}

/// One table: GET /tap/tables/NAME (VOSI 1.1: a `vosi:table` root element, with columns).
pub fn table_document(table: &Table) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let mut body = String::new();
    write_table(&mut body, table, Detail::Max, "vosi:table", 0);
    // The root element carries the namespace declarations.
    out.push_str(&body.replacen("<vosi:table", &format!("<vosi:table {NAMESPACES}"), 1));
    out
}

fn write_table(out: &mut String, table: &Table, detail: Detail, tag: &str, indent: usize) {
    let pad = " ".repeat(indent);
    let kind = match table.table_type {
        TableType::Table => "base_table",
        TableType::View => "view",
    };
    out.push_str(&format!("{pad}<{tag} type=\"{kind}\">\n"));
    element(out, indent + 2, "name", &table.qualified_name());
    element(out, indent + 2, "description", &table.description);
    if let Some(utype) = table.utype.as_deref().filter(|u| !u.is_empty()) {
        element(out, indent + 2, "utype", utype);
    }
    if detail == Detail::Max {
        for column in &table.columns {
            write_column(out, column, indent + 2);
        }
        for key in &table.foreign_keys {
            let pad = " ".repeat(indent + 2);
            out.push_str(&format!("{pad}<foreignKey>\n"));
            element(out, indent + 4, "targetTable", &key.target_table);
            for (from, to) in &key.columns {
                out.push_str(&format!("{pad}  <fkColumn>\n"));
                element(out, indent + 6, "fromColumn", from);
                element(out, indent + 6, "targetColumn", to);
                out.push_str(&format!("{pad}  </fkColumn>\n"));
            }
            if let Some(description) = key.description.as_deref().filter(|d| !d.is_empty()) {
                element(out, indent + 4, "description", description);
            }
            out.push_str(&format!("{pad}</foreignKey>\n"));
        }
    }
    out.push_str(&format!("{pad}</{tag}>\n"));
}

fn write_column(out: &mut String, column: &Column, indent: usize) {
    let pad = " ".repeat(indent);
    if column.std {
        out.push_str(&format!("{pad}<column std=\"true\">\n"));
    } else {
        out.push_str(&format!("{pad}<column>\n"));
    }
    element(out, indent + 2, "name", &column.published_name());
    element(out, indent + 2, "description", &column.description);
    for (tag, value) in [("unit", &column.unit), ("ucd", &column.ucd), ("utype", &column.utype)] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            element(out, indent + 2, tag, value);
        }
    }
    let mut attributes = String::from(" xsi:type=\"vs:VOTableType\"");
    if let Some(size) = column.arraysize {
        attributes.push_str(&format!(" arraysize=\"{size}\""));
    }
    if let Some(xtype) = column.xtype.as_deref().filter(|x| !x.is_empty()) {
        attributes.push_str(&format!(" extendedType=\"{}\"", escape(xtype)));
    }
    out.push_str(&format!("{pad}  <dataType{attributes}>{}</dataType>\n", column.datatype));
    if column.indexed {
        element(out, indent + 2, "flag", "indexed");
    }
    out.push_str(&format!("{pad}</column>\n"));
}

fn element(out: &mut String, indent: usize, tag: &str, text: &str) {
    out.push_str(&format!("{}<{tag}>{}</{tag}>\n", " ".repeat(indent), escape(text)));
}
