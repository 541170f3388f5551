//! `Idempotency-Key` on POST: the same key and body within 24 h replays the first response; the
//! same key with another body is 422 `idempotency_key_reused`; a retry that races the first
//! request still running is 409 `idempotency_key_in_progress`.
//!
//! Keys are scoped to the caller's credential (a hash of the Authorization header), so two API
//! keys cannot see each other's responses. 5xx answers are not kept: the client may retry them.

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use diesel::prelude::*;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::db::schema::idempotency_keys as ik;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
const KEEP_HOURS: i64 = 24;
/// A pending entry older than this belongs to a request that died before it answered.
const PENDING_LEASE_SECS: i64 = 60;
/// Response headers worth replaying.
const REPLAYED: [header::HeaderName; 3] = [header::LOCATION, header::ETAG, header::CONTENT_TYPE];

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = req.headers().get(HEADER).map(|v| v.to_str().map(str::to_string));
    let auth = req.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes().to_vec());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(key), Some(auth), Some(state), true) = (key, auth, state, req.method() == Method::POST) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match key {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.chars().all(|c| c.is_ascii_graphic()) => k,
        _ => {
            let err = ApiError::field("Idempotency-Key", "must be 1 to 255 visible ASCII characters");
            return Ok(req.error_response(err));
        }
    };

    // Read the body to fingerprint it, then hand it back to the handler unchanged.
    let limit = state.config.body_limit_bytes;
    let mut body = web::BytesMut::new();
    let mut payload = req.take_payload();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            let err = ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::PayloadTooLarge,
                format!("the body is larger than the limit of {limit} bytes"),
            );
            return Ok(req.error_response(err));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let scope = hex::encode(Sha256::digest(&auth));
    let fingerprint = {
        let mut h = Sha256::new();
        h.update(req.path().as_bytes());
        h.update(b"?");
        h.update(req.query_string().as_bytes());
        h.update(b"\n");
        h.update(&body);
        hex::encode(h.finalize())
    };
    req.set_payload(actix_web::dev::Payload::from(body));

    let claim = {
        let (scope, key, fingerprint) = (scope.clone(), key.clone(), fingerprint.clone());
        state.db.write(move |conn| claim(conn, &scope, &key, &fingerprint)).await
    };
    match claim {
        Err(err) => return Ok(req.error_response(err)),
        Ok(Claim::Replay(stored)) => return Ok(req.into_response(stored.into_response())),
        Ok(Claim::Fresh) => {}
    }

    let res = match next.call(req).await {
        Ok(res) => res,
        Err(err) => {
            forget(&state, scope, key).await;
            return Err(err);
        }
    };
    let status = res.status();
    let headers: Vec<(String, String)> = REPLAYED
        .iter()
        .filter_map(|name| {
            res.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| (name.to_string(), v.to_string()))
        })
        .collect();
    let (http_req, http_res) = res.into_parts();
    let (head, body) = http_res.into_parts();
    let bytes = match to_bytes(body).await {
        Ok(b) => b,
        Err(_) => {
            forget(&state, scope, key).await;
            return Ok(ServiceResponse::new(
                http_req,
                actix_web::ResponseError::error_response(&ApiError::internal("response body could not be read")),
            ));
        }
    };
    if status.is_server_error() {
        forget(&state, scope, key).await;
    } else {
        let stored = Stored { status: status.as_u16(), headers, body: String::from_utf8_lossy(&bytes).into_owned() };
        let saved = state.db.write(move |conn| save(conn, &scope, &key, &stored)).await;
        if let Err(err) = saved {
            tracing::error!(error = %err, "could not store the idempotent response");
        }
    }
    Ok(ServiceResponse::new(http_req, head.set_body(BoxBody::new(bytes))))
}

enum Claim {
    Fresh,
    Replay(Stored),
}

struct Stored {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Stored {
    fn into_response(self) -> HttpResponse {
        let mut res = HttpResponse::build(StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK));
        for (name, value) in self.headers {
            res.insert_header((name, value));
        }
        res.insert_header(("Idempotent-Replayed", "true"));
        res.body(self.body)
    }
}

type Row = (String, Option<i32>, Option<String>, Option<String>, chrono::NaiveDateTime);

fn claim(conn: &mut DbConn, scope: &str, key: &str, fingerprint: &str) -> Result<Claim, ApiError> {
    let now = db::now();
    let existing: Option<Row> = ik::table
        .filter(ik::scope.eq(scope).and(ik::idempotency_key.eq(key)))
        .select((ik::request_hash, ik::status_code, ik::response_headers, ik::response_body, ik::created_at))
        .first(conn)
        .optional()?;
    if let Some((hash, status, headers, body, created_at)) = existing {
        let age = now - created_at;
        let expired = age > chrono::Duration::hours(KEEP_HOURS);
        let abandoned = status.is_none() && age > chrono::Duration::seconds(PENDING_LEASE_SECS);
        if !expired && !abandoned {
            if hash != fingerprint {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Code::IdempotencyKeyReused,
                    "this Idempotency-Key was used with a different request; use a new key",
                ));
            }
            return match status {
                None => Err(ApiError::conflict(
                    Code::IdempotencyKeyInProgress,
                    "a request with this Idempotency-Key is still being processed; retry shortly",
                )),
                Some(status) => Ok(Claim::Replay(Stored {
                    status: u16::try_from(status).unwrap_or(200),
                    headers: headers.map(|h| db::json::decode(&h)).transpose()?.unwrap_or_default(),
                    body: body.unwrap_or_default(),
                })),
            };
        }
        diesel::delete(ik::table.filter(ik::scope.eq(scope).and(ik::idempotency_key.eq(key)))).execute(conn)?;
    }
    // Old entries go as new ones arrive, so the table stays bounded without a sweeper.
    diesel::delete(ik::table.filter(ik::created_at.lt(now - chrono::Duration::hours(KEEP_HOURS)))).execute(conn)?;
    let inserted = diesel::insert_into(ik::table)
        .values((
            ik::scope.eq(scope),
            ik::idempotency_key.eq(key),
            ik::request_hash.eq(fingerprint),
            ik::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(Claim::Fresh),
        // Another replica claimed the key between our read and insert (Postgres).
        Err(e) if db::is_unique_violation(&e) => Err(ApiError::conflict(
            Code::IdempotencyKeyInProgress,
            "a request with this Idempotency-Key is still being processed; retry shortly",
        )),
        Err(e) => Err(e.into()),
    }
}

fn save(conn: &mut DbConn, scope: &str, key: &str, stored: &Stored) -> Result<(), ApiError> {
    diesel::update(ik::table.filter(ik::scope.eq(scope).and(ik::idempotency_key.eq(key))))
        .set((
            ik::status_code.eq(Some(i32::from(stored.status))),
            ik::response_headers.eq(Some(db::json::encode(&stored.headers))),
            ik::response_body.eq(Some(&stored.body)),
        ))
        .execute(conn)?;
    Ok(())
}

async fn forget(state: &web::Data<AppState>, scope: String, key: String) {
    let res = state
        .db
        .write(move |conn| {
            diesel::delete(ik::table.filter(ik::scope.eq(&scope).and(ik::idempotency_key.eq(&key)))).execute(conn)?;
            Ok(())
        })
        .await;
    if let Err(err) = res {
        tracing::error!(error = %err, "could not release an idempotency key");
    }
}
