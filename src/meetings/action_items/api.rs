//! The action item endpoints: add one to a meeting, list a meeting's or everyone's, read and
//! change one. Partner keys see the items assigned to their partner; staff write.

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
        let item = store::create(conn, &actor, &meeting_id, &input, Utc::now())?;
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
        state.db.read(move |conn| store::list_for_meeting(conn, &meeting_id, &request, &scope, Utc::now())).await?;
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
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request, &scope, Utc::now())).await?;
    Ok(Page::from_rows(rows, &page, store::cursor_of, |i| i).respond(&req))
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
    let item = state.db.read(move |conn| store::get(conn, &id, &scope, Utc::now())).await?;
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
    let item = state.db.write(move |conn| store::update(conn, &actor, &id, &expected, &patch, Utc::now())).await?;
    Ok(etag::ok(&item))
}
