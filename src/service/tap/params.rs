//! DALI 1.1 request parameters (section 3.1): names are case-insensitive, values are not;
//! they come from the query string (GET) or the form body (POST), both merged.

use actix_web::HttpRequest;

/// A parameter error: the message names the parameter and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamError(pub String);

/// The parameters of one request, in the order given.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// From the query string and, for form posts, the body.
    pub fn from_request(request: &HttpRequest, body: &[u8]) -> Result<Params, ParamError> {
        let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(request.query_string())
            .map_err(|e| ParamError(format!("the query string is not valid URL encoding: {e}")))?;
        let content_type = request
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !body.is_empty() {
            if content_type.starts_with("application/x-www-form-urlencoded") || content_type.is_empty() {
                let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
                    .map_err(|e| ParamError(format!("the request body is not valid form encoding: {e}")))?;
                pairs.extend(form);
            } else if content_type.starts_with("multipart/form-data") {
                return Err(ParamError(
                    "multipart/form-data requests (inline UPLOAD) are not supported yet; send the parameters form-encoded".into(),
                ));
            } else {
                return Err(ParamError(format!(
                    "unsupported request body type {content_type}: send parameters as application/x-www-form-urlencoded"
                )));
            }
        }
        // Text in PostgreSQL cannot hold NUL: refuse it here, with a message, rather than fail
        // deeper down.
        if let Some((name, _)) = pairs.iter().find(|(k, v)| k.contains('\0') || v.contains('\0')) {
            return Err(ParamError(format!("parameter {} contains a NUL character", name.replace('\0', "\\0"))));
        }
        Ok(Params { pairs })
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Params {
        Params { pairs }
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
