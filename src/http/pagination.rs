//! Cursor pagination: `?limit=` (default 50, max 200) and an opaque `?cursor=`; responses carry
//! `next_cursor` and a `Link: <…>; rel="next"` header.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (opaque; only cursors this list issued are valid).
    #[param(pattern = "^[A-Za-z0-9_-]+$", max_length = 1024)]
    pub cursor: Option<String>,
}

/// A decoded page request: how many rows to return and where the previous page ended.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i64,
    /// The sort key values of the last row of the previous page.
    pub after: Option<Vec<String>>,
}

impl PageParams {
    /// Validates the parameters; `key_parts` is how many values the list's sort key has.
    pub fn request(&self, key_parts: usize) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let after = match &self.cursor {
            None => None,
            Some(c) => Some(decode_cursor(c, key_parts)?),
        };
        Ok(PageRequest { limit, after })
    }
}

pub fn encode_cursor(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(parts).unwrap_or_default())
}

fn decode_cursor(raw: &str, key_parts: usize) -> Result<Vec<String>, ApiError> {
    let bad = || ApiError::field("cursor", "is not a cursor this list issued");
    if raw.len() > 1024 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let parts: Vec<String> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if parts.len() != key_parts || parts.iter().any(|p| p.contains('\0')) {
        return Err(bad());
    }
    Ok(parts)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T: Serialize> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in order: the extra row only says that
    /// another page exists. `key` gives a row's sort key values for the cursor.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        req: &PageRequest,
        key: impl Fn(&R) -> Vec<String>,
        map: impl Fn(R) -> T,
    ) -> Self {
        let more = rows.len() as i64 > req.limit;
        rows.truncate(req.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| {
                let parts = key(r);
                encode_cursor(&parts.iter().map(String::as_str).collect::<Vec<_>>())
            })
        } else {
            None
        };
        Page { items: rows.into_iter().map(map).collect(), next_cursor }
    }

    /// A page of records ordered by id (the common case): the cursor is the last id.
    pub fn by_id(rows: Vec<T>, req: &PageRequest) -> Self
    where
        T: crate::db::Record,
    {
        Self::from_rows(rows, req, |r| vec![r.id().to_string()], |r| r)
    }

    /// 200 with the `Link` header pointing at the next page, when there is one.
    pub fn respond(self, req: &HttpRequest) -> HttpResponse {
        let mut res = HttpResponse::Ok();
        if let Some(link) = self.next_link(req) {
            res.insert_header((header::LINK, link));
        }
        res.json(self)
    }

    /// The `Link` header value of the next page, when there is one.
    pub fn next_link(&self, req: &HttpRequest) -> Option<String> {
        let cursor = self.next_cursor.as_ref()?;
        let mut query: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes())
            .filter(|(k, _)| k != "cursor")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        query.push(("cursor".into(), cursor.clone()));
        let qs = form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
        Some(format!("<{}?{}>; rel=\"next\"", req.path(), qs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_cursors_are_validated() {
        let p = PageParams { limit: Some(201), cursor: None };
        assert_eq!(p.request(1).unwrap_err().errors[0].field, "limit");
        let p = PageParams { limit: Some(0), cursor: None };
        assert!(p.request(1).is_err());
        let p = PageParams { limit: None, cursor: Some("not a cursor!".into()) };
        assert_eq!(p.request(1).unwrap_err().errors[0].field, "cursor");
        let c = encode_cursor(&["2026-01-01T00:00:00Z", "abc"]);
        let p = PageParams { limit: None, cursor: Some(c.clone()) };
        assert!(p.request(1).is_err(), "a cursor of another list shape is rejected");
        let r = PageParams { limit: None, cursor: Some(c) }.request(2).unwrap();
        assert_eq!(r.limit, DEFAULT_LIMIT);
        assert_eq!(r.after.unwrap(), vec!["2026-01-01T00:00:00Z", "abc"]);
    }

    #[test]
    fn page_keeps_limit_and_sets_cursor_only_when_more() {
        let req = PageRequest { limit: 2, after: None };
        let page = Page::from_rows(vec![1, 2, 3], &req, |r| vec![r.to_string()], |r| r);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor, Some(encode_cursor(&["2"])));
        let page = Page::from_rows(vec![1, 2], &req, |r| vec![r.to_string()], |r| r);
        assert_eq!(page.next_cursor, None);
    }
}
