use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;

use super::model::*;
use super::{ics, series_store, store};
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

/// List meetings in start order. Partner keys see only meetings that include their partner.
#[utoipa::path(
    tag = "meetings",
    operation_id = "list_meetings",
    params(MeetingFilter, PageParams),
    responses((status = 200, description = "A page of meetings", body = Page<Meeting>)),
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
    let request = page.clone();
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request, &scope)).await?;
    Ok(Page::from_rows(rows, &page, store::cursor_of, |m| m).respond(&req))
}

/// Get a meeting with its action items and the progress review: `carried_over_action_items`, the
/// items still open from earlier meetings with any of its partners.
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
    Ok(etag::respond(StatusCode::OK, &detail, detail.meeting.version, None))
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

fn is_utc(tz: chrono_tz::Tz) -> bool {
    matches!(tz, chrono_tz::Tz::UTC | chrono_tz::Tz::Etc__UTC | chrono_tz::Tz::Etc__UCT | chrono_tz::Tz::UCT)
}

/// The VEVENT of a meeting: UID `<id>@channeldesk`, SEQUENCE `version − 1`, times in the
/// meeting's own timezone (UTC ones in UTC).
fn ics_event(meeting: &Meeting, names: &HashMap<String, String>) -> Result<ics::Event, ApiError> {
    let tz = store::tz_of(meeting)?;
    let partners: Vec<&str> =
        meeting.partner_ids.iter().map(|id| names.get(id).map(String::as_str).unwrap_or(id.as_str())).collect();
    let mut description = vec![format!("{} · {}", meeting.kind.as_str().replace('_', " "), partners.join(", "))];
    if !meeting.agenda.is_empty() {
        description.push("Agenda:".into());
        description.extend(meeting.agenda.iter().enumerate().map(|(i, item)| format!("{}. {item}", i + 1)));
    }
    if let Some(url) = &meeting.online_url {
        description.push(format!("Online: {url}"));
    }
    description.push(format!("Organizer: {}", meeting.organizer));
    if !meeting.attendees.is_empty() {
        let who: Vec<&str> = meeting.attendees.iter().map(|a| a.name.as_str()).collect();
        description.push(format!("Attendees: {}", who.join(", ")));
    }
    if let Some(reason) = &meeting.cancel_reason {
        description.push(format!("Cancelled: {reason}"));
    }
    Ok(ics::Event {
        uid: format!("{}@channeldesk", meeting.id),
        dtstamp: meeting.updated_at,
        created: meeting.created_at,
        starts_at: meeting.starts_at,
        ends_at: meeting.ends_at,
        tz: if is_utc(tz) { None } else { Some(tz) },
        summary: meeting.title.clone(),
        description: Some(description.join("\n")),
        location: meeting.location.clone(),
        url: meeting.online_url.clone(),
        categories: Some(meeting.kind.as_str().to_string()),
        organizer: meeting
            .organizer_email
            .as_ref()
            .map(|email| ics::Person { name: meeting.organizer.clone(), email: email.clone() }),
        attendees: meeting
            .attendees
            .iter()
            .filter_map(|a| a.email.as_ref().map(|e| ics::Person { name: a.name.clone(), email: e.clone() }))
            .collect(),
        sequence: meeting.version - 1,
        cancelled: meeting.status == MeetingStatus::Cancelled,
    })
}

const CALENDAR: &str = "text/calendar; charset=utf-8";

/// One meeting as an iCalendar (RFC 5545) file.
#[utoipa::path(
    tag = "meetings",
    operation_id = "get_meeting_calendar",
    params(("id" = uuid::Uuid, Path, description = "Meeting id")),
    responses((status = 200, description = "A VCALENDAR with one VEVENT", body = String, content_type = "text/calendar",
        headers(("ETag" = String)))),
)]
#[get("/meetings/{id}/calendar.ics")]
pub async fn calendar_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let (meeting, names) = state
        .db
        .read(move |conn| {
            let meeting = store::get(conn, &id, &scope)?;
            let names = store::partner_names(conn, &meeting.partner_ids)?;
            Ok((meeting, names))
        })
        .await?;
    let body = ics::calendar(&meeting.title, &[ics_event(&meeting, &names)?]);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, CALENDAR))
        .insert_header((header::ETAG, etag::etag(meeting.version)))
        .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"meeting-{}.ics\"", meeting.id)))
        .body(body))
}

