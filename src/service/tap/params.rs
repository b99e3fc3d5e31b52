//! DALI 1.1 request parameters (section 3.1): names are case-insensitive, values are not;
//! they come from the query string (GET) or the form body (POST), both merged.

use actix_web::web::{Bytes, BytesMut, Payload};
use actix_web::HttpRequest;
use futures_util::StreamExt;

/// A parameter error: the message names the parameter and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamError(pub String);

/// The parameters of one request, in the order given.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// The parts of a multipart request, by form-field name (inline uploads are found here:
    /// UPLOAD=table,param:NAME).
    parts: Vec<(String, Bytes)>,
}

/// Reads the parameters of a request with its body: form-encoded (at most `form_limit`
/// bytes) or multipart/form-data (at most `multipart_limit` bytes in all), plus the query
/// string.
pub async fn read_request(request: &HttpRequest, payload: Payload, form_limit: usize, multipart_limit: usize) -> Result<Params, ParamError> {
    let content_type = content_type(request);
    if !content_type.starts_with("multipart/form-data") {
        let body = read_limited(payload, form_limit).await?;
        return Params::from_request(request, &body);
    }
    let mut params = Params::from_request(request, &[])?;
    let mut multipart = actix_multipart::Multipart::new(request.headers(), payload);
    let mut total = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| ParamError(format!("the multipart request is malformed: {e}")))?;
        let name = field.content_disposition().and_then(|d| d.get_name()).unwrap_or("").to_string();
        let mut data = BytesMut::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ParamError(format!("reading part {name} of the request failed: {e}")))?;
            total += chunk.len();
            if total > multipart_limit {
                return Err(ParamError(format!(
                    "the request is larger than the upload limit of {multipart_limit} bytes; upload a smaller table"
                )));
            }
            data.extend_from_slice(&chunk);
        }
        let data = data.freeze();
        // Text parts are parameters too (clients send LANG and QUERY as parts).
        if let Ok(text) = std::str::from_utf8(&data) {
            if data.len() <= form_limit {
                params.pairs.push((name.clone(), text.to_string()));
            }
        }
        params.parts.push((name, data));
    }
    params.check_nul()?;
    Ok(params)
}

/// The request's Content-Type, lower case ("" when absent).
fn content_type(request: &HttpRequest) -> String {
    request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

async fn read_limited(mut payload: Payload, limit: usize) -> Result<Bytes, ParamError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ParamError(format!("reading the request failed: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ParamError(format!(
                "the request body is larger than {limit} bytes; send long queries to /async, or ask the operator to raise limits.request_max_bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

impl Params {
    /// From the query string and, for form posts, the body.
    pub fn from_request(request: &HttpRequest, body: &[u8]) -> Result<Params, ParamError> {
        let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(request.query_string())
            .map_err(|e| ParamError(format!("the query string is not valid URL encoding: {e}")))?;
        let content_type = content_type(request);
        if !body.is_empty() {
            if content_type.starts_with("application/x-www-form-urlencoded") || content_type.is_empty() {
                let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
                    .map_err(|e| ParamError(format!("the request body is not valid form encoding: {e}")))?;
                pairs.extend(form);
            } else {
                return Err(ParamError(format!(
                    "unsupported request body type {content_type}: send parameters as application/x-www-form-urlencoded"
                )));
            }
        }
        let params = Params { pairs, parts: Vec::new() };
        params.check_nul()?;
        Ok(params)
    }

    /// Text in PostgreSQL cannot hold NUL: refuse it here, with a message, rather than fail
    /// deeper down.
    fn check_nul(&self) -> Result<(), ParamError> {
        match self.pairs.iter().find(|(k, v)| k.contains('\0') || v.contains('\0')) {
            Some((name, _)) => Err(ParamError(format!("parameter {} contains a NUL character", name.replace('\0', "\\0")))),
            None => Ok(()),
        }
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Params {
        Params { pairs, parts: Vec::new() }
    }

    /// A multipart part by form-field name.
    pub fn part(&self, name: &str) -> Option<&Bytes> {
        self.parts.iter().find(|(n, _)| n == name).map(|(_, d)| d)
    }

    pub fn parts(&self) -> &[(String, Bytes)] {
        &self.parts
    }

    /// The first value of a parameter (name case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// All (name, value) pairs.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive() {
        let p = Params::from_pairs(vec![("query".into(), "SELECT".into()), ("LANG".into(), "ADQL".into())]);
        assert_eq!(p.get("QUERY"), Some("SELECT"));
        assert_eq!(p.get("lang"), Some("ADQL"));
        assert_eq!(p.get("MAXREC"), None);
    }
}
