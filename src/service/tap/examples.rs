//! /tap/examples: the DALI examples document (DALI 1.1 section 2.3, TAP 1.1 section 2.5.3),
//! XHTML with RDFa, rendered from tap/examples/examples.toml.

use std::path::Path;

use actix_web::HttpResponse;
use serde::Deserialize;

use crate::service::State;
use crate::xml::escape;

/// One example query.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub id: String,
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub tables: Vec<String>,
    pub query: String,
}

#[derive(Deserialize)]
struct ExamplesFile {
    example: Vec<Example>,
}

/// Loads the examples; ids must be XML names, unique.
pub fn load(tap_dir: &Path) -> Result<Vec<Example>, String> {
    let path = tap_dir.join("examples/examples.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: ExamplesFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut seen = std::collections::HashSet::new();
    for example in &file.example {
        let ok = example.id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && example.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok || !seen.insert(example.id.clone()) {
            return Err(format!("{}: example id {:?} must be a unique XML name", path.display(), example.id));
        }
    }
    Ok(file.example)
}

/// The XHTML document.
pub fn render(examples: &[Example], title: &str) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n\
         <head><title>Example queries: {title}</title>\n\
         <style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}pre{{background:#f4f4f4;padding:0.5em}}</style></head>\n\
         <body vocab=\"http://www.ivoa.net/rdf/examples#\">\n<h1>Example queries: {title}</h1>\n",
        title = escape(title)
    );
    for example in examples {
        let id = escape(&example.id);
        out.push_str(&format!("<div typeof=\"example\" id=\"{id}\" resource=\"#{id}\">\n"));
        out.push_str(&format!("  <h2 property=\"name\">{}</h2>\n", escape(&example.name)));
        out.push_str(&format!("  <p>{}</p>\n", escape(&example.description)));
        if !example.tables.is_empty() {
            let tables: Vec<String> = example.tables.iter().map(|t| format!("<span property=\"table\">{}</span>", escape(t))).collect();
            out.push_str(&format!("  <p>Tables: {}</p>\n", tables.join(", ")));
        }
        out.push_str(&format!("  <pre property=\"query\">{}</pre>\n</div>\n", escape(example.query.trim())));
    }
    out.push_str("</body>\n</html>\n");
    out
}

pub async fn examples(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/xhtml+xml; charset=utf-8")
        .body(render(&state.examples, &state.config.service.title))
}
