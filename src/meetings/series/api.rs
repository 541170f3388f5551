//! The meeting series endpoints (staff only): create a recurring series, list and read series
//! with their occurrences, edit occurrences from a point on or cancel the series.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::Utc;

use super::model::*;
use super::store;
use crate::access::Caller;
use crate::error::ApiError;
use crate::http::etag;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::state::AppState;
use crate::validation::path_id;

fn series_location(id: &str) -> String {
    format!("/api/v1/meeting-series/{id}")
}

/// Create a recurring series: every occurrence is made up front as a meeting with `series_id`
/// (at most 200). Occurrences keep the template's wall-clock time in its timezone; monthly on the
/// 31st falls on shorter months' last day.
#[utoipa::path(
    tag = "meetings",
    operation_id = "create_meeting_series",
    request_body = MeetingSeriesCreate,
    responses(
        (status = 201, description = "Created (`meeting_series.scheduled`)", body = MeetingSeries,
            headers(("Location" = String), ("ETag" = String))),
    ),
)]
#[post("/meeting-series")]
pub async fn create_series(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<MeetingSeriesCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let input = body.0;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let series = store::create(conn, &actor, &input)?;
        Ok(Reply::created(&series, series_location(&series.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List series, newest first (staff only).
#[utoipa::path(
    tag = "meetings",
    operation_id = "list_meeting_series",
    params(SeriesFilter, PageParams),
    responses((status = 200, description = "A page of series", body = Page<MeetingSeries>)),
)]
#[get("/meeting-series")]
pub async fn list_series(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<SeriesFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_read()?;
    let page = page.request(1)?;
    let (status, request) = (filter.status, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, status, &request)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a series with its occurrences (staff only).
#[utoipa::path(
    tag = "meetings",
    operation_id = "get_meeting_series",
    params(("id" = uuid::Uuid, Path, description = "Series id")),
    responses((status = 200, description = "The series", body = MeetingSeries, headers(("ETag" = String)))),
)]
#[get("/meeting-series/{id}")]
pub async fn get_series(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_read()?;
    let id = path_id("id", &id)?;
    let series = state.db.read(move |conn| store::get(conn, &id)).await?;
    Ok(etag::ok(&series))
}

/// Edit a series. `{"from": <date or occurrence id>, "changes": {…}}` changes that occurrence (or
/// the first on or after that local date) and every later one that is still scheduled — held and
/// cancelled occurrences keep their record; without `from`, the occurrences that have not started
/// yet. `changes.start_time`/`timezone`/`duration_minutes` move each occurrence on its own local
/// date; `changes.status: cancelled` ends the series there. `{"status": "cancelled",
/// "cancel_reason": …}` cancels the series: its scheduled future occurrences are cancelled, past
/// and held ones stay.
#[utoipa::path(
    tag = "meetings",
    operation_id = "update_meeting_series",
    params(("id" = uuid::Uuid, Path, description = "Series id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body = MeetingSeriesUpdate,
    responses(
        (status = 200, description = "Updated (`meeting_series.updated` or `meeting_series.cancelled`)", body = MeetingSeries, headers(("ETag" = String))),
        (status = 409, description = "`series_cancelled`, `no_scheduled_occurrences` or `partner_has_action_items`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/meeting-series/{id}")]
pub async fn update_series(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<MeetingSeriesUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let (actor, patch) = (caller.actor(), body.0);
    let series = state.db.write(move |conn| store::update(conn, &actor, &id, &expected, &patch, Utc::now())).await?;
    Ok(etag::ok(&series))
}
