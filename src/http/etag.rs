//! Optimistic concurrency: `ETag: "<version>"` on reads, `If-Match` on writes.

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::error::ApiError;

pub fn etag(version: i64) -> String {
    super::reply::etag_value(version)
}

/// What the client's `If-Match` demands: `None` when absent or `*` (no precondition), else the
/// versions it accepts. A tag we never issued can match nothing, so it yields an empty list.
pub fn if_match(req: &HttpRequest) -> Result<Option<Vec<i64>>, ApiError> {
    let Some(raw) = req.headers().get(header::IF_MATCH) else { return Ok(None) };
    let raw = raw.to_str().map_err(|_| ApiError::version_mismatch())?.trim();
    if raw == "*" {
        return Ok(None);
    }
    let versions = raw
        .split(',')
        .filter_map(|tag| {
            let tag = tag.trim();
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            tag.strip_prefix('"')?.strip_suffix('"')?.parse::<i64>().ok()
        })
        .collect();
    Ok(Some(versions))
}

/// Fails with 412 when `current` is not among the versions the client accepts.
pub fn check(expected: &Option<Vec<i64>>, current: i64) -> Result<(), ApiError> {
    match expected {
        Some(versions) if !versions.contains(&current) => Err(ApiError::version_mismatch()),
        _ => Ok(()),
    }
}

/// 200 with the record and its `ETag`.
pub fn ok<T: serde::Serialize + crate::db::Record>(record: &T) -> actix_web::HttpResponse {
    super::reply::Reply::ok(record).into_response()
}

/// 201 with the record, its `ETag` and its `Location`.
pub fn created<T: serde::Serialize + crate::db::Record>(record: &T, location: String) -> actix_web::HttpResponse {
    super::reply::Reply::created(record, location).into_response()
}

/// A single-resource response carrying its `ETag` (and `Location` for 201).
pub fn respond<T: serde::Serialize>(
    status: actix_web::http::StatusCode,
    body: &T,
    version: i64,
    location: Option<String>,
) -> actix_web::HttpResponse {
    let mut res = actix_web::HttpResponse::build(status);
    res.insert_header((header::ETAG, etag(version)));
    if let Some(location) = location {
        res.insert_header((header::LOCATION, location));
    }
    res.json(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn parse(value: &str) -> Option<Vec<i64>> {
        if_match(&TestRequest::default().insert_header((header::IF_MATCH, value)).to_http_request()).unwrap()
    }

    #[test]
    fn if_match_forms() {
        assert_eq!(parse("\"3\""), Some(vec![3]));
        assert_eq!(parse("W/\"3\", \"4\""), Some(vec![3, 4]));
        assert_eq!(parse("*"), None);
        assert_eq!(parse("\"abc\""), Some(vec![]));
        assert!(check(&parse("\"3\""), 3).is_ok());
        assert_eq!(check(&parse("\"2\""), 3).unwrap_err().code, "version_mismatch");
        assert!(check(&None, 9).is_ok());
        assert!(if_match(&TestRequest::default().to_http_request()).unwrap().is_none());
    }
}
