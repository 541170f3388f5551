//! The calendar endpoints: one meeting as an `.ics` file, and a feed of the meetings in a window
//! (partner keys: their partner's meetings) that calendar apps subscribe to.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use chrono::Utc;

use super::model::*;
use super::{export, ics, store};
use crate::access::Caller;
use crate::error::ApiError;
use crate::http::etag;
use crate::http::extract::Query;
use crate::state::AppState;
use crate::validation::path_id;

pub const CALENDAR: &str = "text/calendar; charset=utf-8";

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
    let (view, names) = state.db.read(move |conn| store::one(conn, &id, &scope)).await?;
    let body = ics::calendar(&view.meeting.title, &[export::event(&view, &names)?]);
    let meeting = &view.meeting;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, CALENDAR))
        .insert_header((header::ETAG, etag::etag(meeting.version)))
        .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"meeting-{}.ics\"", meeting.id)))
        .body(body))
}

/// A calendar feed: the meetings starting in `[from, to)` (default: from 30 days ago, for 400
/// days), optionally of one partner; partner keys get their own partner's meetings, each naming
/// only that partner and its attendees ("2 other attendees" for the rest).
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
    let feed = state.db.read(move |conn| store::feed(conn, &window, &scope)).await?;
    let body = export::feed(&feed.meetings, &feed.names)?;
    Ok(HttpResponse::Ok().insert_header((header::CONTENT_TYPE, CALENDAR)).body(body))
}
