//! Body and query extractors whose failures are problem+json naming the field: malformed JSON is
//! 400, a well-formed body of the wrong shape is 422 with the JSON path, an oversized body is 413.

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Code, FieldError};
use crate::state::AppState;

pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json_body(req, payload);
        Box::pin(async move { parse_json(&body.await?).map(Json) })
    }
}

/// The body of a JSON request: 415 unless it says it is JSON, 413 past the configured limit.
fn read_json_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<web::BytesMut, ApiError>> {
    let limit = req.app_data::<web::Data<AppState>>().map(|s| s.config.body_limit_bytes).unwrap_or(1024 * 1024);
    let content_type_ok = is_json_content_type(req);
    let declared_len =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    Box::pin(async move {
        if !content_type_ok {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Code::UnsupportedMediaType,
                "the body must be JSON: send Content-Type: application/json",
            ));
        }
        if declared_len.is_some_and(|n| n > limit) {
            return Err(too_large(limit));
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk
                .map_err(|e| ApiError::bad_request(Code::MalformedBody, format!("the body could not be read: {e}")))?;
            if body.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    })
}

/// A JSON body that may be left out: a request with neither a body nor a `Content-Type`, or a
/// body of JSON `null`, gets `T::default()`; anything else is read exactly as [`Json`] reads it,
/// so a malformed body is still a 4xx, never silently the default.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let declared_len = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
        let no_body = req.headers().get(header::CONTENT_TYPE).is_none()
            && req.headers().get(header::TRANSFER_ENCODING).is_none()
            && declared_len.is_none_or(|n| n.trim() == "0");
        if no_body {
            return Box::pin(async { Ok(OptionalJson(T::default())) });
        }
        let body = read_json_body(req, payload);
        Box::pin(async move {
            let body = body.await?;
            if body.trim_ascii() == b"null" {
                return Ok(OptionalJson(T::default()));
            }
            parse_json(&body).map(OptionalJson)
        })
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        Code::PayloadTooLarge,
        format!("the body is larger than the limit of {limit} bytes"),
    )
}

fn is_json_content_type(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON body into `T`, naming the failing field by its JSON path.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // Every body is a JSON object; serde would otherwise also fill a struct from an array.
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err(ApiError::bad_request(Code::MalformedJson, "the body is empty; send a JSON object")),
        Some(b'{') => {}
        Some(b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
            return Err(ApiError::field("body", "must be a JSON object"));
        }
        Some(_) => {}
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => v,
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.classify() != serde_json::error::Category::Data {
                return Err(ApiError::bad_request(Code::MalformedJson, format!("the body is not valid JSON: {inner}")));
            }
            if inner.to_string().starts_with("invalid type: floating point") {
                if let Some(value) = retry_with_whole_numbers(body) {
                    return value;
                }
            }
            return Err(ApiError::validation(vec![data_error(&path, &inner.to_string())]));
        }
    };
    de.end().map_err(|e| ApiError::bad_request(Code::MalformedJson, format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// JSON has one number type: `68.0` is the integer 68 to JSON Schema (and to a client whose
/// language has only doubles), but serde refuses it for an integer field. Only on that error, the
/// body is read again with every whole-valued float turned into an integer, so the common path
/// parses once. `None` when the body is not valid JSON after all (the first error then stands).
fn retry_with_whole_numbers<T: DeserializeOwned>(body: &[u8]) -> Option<Result<T, ApiError>> {
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    if !make_whole_numbers_integers(&mut value) {
        return None;
    }
    Some(serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        ApiError::validation(vec![data_error(&path, &err.into_inner().to_string())])
    }))
}

