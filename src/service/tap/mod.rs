//! TAP 1.1 (IVOA Recommendation 2019-09-27): /tap/sync, the VOSI resources (capabilities,
//! tables, availability), and the root page.

mod capabilities;
pub mod examples;
mod fetch;
mod jobs;
pub mod params;
mod request;
pub mod run;
pub mod runner;
mod sync;
mod tables;
pub mod upload;

use actix_web::{web, HttpResponse};

pub use request::QueryRequest;

use crate::votable::error_document;

/// The TAP routes under /tap.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/tap").route(web::get().to(root)))
        .service(web::resource("/tap/sync").route(web::get().to(sync::sync)).route(web::post().to(sync::sync)))
        .service(web::resource("/tap/capabilities").route(web::get().to(capabilities::capabilities)))
        .service(web::resource("/tap/tables").route(web::get().to(tables::tableset)))
        .service(web::resource("/tap/examples").route(web::get().to(examples::examples)))
        .service(web::resource("/tap/tables/{name}").route(web::get().to(tables::table)))
        .service(web::resource("/tap/async").route(web::get().to(jobs::list)).route(web::post().to(jobs::create)))
        .service(
            web::resource("/tap/async/{id}")
                .route(web::get().to(jobs::job))
                .route(web::post().to(jobs::post_job))
                .route(web::delete().to(jobs::delete)),
        )
        .service(web::resource("/tap/async/{id}/results/result").route(web::get().to(jobs::result)))
        .service(
            web::resource("/tap/async/{id}/{attribute}")
                .route(web::get().to(jobs::attribute))
                .route(web::post().to(jobs::set_attribute)),
        );
}

/// A DALI error document (DALI 1.1 section 5.2) with an HTTP status.
pub fn dali_error(status: actix_web::http::StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).content_type("application/x-votable+xml").body(error_document(message))
}

async fn root(state: super::State) -> HttpResponse {
    let base = crate::xml::escape(state.config.base_url()).into_owned();
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>TAP: {title}</title></head><body>\n\
         <h1>Table Access Protocol service</h1>\n<p>{title}. Point TOPCAT, pyvo or any TAP client at <code>{base}/tap</code>.</p>\n<ul>\n\
         <li><a href=\"{base}/tap/capabilities\">capabilities</a></li>\n\
         <li><a href=\"{base}/tap/tables\">tables</a></li>\n\
         <li><a href=\"{base}/tap/availability\">availability</a></li>\n\
         <li><a href=\"{base}/tap/examples\">example queries</a></li>\n\
         <li>synchronous queries: <code>{base}/tap/sync?LANG=ADQL&amp;QUERY=...</code></li>\n</ul></body></html>\n",
        title = crate::xml::escape(&state.config.service.title),
    );
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body)
}
