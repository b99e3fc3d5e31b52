//! The human-facing pages.

use actix_web::HttpResponse;

use super::State;
use crate::xml::escape;

/// GET /: what this service is, what it holds, and where its VO interfaces are.
pub async fn landing_page(state: State) -> HttpResponse {
    let service = &state.config.service;
    let base = state.config.base_url();
    let counts = match catalogue_counts(&state.admin_pool).await {
        Ok((plates, spectra)) => format!("{plates} plates and {spectra} spectra are in the catalogue."),
        Err(error) => format!("The catalogue database is not answering ({}).", escape(&error)),
    };
    let tables: String = state
        .catalog
        .tables()
        .map(|t| format!("<li><code>{}</code>: {}</li>\n", escape(&t.qualified_name()), escape(&t.description)))
        .collect();
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n\
         <style>body{{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.4}}code{{background:#eee}}</style>\n\
         </head><body>\n<h1>{title}</h1>\n<p>{description}</p>\n<p>{counts}</p>\n\
         <h2>Virtual Observatory access</h2>\n<ul>\n\
         <li>TAP service (TOPCAT, pyvo, astropy): <code>{base}/tap</code></li>\n\
         <li>VOSI availability: <a href=\"{base}/tap/availability\">{base}/tap/availability</a></li>\n\
         </ul>\n<h2>Tables</h2>\n<ul>\n{tables}</ul>\n\
         <p>Published by {publisher}. Contact: {contact} &lt;{email}&gt;. IVOA authority: <code>ivo://{authority}</code>.</p>\n\
         </body></html>\n",
        title = escape(&service.title),
        description = escape(&service.description),
        base = escape(base),
        publisher = escape(&service.publisher),
        contact = escape(&service.contact_name),
        email = escape(&service.contact_email),
        authority = escape(&service.authority),
    );
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body)
}

/// Plate and spectrum counts: exact for small tables, the planner's estimate for big ones
/// (a count(*) over 20 million rows is not worth a page view).
async fn catalogue_counts(pool: &deadpool_postgres::Pool) -> Result<(i64, i64), String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM dfbs.plates),
                    CASE WHEN (SELECT reltuples FROM pg_class WHERE oid = 'dfbs.spectra'::regclass) > 1e6
                         THEN (SELECT reltuples::bigint FROM pg_class WHERE oid = 'dfbs.spectra'::regclass)
                         ELSE (SELECT count(*) FROM dfbs.spectra) END",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok((row.get(0), row.get(1)))
}