/// A calendar feed: the meetings starting in `[from, to)` (default: from 30 days ago, for 400
/// days), optionally of one partner; partner keys get their own partner's meetings.
#[utoipa::path(
    tag = "meetings",
    operation_id = "get_calendar_feed",
    params(CalendarFilter),
    responses((status = 200, description = "A VCALENDAR with one VEVENT per meeting", body = String, content_type = "text/calendar")),
)]
#[get("/calendar.ics")]
pub async fn calendar_feed(
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<CalendarFilter>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let window = filter.window(Utc::now())?;
    let (meetings, names) = state
        .db
        .read(move |conn| {
            let meetings = store::feed(conn, &window, &scope, MAX_FEED_EVENTS + 1)?;
            let mut ids: Vec<String> = meetings.iter().flat_map(|m| m.partner_ids.iter().cloned()).collect();
            ids.sort();
            ids.dedup();
            let names = store::partner_names(conn, &ids)?;
            Ok((meetings, names))
        })
        .await?;
    if meetings.len() > MAX_FEED_EVENTS {
        return Err(ApiError::field(
            "from",
            format!("the window holds more than {MAX_FEED_EVENTS} meetings: narrow it or filter by partner_id"),
        ));
    }
    let events = meetings.iter().map(|m| ics_event(m, &names)).collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, CALENDAR))
        .body(ics::calendar("channeldesk meetings", &events)))
}

// ---- action items ----

fn item_location(id: &str) -> String {
    format!("/api/v1/action-items/{id}")
}

/// Add an action item to a meeting.
#[utoipa::path(
    tag = "meetings",
    operation_id = "create_action_item",
    params(("id" = uuid::Uuid, Path, description = "Meeting id")),
    request_body = ActionItemCreate,
    responses(
        (status = 201, description = "Created", body = ActionItem, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "`meeting_cancelled`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/meetings/{id}/action-items")]
pub async fn create_action_item(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<ActionItemCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let meeting_id = path_id("id", &id)?;
    let input = body.0;
    input.validate()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let item = store::create_action_item(conn, &actor, &meeting_id, &input, Utc::now())?;
        Ok(Reply::created(&item, item_location(&item.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// A meeting's action items in the order they were added (partner keys: their partner's items).
#[utoipa::path(
    tag = "meetings",
    operation_id = "list_meeting_action_items",
    params(("id" = uuid::Uuid, Path, description = "Meeting id"), PageParams),
    responses((status = 200, description = "A page of action items", body = Page<ActionItem>)),
)]
#[get("/meetings/{id}/action-items")]
pub async fn list_meeting_action_items(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let meeting_id = path_id("id", &id)?;
    let page = page.request(1)?;
    let request = page.clone();
    let rows =
        state.db.read(move |conn| store::list_meeting_items(conn, &meeting_id, &request, &scope, Utc::now())).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Action items across meetings, soonest due first (undated last). Partner keys see their
/// partner's items.
#[utoipa::path(
    tag = "meetings",
    operation_id = "list_action_items",
    params(ActionItemFilter, PageParams),
    responses((status = 200, description = "A page of action items", body = Page<ActionItem>)),
)]
#[get("/action-items")]
pub async fn list_action_items(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<ActionItemFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let filter = filter.validated()?;
    let page = page.request(2)?;
    let request = page.clone();
    let rows = state.db.read(move |conn| store::list_action_items(conn, &filter, &request, &scope, Utc::now())).await?;
    Ok(Page::from_rows(rows, &page, store::item_cursor, |i| i).respond(&req))
}

/// Get an action item.
#[utoipa::path(
    tag = "meetings",
    operation_id = "get_action_item",
    params(("id" = uuid::Uuid, Path, description = "Action item id")),
    responses((status = 200, description = "The action item", body = ActionItem, headers(("ETag" = String)))),
)]
#[get("/action-items/{id}")]
pub async fn get_action_item(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let item = state.db.read(move |conn| store::get_action_item(conn, &id, &scope, Utc::now())).await?;
    Ok(etag::ok(&item))
}

/// Change an action item (JSON merge patch); `{"status": "done"}` closes it and sets `done_at`.
#[utoipa::path(
    tag = "meetings",
    operation_id = "update_action_item",
    params(("id" = uuid::Uuid, Path, description = "Action item id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body = ActionItemUpdate,
    responses(
        (status = 200, description = "Updated", body = ActionItem, headers(("ETag" = String))),
        (status = 409, description = "`action_item_closed`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/action-items/{id}")]
pub async fn update_action_item(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<ActionItemUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let (actor, patch) = (caller.actor(), body.0);
    let item =
        state.db.write(move |conn| store::update_action_item(conn, &actor, &id, &expected, &patch, Utc::now())).await?;
    Ok(etag::ok(&item))
}

// ---- series ----

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
        let series = series_store::create(conn, &actor, &input)?;
        Ok(Reply::created(&series, series_location(&series.id)))
    })
    .await?;
    Ok(reply.into_response())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesFilter {
    pub status: Option<SeriesStatus>,
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
    let rows = state.db.read(move |conn| series_store::list(conn, status, &request)).await?;
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
    let series = state.db.read(move |conn| series_store::get(conn, &id)).await?;
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
    let series =
        state.db.write(move |conn| series_store::update(conn, &actor, &id, &expected, &patch, Utc::now())).await?;
    Ok(etag::ok(&series))
}
