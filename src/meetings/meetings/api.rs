//! The meeting endpoints: schedule, list, read (with action items and the progress review) and
//! change a meeting. Partner keys read the meetings that include their partner; staff write.

use actix_web::http::StatusCode;
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

fn location(id: &str) -> String {
    format!("/api/v1/meetings/{id}")
}

/// Schedule a meeting with one or more partners.
#[utoipa::path(
    tag = "meetings",
    operation_id = "create_meeting",
    request_body = MeetingCreate,
    responses(
        (status = 201, description = "Scheduled (`meeting.scheduled`)", body = Meeting,
            headers(("Location" = String), ("ETag" = String))),
    ),
)]
#[post("/meetings")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<MeetingCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let input = body.0;
    input.validate()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let meeting = store::create(conn, &actor, &input)?;
        Ok(Reply::created(&meeting, location(&meeting.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List meetings in start order. Partner keys see only meetings that include their partner, and
/// of a joint meeting only their own partner and its attendees (the rest as `other_partners` and
/// `other_attendees`).
#[utoipa::path(
    tag = "meetings",
    operation_id = "list_meetings",
    params(MeetingFilter, PageParams),
    responses((status = 200, description = "A page of meetings", body = Page<MeetingView>)),
)]
#[get("/meetings")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<MeetingFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let filter = filter.validated()?;
    let page = page.request(2)?;
    let (request, view_scope) = (page.clone(), scope.clone());
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request, &scope)).await?;
    Ok(Page::from_rows(rows, &page, store::cursor_of, |m| m.view(&view_scope)).respond(&req))
}

/// Get a meeting with its action items and the progress review: `carried_over_action_items`, the
/// items still open from earlier meetings with any of its partners. Partner keys see their own
/// partner's part of it (see the list).
#[utoipa::path(
    tag = "meetings",
    operation_id = "get_meeting",
    params(("id" = uuid::Uuid, Path, description = "Meeting id")),
    responses((status = 200, description = "The meeting", body = MeetingDetail, headers(("ETag" = String)))),
)]
#[get("/meetings/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let detail = state.db.read(move |conn| store::detail(conn, &id, &scope, Utc::now())).await?;
    Ok(etag::respond(StatusCode::OK, &detail, detail.meeting.meeting.version, None))
}

/// Change a meeting (JSON merge patch). `{"status": "held", "minutes": …}` records it as held
/// (with optional `decisions` and new `action_items`); `{"status": "cancelled", "cancel_reason":
/// …}` cancels it. A held meeting keeps its time and partners; a cancelled one no longer changes.
#[utoipa::path(
    tag = "meetings",
    operation_id = "update_meeting",
    params(("id" = uuid::Uuid, Path, description = "Meeting id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the meeting changed since")),
    request_body = MeetingUpdate,
    responses(
        (status = 200, description = "Updated (`meeting.updated`, `meeting.held` or `meeting.cancelled`)", body = Meeting, headers(("ETag" = String))),
        (status = 409, description = "`invalid_status_transition`, `meeting_cancelled`, `meeting_held` or `partner_has_action_items`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/meetings/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<MeetingUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let (actor, patch) = (caller.actor(), body.0);
    let meeting = state.db.write(move |conn| store::update(conn, &actor, &id, &expected, &patch)).await?;
    Ok(etag::ok(&meeting))
}
