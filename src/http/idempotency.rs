//! `Idempotency-Key` on POST: the same key and body within 24 h replays the first response; the
//! same key with another body is 422 `idempotency_key_reused`.
//!
//! The rules this keeps:
//! - **Nothing before authentication.** The caller is verified (through the auth cache) before
//!   anything touches the idempotency table; a request with a bad key is a 401 that writes nothing.
//! - **Records are the caller's.** A record is scoped to the API key that made it: another key may
//!   use the same key text independently and never sees the first key's responses.
//! - **The record commits with the change.** A write handler builds its response inside its
//!   transaction through [`write`], which stores that response in the same transaction. After a
//!   crash at any point, a retry either finds the record (and replays it) or finds neither record
//!   nor change (and runs for the first time) — never twice. Two concurrent twins: the second
//!   waits for the first's commit (SQLite takes writers in turn; on Postgres the primary key
//!   blocks it), rolls back its own change and replays the first's response.
//! - Answers that changed nothing (4xx, and POSTs that write nothing) are recorded after the
//!   handler, in a transaction of their own; 5xx answers are not kept, so the client may retry.
//! - A response that shows a secret once (a new API key) is recorded without its body; a replay
//!   answers 409 `idempotency_replay_withheld` instead of showing the secret again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use diesel::prelude::*;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::reply::Reply;
use crate::db::schema::idempotency_keys as ik;
use crate::db::{self, Db, DbConn};
use crate::error::{ApiError, Code};
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
/// How long a recorded response is replayed.
pub const KEEP_HOURS: i64 = 24;
/// Response headers worth replaying.
const REPLAYED: [HeaderName; 3] = [header::LOCATION, header::ETAG, header::CONTENT_TYPE];

/// The idempotent request being served: set by the middleware for the handler's task.
#[derive(Debug, Clone)]
struct Context {
    /// The API key id: records belong to the key that made them.
    scope: String,
    key: String,
    fingerprint: String,
    /// Set once the response was recorded inside the handler's write transaction.
    recorded: Arc<AtomicBool>,
}

tokio::task_local! {
    static CONTEXT: Context;
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = req.headers().get(HEADER).map(|v| v.to_str().map(str::to_string));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(key), Some(state), true) = (key, state, req.method() == Method::POST) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let caller = match super::auth::authenticate(&state, req.headers()).await {
        Ok(caller) => caller,
        Err(err) => return Ok(req.error_response(err)),
    };
    req.extensions_mut().insert(caller.clone());
    let key = match key {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.chars().all(|c| c.is_ascii_graphic()) => k,
        _ => {
            let err = ApiError::field("Idempotency-Key", "must be 1 to 255 visible ASCII characters");
            return Ok(req.error_response(err));
        }
    };
    let body = match read_body(&mut req, state.config.body_limit_bytes).await {
        Ok(body) => body,
        Err(err) => return Ok(req.error_response(err)),
    };
    let fingerprint = fingerprint(req.path(), req.query_string(), &body);
    req.set_payload(actix_web::dev::Payload::from(body));

    let ctx = Context { scope: caller.key_id, key, fingerprint, recorded: Arc::new(AtomicBool::new(false)) };
    let found = {
        let ctx = ctx.clone();
        state.db.read(move |conn| lookup(conn, &ctx)).await
    };
    match found {
        Err(err) => return Ok(req.error_response(err)),
        Ok(Some(stored)) => return Ok(req.into_response(stored.into_response())),
        Ok(None) => {}
    }

    let res = CONTEXT.scope(ctx.clone(), next.call(req)).await?;
    if ctx.recorded.load(Ordering::SeqCst) || res.status().is_server_error() {
        return Ok(res.map_into_boxed_body());
    }
    // The handler changed nothing (an error rolled its transaction back, or it writes nothing):
    // record its answer on its own.
    let (http_req, http_res) = res.into_parts();
    let (head, body) = http_res.into_parts();
    let Ok(bytes) = to_bytes(body).await else {
        let err = ApiError::internal("response body could not be read");
        return Ok(ServiceResponse::new(http_req, actix_web::ResponseError::error_response(&err)));
    };
    let reply = Reply {
        status: head.status(),
        headers: REPLAYED
            .iter()
            .filter_map(|name| head.headers().get(name).map(|v| (name.clone(), v.clone())))
            .collect(),
        body: bytes.clone(),
        withheld_on_replay: false,
    };
    let saved = state.db.write(move |conn| record(conn, &ctx, &reply)).await;
    if let Err(err) = saved {
        // A concurrent twin recorded first, or the database went away: the answer stands either way.
        tracing::warn!(error = %err, "could not record the idempotent response");
    }
    Ok(ServiceResponse::new(http_req, head.set_body(BoxBody::new(bytes))))
}

