//! VOSI 1.1 (IVOA Recommendation 2017-05-24): availability (section 3.5).

use actix_web::HttpResponse;
use chrono::SecondsFormat;

use super::{database_answers, State};
use crate::xml::escape;

/// GET /tap/availability: a vosi:availability document. The service is available when the
/// database answers a query as the read-only query role, which is what every user request
/// needs.
pub async fn availability(state: State) -> HttpResponse {
    let up_since = state.up_since.to_rfc3339_opts(SecondsFormat::Secs, true);
    let (available, note) = match database_answers(&state.query_pool).await {
        Ok(()) => (true, "The service is accepting queries.".to_string()),
        Err(error) => (false, format!("The catalogue database is not answering: {error}")),
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <vosi:availability xmlns:vosi=\"http://www.ivoa.net/xml/VOSIAvailability/v1.0\">\n\
         \x20 <vosi:available>{available}</vosi:available>\n\
         \x20 <vosi:upSince>{up_since}</vosi:upSince>\n\
         \x20 <vosi:note>{}</vosi:note>\n\
         </vosi:availability>\n",
        escape(&note)
    );
    HttpResponse::Ok().content_type("text/xml; charset=utf-8").body(body)
}
