//! The calendar feed endpoints. Any key that may read meetings makes, lists and revokes its own
//! feeds (a feed reads no more than its key could); the feed URL itself needs no Authorization
//! header, since calendar apps cannot send one: its token is the credential.

use actix_web::http::{header, StatusCode};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;

use super::model::*;
use super::store;
use crate::access::Caller;
use crate::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::meetings::calendar::{api::CALENDAR, export, store as calendar};
use crate::state::AppState;
use crate::validation::path_id;

/// Where feed URLs point: the configured public base URL, else the host this request came to.
fn base_url(req: &HttpRequest, state: &AppState) -> String {
    match &state.config.notify.public_base_url {
        Some(base) => base.clone(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

/// Make a calendar subscription URL for this key: the feed `/calendar.ics` gives with these
/// filters, readable without an Authorization header (for Outlook, Google and Apple Calendar),
/// with this key's scope — a partner key's feed shows its own side of joint meetings only. The
/// URL is shown in this response only; it stops working when the feed or this key is revoked.
#[utoipa::path(
    tag = "meetings",
    operation_id = "create_calendar_feed",
    request_body = FeedFilters,
    responses(
        (status = 201, description = "Created; `url` is shown only now", body = CalendarFeedCreated,
            headers(("Location" = String, description = "The feed's record (without its URL)"))),
        (status = 409, description = "`idempotency_replay_withheld`: a replay does not show the URL again", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/calendar-feeds")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<FeedFilters>,
) -> Result<HttpResponse, ApiError> {
    let filters = body.0.validated(Utc::now())?;
    let (actor, owner, base) = (caller.actor(), caller.key_id.clone(), base_url(&req, &state));
    // The URL carries the token: a replay answers 409 instead of showing it again, and the
    // recorded response never holds it.
    let reply = idempotency::write(&state.db, move |conn| {
        let (feed, token) = store::create(conn, &actor, &owner, filters)?;
        let location = format!("/api/v1/calendar-feeds/{}", feed.id);
        let created = CalendarFeedCreated { url: feed_url(&base, &token), feed };
        Ok(Reply::json(StatusCode::CREATED, &created).header(header::LOCATION, &location).withheld_on_replay())
    })
    .await?;
    Ok(reply.into_response())
}

/// This key's current calendar feeds, newest first (without their URLs).
#[utoipa::path(
    tag = "meetings",
    operation_id = "list_calendar_feeds",
    params(PageParams),
    responses((status = 200, description = "A page of feeds", body = Page<CalendarFeed>)),
)]
#[get("/calendar-feeds")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = page.request(1)?;
    let (owner, request) = (caller.key_id.clone(), page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &owner, &request)).await?;
    Ok(Page::from_rows(rows, &page, |f| vec![f.id.clone()], |f| f).respond(&req))
}

/// One of this key's current calendar feeds (without its URL).
#[utoipa::path(
    tag = "meetings",
    operation_id = "get_calendar_feed_record",
    params(("id" = uuid::Uuid, Path, description = "Feed id")),
    responses(
        (status = 200, description = "The feed", body = CalendarFeed),
        (status = 404, description = "`calendar_feed_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/calendar-feeds/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path_id("id", &id)?;
    let owner = caller.key_id.clone();
    let feed = state.db.read(move |conn| store::get(conn, &owner, &id)).await?;
    Ok(HttpResponse::Ok().json(feed))
}

/// Revoke one of this key's calendar feeds: its URL answers 404 from now on.
#[utoipa::path(
    tag = "meetings",
    operation_id = "revoke_calendar_feed",
    params(("id" = uuid::Uuid, Path, description = "Feed id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "`calendar_feed_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/calendar-feeds/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id("id", &id)?;
    let (actor, owner) = (caller.actor(), caller.key_id.clone());
    state.db.write(move |conn| store::revoke(conn, &actor, &owner, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A calendar feed by its URL, without an Authorization header: the `.ics` that
/// `/api/v1/calendar.ics` gives with the feed's filters and the scope of the key that made it.
/// 404 once the feed or that key is revoked.
#[utoipa::path(
    tag = "meetings",
    operation_id = "read_calendar_feed",
    params(("token" = String, Path, description = "The feed's token, as in the URL its creation returned")),
    responses(
        (status = 200, description = "A VCALENDAR with one VEVENT per meeting", body = String, content_type = "text/calendar"),
        (status = 404, description = "`calendar_feed_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the feed's window holds more meetings than a feed carries", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(()),
)]
#[get("/feeds/{token}.ics")]
pub async fn read(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    let feed = state
        .db
        .read(move |conn| {
            let (filters, scope) = store::by_token(conn, &token)?.ok_or_else(feed_not_found)?;
            calendar::feed(conn, &filters.window(Utc::now())?, &scope)
        })
        .await?;
    let body = export::feed(&feed.meetings, &feed.names)?;
    Ok(HttpResponse::Ok().insert_header((header::CONTENT_TYPE, CALENDAR)).body(body))
}
