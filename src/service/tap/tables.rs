//! VOSI 1.1 tables (section 3.4): /tap/tables (detail=min|max) and /tap/tables/NAME.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::catalog::vosi::{table_document, tableset as render_tableset, Detail};
use crate::service::State;

pub async fn tableset(state: State, request: HttpRequest) -> HttpResponse {
    let query: Vec<(String, String)> = serde_urlencoded::from_str(request.query_string()).unwrap_or_default();
    let detail = query.iter().find(|(k, _)| k.eq_ignore_ascii_case("detail")).map(|(_, v)| v.to_ascii_lowercase());
    let detail = match detail.as_deref() {
        Some("min") => Detail::Min,
        None | Some("max") => Detail::Max,
        Some(other) => {
            return HttpResponse::BadRequest()
                .content_type("text/plain; charset=utf-8")
                .body(format!("detail={other} is not supported: use detail=min or detail=max\n"));
        }
    };
    HttpResponse::Ok().content_type("text/xml; charset=utf-8").body(render_tableset(&state.catalog, detail))
}

pub async fn table(state: State, name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    match state.catalog.table_by_qualified_name(&name.to_ascii_lowercase()) {
        Some(table) => HttpResponse::Ok().content_type("text/xml; charset=utf-8").body(table_document(table)),
        None => HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body(format!(
            "no table {name}; the tables are: {}\n",
            state.catalog.tables().map(|t| t.qualified_name()).collect::<Vec<_>>().join(", ")
        )),
    }
}
