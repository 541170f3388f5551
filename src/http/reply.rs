//! A response as data. A write handler builds its `Reply` inside the write transaction
//! (`idempotency::write`), so that an idempotent request's response is recorded in the same
//! transaction as the change it describes; reads use the same constructors through `etag`.

use actix_web::body::BoxBody;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder};

use crate::db::Record;

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: actix_web::web::Bytes,
    /// A replay of this response must not show its body again (it carries a secret shown once).
    pub withheld_on_replay: bool,
}

impl Reply {
    /// `status` with `body` as JSON.
    pub fn json<T: serde::Serialize>(status: StatusCode, body: &T) -> Self {
        // Serializing our own response types cannot fail; an empty object is the safe fallback.
        let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
        Self {
            status,
            headers: vec![(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            body: bytes.into(),
            withheld_on_replay: false,
        }
    }

    /// 200 with the record and its `ETag`.
    pub fn ok<T: serde::Serialize + Record>(record: &T) -> Self {
        Self::json(StatusCode::OK, record).etag(record.version())
    }

    /// 201 with the record, its `ETag` and its `Location`.
    pub fn created<T: serde::Serialize + Record>(record: &T, location: String) -> Self {
        Self::json(StatusCode::CREATED, record).etag(record.version()).header(header::LOCATION, &location)
    }

    pub fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            headers: Vec::new(),
            body: Default::default(),
            withheld_on_replay: false,
        }
    }

    pub fn etag(self, version: i64) -> Self {
        self.header(header::ETAG, &etag_value(version))
    }

    /// Adds a header; a value that is not valid header text is left out.
    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.retain(|(n, _)| *n != name);
            self.headers.push((name, value));
        }
        self
    }

    pub fn withheld_on_replay(mut self) -> Self {
        self.withheld_on_replay = true;
        self
    }

    pub fn into_response(self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        for (name, value) in self.headers {
            res.insert_header((name, value));
        }
        res.body(self.body)
    }
}

/// The `ETag` of a record's version: the number in quotes.
pub fn etag_value(version: i64) -> String {
    format!("\"{version}\"")
}

impl Responder for Reply {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        self.into_response()
    }
}

impl From<Reply> for HttpResponse {
    fn from(reply: Reply) -> Self {
        reply.into_response()
    }
}