/// Rewrites whole-valued floats that fit an `i64` as integers; true when it changed any.
fn make_whole_numbers_integers(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Number(n) => match n.as_f64() {
            // 2^63 is exactly representable; every whole f64 below it in magnitude fits an i64.
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9_223_372_036_854_775_808.0 => {
                // The cast is exact: f is whole and within range.
                *value = Value::from(f as i64);
                true
            }
            _ => false,
        },
        Value::Array(items) => items.iter_mut().fold(false, |changed, v| make_whole_numbers_integers(v) | changed),
        Value::Object(map) => map.values_mut().fold(false, |changed, v| make_whole_numbers_integers(v) | changed),
        _ => false,
    }
}

/// Turns a serde message into a field error. serde reports a missing or unknown field at the
/// parent's path, so the field's own name is taken from the message.
fn data_error(path: &str, message: &str) -> FieldError {
    // serde_json appends " at line L column C"; the path already says where.
    let message = message.split(" at line ").next().unwrap_or(message).to_string();
    let parent = if path == "." { "" } else { path };
    // serde_path_to_error already ends the path with an unknown field's name, not a missing one's.
    if let Some(name) = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
        let field = if parent.is_empty() { name.to_string() } else { format!("{parent}.{name}") };
        return FieldError::new(field, message.clone());
    }
    FieldError::new(if parent.is_empty() { "body" } else { parent }, message)
}

/// Query-string extractor: a bad value is a 422 naming the parameter.
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let mut field = data_error(&path, &message);
        if field.field == "body" {
            field.field = "query".into();
        }
        ApiError::validation(vec![field])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        threshold_minor: i64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        tiers: Vec<Inner>,
    }

    fn field_of(body: &str) -> (u16, String) {
        let err = parse_json::<Body>(body.as_bytes()).unwrap_err();
        (err.status.as_u16(), err.errors.first().map(|e| e.field.clone()).unwrap_or_default())
    }

    #[test]
    fn json_errors_name_the_path() {
        assert_eq!(
            field_of(r#"{"name":"a","tiers":[{"threshold_minor":1},{"threshold_minor":"x"}]}"#),
            (422, "tiers[1].threshold_minor".into())
        );
        assert_eq!(field_of(r#"{"tiers":[]}"#), (422, "name".into()));
        assert_eq!(field_of(r#"{"name":"a","tiers":[],"extra":1}"#), (422, "extra".into()));
        assert_eq!(field_of(r#"{"name":"a","tiers":[{}]}"#), (422, "tiers[0].threshold_minor".into()));
        assert_eq!(field_of(r#"[1]"#), (422, "body".into()));
        assert_eq!(field_of(r#"["a", []]"#), (422, "body".into()), "no struct from an array");
        assert_eq!(field_of("  ").0, 400);
        assert_eq!(field_of(r#"{"name": "#).0, 400);
        assert_eq!(field_of(r#"{"name":"a","tiers":[]} trailing"#).0, 400);
    }

    #[test]
    fn whole_valued_floats_are_integers() {
        let body =
            parse_json::<Body>(br#"{"name":"a","tiers":[{"threshold_minor":68.0},{"threshold_minor":1e15}]}"#).unwrap();
        assert_eq!(body.tiers[0].threshold_minor, 68);
        assert_eq!(body.tiers[1].threshold_minor, 1_000_000_000_000_000);
        assert_eq!(
            field_of(r#"{"name":"a","tiers":[{"threshold_minor":68.5}]}"#),
            (422, "tiers[0].threshold_minor".into())
        );
        assert_eq!(
            field_of(r#"{"name":"a","tiers":[{"threshold_minor":1e19}]}"#),
            (422, "tiers[0].threshold_minor".into())
        );
        assert_eq!(field_of(r#"{"name":1.0,"tiers":[]}"#), (422, "name".into()), "a number is still not a string");
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Q {
        limit: Option<u32>,
        q: Option<String>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let err = parse_query::<Q>("limit=abc").unwrap_err();
        assert_eq!(err.errors[0].field, "limit");
        let ok = parse_query::<Q>("q=%E6%B8%A0%E9%81%93+A&limit=5").unwrap();
        assert_eq!(ok.q.as_deref(), Some("渠道 A"));
        assert_eq!(ok.limit, Some(5));
    }
}