/// Runs a write handler's transaction and, when the request carries an `Idempotency-Key`, records
/// its response in the same transaction. `f` builds the response from what it wrote.
pub async fn write<F>(db: &Db, f: F) -> Result<Reply, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<Reply, ApiError> + Send + 'static,
{
    let Ok(ctx) = CONTEXT.try_with(Context::clone) else {
        return db.write(f).await;
    };
    let outcome = {
        let ctx = ctx.clone();
        db.write(move |conn| {
            take_turn(conn, &ctx)?;
            // A twin that committed while this one waited for its turn: replay, change nothing.
            if let Some(stored) = lookup(conn, &ctx)? {
                return Ok(Outcome::Replayed(stored));
            }
            let reply = f(conn)?;
            record(conn, &ctx, &reply)?;
            Ok(Outcome::Done(reply))
        })
        .await
    };
    match outcome {
        Ok(Outcome::Done(reply)) => {
            ctx.recorded.store(true, Ordering::SeqCst);
            Ok(reply)
        }
        Ok(Outcome::Replayed(stored)) => {
            ctx.recorded.store(true, Ordering::SeqCst);
            Ok(stored.into_reply())
        }
        // A twin may have committed while this transaction failed (a conflict its change caused,
        // or its record): then its answer is this request's answer too.
        Err(err) if !err.status.is_server_error() => match db.read(move |conn| lookup(conn, &ctx)).await? {
            Some(stored) => Ok(stored.into_reply()),
            None => Err(err),
        },
        Err(err) => Err(err),
    }
}

/// Twins with one key take turns: on Postgres a transaction-scoped advisory lock on the key, so
/// the second waits for the first's commit and then finds its record. (SQLite runs one writer at
/// a time already.)
fn take_turn(conn: &mut DbConn, ctx: &Context) -> Result<(), ApiError> {
    Ok(db::take_turn(conn, 7079, &format!("{}\n{}", ctx.scope, ctx.key))?)
}

enum Outcome {
    Done(Reply),
    Replayed(Stored),
}

async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    let mut payload = req.take_payload();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request(Code::MalformedBody, format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::PayloadTooLarge,
                format!("the body is larger than the limit of {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn fingerprint(path: &str, query: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(path.as_bytes());
    h.update(b"?");
    h.update(query.as_bytes());
    h.update(b"\n");
    h.update(body);
    hex::encode(h.finalize())
}

/// A recorded response.
#[derive(Debug)]
struct Stored {
    status: u16,
    headers: Vec<(String, String)>,
    /// `None` when the response was withheld from replays.
    body: Option<String>,
}

impl Stored {
    fn into_reply(self) -> Reply {
        let Some(body) = self.body else {
            let err = ApiError::conflict(
                Code::IdempotencyReplayWithheld,
                "this request succeeded, but its response showed a secret once and is not shown again",
            );
            return Reply::json(err.status, &err.problem(crate::telemetry::current_request_id()))
                .header(header::CONTENT_TYPE, crate::error::PROBLEM_JSON);
        };
        let mut reply = Reply {
            status: StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK),
            headers: Vec::new(),
            body: body.into_bytes().into(),
            withheld_on_replay: false,
        };
        for (name, value) in &self.headers {
            if let Ok(name) = HeaderName::try_from(name.as_str()) {
                reply = reply.header(name, value);
            }
        }
        reply.header(HeaderName::from_static("idempotent-replayed"), "true")
    }

    fn into_response(self) -> actix_web::HttpResponse {
        self.into_reply().into_response()
    }
}

