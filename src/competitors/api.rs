//! Competitor handlers. Competitor intelligence is internal: every role but `partner` reads it,
//! managers and admins change it, and a partner key is answered 403.

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

/// What the 403 to partner keys names.
pub const INTERNAL: &str = "competitor intelligence";

/// Add a competitor. Partner keys: 403 (competitor intelligence is internal).
#[utoipa::path(
    operation_id = "create_competitor",
    tag = "competitors",
    request_body = CompetitorCreate,
    responses(
        (status = 201, description = "Created", body = Competitor, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "`forbidden`: viewers, and partner keys (competitor intelligence is internal)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`competitor_name_taken`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/competitors")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CompetitorCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_internal_write(INTERNAL)?;
    let input = body.0;
    input.validate()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let competitor = store::create(conn, &actor, &input)?;
        Ok(Reply::created(&competitor, format!("/api/v1/competitors/{}", competitor.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List current competitors, newest first. Partner keys: 403 (competitor intelligence is internal).
#[utoipa::path(
    operation_id = "list_competitors",
    tag = "competitors",
    params(CompetitorFilter, PageParams),
    responses(
        (status = 200, description = "A page of competitors", body = Page<Competitor>),
        (status = 403, description = "`forbidden`: partner keys (competitor intelligence is internal)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/competitors")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<CompetitorFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_internal_read(INTERNAL)?;
    filter.validate()?;
    let page = page.request(1)?;
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a competitor (archived ones too, with `archived_at` set). Partner keys: 403.
#[utoipa::path(
    operation_id = "get_competitor",
    tag = "competitors",
    params(("id" = uuid::Uuid, Path, description = "Competitor id")),
    responses(
        (status = 200, description = "The competitor", body = Competitor, headers(("ETag" = String))),
        (status = 403, description = "`forbidden`: partner keys (competitor intelligence is internal)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/competitors/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require_internal_read(INTERNAL)?;
    let id = path_id("id", &id)?;
    let competitor = state.db.read(move |conn| store::get(conn, &id)).await?;
    Ok(etag::ok(&competitor))
}

/// Change a competitor (JSON merge patch). Partner keys: 403.
#[utoipa::path(
    operation_id = "update_competitor",
    tag = "competitors",
    params(("id" = uuid::Uuid, Path, description = "Competitor id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the competitor changed since")),
    request_body = CompetitorUpdate,
    responses(
        (status = 200, description = "Updated", body = Competitor, headers(("ETag" = String))),
        (status = 403, description = "`forbidden`: viewers, and partner keys (competitor intelligence is internal)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`competitor_name_taken` or `competitor_archived`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/competitors/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<CompetitorUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_internal_write(INTERNAL)?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let patch = body.0;
    patch.validate()?;
    let actor = caller.actor();
    let competitor = state.db.write(move |conn| store::update(conn, &actor, &id, &expected, &patch)).await?;
    Ok(etag::ok(&competitor))
}

/// Delete (archive) a competitor: hidden from lists, its name freed, its observations kept.
/// Partner keys: 403.
#[utoipa::path(
    operation_id = "archive_competitor",
    tag = "competitors",
    params(("id" = uuid::Uuid, Path, description = "Competitor id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Archived"),
        (status = 403, description = "`forbidden`: viewers, and partner keys (competitor intelligence is internal)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/competitors/{id}")]
pub async fn archive(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_internal_write(INTERNAL)?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    state.db.write(move |conn| store::archive(conn, &actor, &id, &expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}
