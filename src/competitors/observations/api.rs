//! Observation handlers, under `/competitors/{id}/observations`. Internal like competitors: every
//! role but `partner` reads, managers and admins write, partner keys get 403.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

use super::model::*;
use super::store;
use crate::access::Caller;
use crate::competitors::api::INTERNAL;
use crate::error::ApiError;
use crate::http::etag;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::state::AppState;
use crate::validation::path_id;

fn location(competitor_id: &str, id: &str) -> String {
    format!("/api/v1/competitors/{competitor_id}/observations/{id}")
}

/// Record what was observed of a competitor's channels. Partner keys: 403 (competitor
/// intelligence is internal).
#[utoipa::path(
    operation_id = "create_competitor_observation",
    tag = "competitors",
    params(("id" = uuid::Uuid, Path, description = "Competitor id")),
    request_body = ObservationCreate,
    responses(
        (status = 201, description = "Created", body = Observation, headers(("Location" = String), ("ETag" = String))),
        (status = 403, description = "`forbidden`: viewers, and partner keys (competitor intelligence is internal)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`competitor_archived`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/competitors/{id}/observations")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<ObservationCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_internal_write(INTERNAL)?;
    let competitor_id = path_id("id", &id)?;
    let input = body.0;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let observation = store::create(conn, &actor, &competitor_id, &input)?;
        Ok(Reply::created(&observation, location(&observation.competitor_id, &observation.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List a competitor's observations, newest first. Partner keys: 403.
#[utoipa::path(
    operation_id = "list_competitor_observations",
    tag = "competitors",
    params(("id" = uuid::Uuid, Path, description = "Competitor id"), ObservationFilter, PageParams),
    responses(
        (status = 200, description = "A page of observations", body = Page<Observation>),
        (status = 403, description = "`forbidden`: partner keys (competitor intelligence is internal)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/competitors/{id}/observations")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    filter: Query<ObservationFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_internal_read(INTERNAL)?;
    let competitor_id = path_id("id", &id)?;
    filter.validate()?;
    let page = page.request(1)?;
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &competitor_id, &filter, &request)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get one observation. Partner keys: 403.
#[utoipa::path(
    operation_id = "get_competitor_observation",
    tag = "competitors",
    params(("id" = uuid::Uuid, Path, description = "Competitor id"), ("observation_id" = uuid::Uuid, Path, description = "Observation id")),
    responses(
        (status = 200, description = "The observation", body = Observation, headers(("ETag" = String))),
        (status = 403, description = "`forbidden`: partner keys (competitor intelligence is internal)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/competitors/{id}/observations/{observation_id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require_internal_read(INTERNAL)?;
    let (competitor_id, id) = (path_id("id", &path.0)?, path_id("observation_id", &path.1)?);
    let observation = state.db.read(move |conn| store::get(conn, &competitor_id, &id)).await?;
    Ok(etag::ok(&observation))
}

/// Change an observation (JSON merge patch; the result is checked whole). Partner keys: 403.
#[utoipa::path(
    operation_id = "update_competitor_observation",
    tag = "competitors",
    params(("id" = uuid::Uuid, Path, description = "Competitor id"), ("observation_id" = uuid::Uuid, Path, description = "Observation id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body = ObservationUpdate,
    responses(
        (status = 200, description = "Updated", body = Observation, headers(("ETag" = String))),
        (status = 403, description = "`forbidden`: viewers, and partner keys (competitor intelligence is internal)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`competitor_archived`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/competitors/{id}/observations/{observation_id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: Json<ObservationUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_internal_write(INTERNAL)?;
    let (competitor_id, id) = (path_id("id", &path.0)?, path_id("observation_id", &path.1)?);
    let expected = etag::if_match(&req)?;
    let (actor, patch) = (caller.actor(), body.0);
    let observation =
        state.db.write(move |conn| store::update(conn, &actor, &competitor_id, &id, &expected, &patch)).await?;
    Ok(etag::ok(&observation))
}

/// Delete an observation (the audit trail keeps what it said). Partner keys: 403.
#[utoipa::path(
    operation_id = "delete_competitor_observation",
    tag = "competitors",
    params(("id" = uuid::Uuid, Path, description = "Competitor id"), ("observation_id" = uuid::Uuid, Path, description = "Observation id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`forbidden`: viewers, and partner keys (competitor intelligence is internal)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/competitors/{id}/observations/{observation_id}")]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require_internal_write(INTERNAL)?;
    let (competitor_id, id) = (path_id("id", &path.0)?, path_id("observation_id", &path.1)?);
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    state.db.write(move |conn| store::delete(conn, &actor, &competitor_id, &id, &expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}
