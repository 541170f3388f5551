//! `/api/v1/targets`: joint targets (共同目标) with their actuals. Staff write; viewers read; a
//! partner key reads its own partner's targets only (others are 404).

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

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
    format!("/api/v1/targets/{id}")
}

/// Set a partner's target for a month, quarter or year. Created as `agreed`, it sends `target.agreed`.
#[utoipa::path(
    operation_id = "create_target",
    tag = "performance",
    request_body = TargetCreate,
    responses(
        (status = 201, description = "Created", body = TargetView, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "`target_exists` (same partner, period and metric) or `partner_archived`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/targets")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<TargetCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let input = body.0;
    input.validate()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let record = store::create(conn, &actor, input)?;
        Ok(Reply::created(&record, location(&record.target.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List targets, newest first, each with its actual and attainment.
#[utoipa::path(
    operation_id = "list_targets",
    tag = "performance",
    params(TargetFilter, PageParams),
    responses((status = 200, description = "A page of targets", body = Page<TargetView>)),
)]
#[get("/targets")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<TargetFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    filter.validate()?;
    let page = page.request(1)?;
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request, &scope)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a target with its actual (from the period's whole-business performance records) and attainment.
#[utoipa::path(
    operation_id = "get_target",
    tag = "performance",
    params(("id" = uuid::Uuid, Path, description = "Target id")),
    responses((status = 200, description = "The target", body = TargetView, headers(("ETag" = String)))),
)]
#[get("/targets/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let record = state.db.read(move |conn| store::get(conn, &id, &scope)).await?;
    Ok(etag::ok(&record))
}

/// Change a draft target (JSON merge patch); `{"status": "agreed"}` agrees it and sends `target.agreed`.
#[utoipa::path(
    operation_id = "update_target",
    tag = "performance",
    params(("id" = uuid::Uuid, Path, description = "Target id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the target changed since")),
    request_body = TargetUpdate,
    responses(
        (status = 200, description = "Updated", body = TargetView, headers(("ETag" = String))),
        (status = 409, description = "`target_exists`, `target_agreed` (an agreed target no longer changes)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/targets/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<TargetUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let patch = body.0;
    patch.validate()?;
    let actor = caller.actor();
    let reply =
        idempotency::write(&state.db, move |conn| Ok(Reply::ok(&store::update(conn, &actor, &id, &expected, &patch)?)))
            .await?;
    Ok(reply.into_response())
}

/// Delete a target (the audit trail keeps what it was).
#[utoipa::path(
    operation_id = "delete_target",
    tag = "performance",
    params(("id" = uuid::Uuid, Path, description = "Target id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/targets/{id}")]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        store::delete(conn, &actor, &id, &expected)?;
        Ok(Reply::no_content())
    })
    .await?;
    Ok(reply.into_response())
}