type Row = (String, Option<i32>, Option<String>, Option<String>, chrono::NaiveDateTime);

/// The live record of this key, if any: 422 when it was made by a different request.
fn lookup(conn: &mut DbConn, ctx: &Context) -> Result<Option<Stored>, ApiError> {
    let row: Option<Row> = ik::table
        .filter(ik::scope.eq(&ctx.scope).and(ik::idempotency_key.eq(&ctx.key)))
        .select((ik::request_hash, ik::status_code, ik::response_headers, ik::response_body, ik::created_at))
        .first(conn)
        .optional()?;
    // No status: a claim left by a version that recorded responses after the fact; it is stale.
    let Some((hash, Some(status), headers, body, created_at)) = row else { return Ok(None) };
    if db::now() - created_at > chrono::Duration::hours(KEEP_HOURS) {
        return Ok(None);
    }
    if hash != ctx.fingerprint {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::IdempotencyKeyReused,
            "this Idempotency-Key was used with a different request; use a new key",
        ));
    }
    let headers = headers.map(|h| db::json::decode(&h)).transpose()?.unwrap_or_default();
    Ok(Some(Stored { status: u16::try_from(status).unwrap_or(200), headers, body }))
}

/// Stores `reply` as the answer to this key, replacing an expired (or stale) record of the same key.
fn record(conn: &mut DbConn, ctx: &Context, reply: &Reply) -> Result<(), ApiError> {
    let now = db::now();
    let this_key = ik::scope.eq(&ctx.scope).and(ik::idempotency_key.eq(&ctx.key));
    let dead = ik::created_at.lt(now - chrono::Duration::hours(KEEP_HOURS)).or(ik::status_code.is_null());
    diesel::delete(ik::table.filter(this_key).filter(dead)).execute(conn)?;
    let headers: Vec<(String, String)> = reply
        .headers
        .iter()
        .filter(|(name, _)| REPLAYED.contains(name))
        .filter_map(|(name, value)| value.to_str().ok().map(|v| (name.to_string(), v.to_string())))
        .collect();
    let body = (!reply.withheld_on_replay).then(|| String::from_utf8_lossy(&reply.body).into_owned());
    let inserted = diesel::insert_into(ik::table)
        .values((
            ik::scope.eq(&ctx.scope),
            ik::idempotency_key.eq(&ctx.key),
            ik::request_hash.eq(&ctx.fingerprint),
            ik::status_code.eq(Some(i32::from(reply.status.as_u16()))),
            ik::response_headers.eq(Some(db::json::encode(&headers))),
            ik::response_body.eq(body),
            ik::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if db::is_unique_violation(&e) => Err(ApiError::conflict(
            Code::IdempotencyKeyInProgress,
            "a request with this Idempotency-Key is being processed; retry shortly",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Forgets records past their 24 hours (a periodic job; lookups ignore them anyway).
pub fn sweep(conn: &mut DbConn, now: chrono::DateTime<chrono::Utc>) -> Result<usize, ApiError> {
    let cutoff = now.naive_utc() - chrono::Duration::hours(KEEP_HOURS);
    Ok(diesel::delete(ik::table.filter(ik::created_at.lt(cutoff))).execute(conn)?)
}

pub const SWEEP_JOB: crate::jobs::Job =
    crate::jobs::Job { name: "idempotency_sweep", every: std::time::Duration::from_secs(600), run: sweep };

/// For tests of crash safety: runs `f` as the handler of an idempotent request from `key_id`
/// with `key` and the fingerprint of (`path`, `body`) would — without the middleware's
/// after-the-handler step, as if the process died right after the handler's commit.
pub async fn run_as_idempotent<T, Fut>(key_id: &str, key: &str, path: &str, body: &[u8], f: Fut) -> T
where
    Fut: std::future::Future<Output = T>,
{
    let ctx = Context {
        scope: key_id.to_string(),
        key: key.to_string(),
        fingerprint: fingerprint(path, "", body),
        recorded: Arc::new(AtomicBool::new(false)),
    };
    CONTEXT.scope(ctx, f).await
}
