//! Recruitment campaign handlers: staff read (viewers included), managers and admins write;
//! partner keys get 404 like every staff-only endpoint.

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

/// Create a recruitment campaign (新渠道拓展). Partners it brings in name it in `campaign_id`.
#[utoipa::path(
    operation_id = "create_recruitment_campaign",
    tag = "recruitment",
    request_body = CampaignCreate,
    responses((status = 201, description = "Created", body = Campaign, headers(("Location" = String), ("ETag" = String)))),
)]
#[post("/recruitment-campaigns")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CampaignCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let input = body.0;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let campaign = store::create(conn, &actor, &input)?;
        Ok(Reply::created(&campaign, format!("/api/v1/recruitment-campaigns/{}", campaign.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List current recruitment campaigns, newest first.
#[utoipa::path(
    operation_id = "list_recruitment_campaigns",
    tag = "recruitment",
    params(CampaignFilter, PageParams),
    responses((status = 200, description = "A page of campaigns", body = Page<Campaign>)),
)]
#[get("/recruitment-campaigns")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<CampaignFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_read()?;
    filter.validate()?;
    let page = page.request(1)?;
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a recruitment campaign (archived ones too, with `archived_at` set).
#[utoipa::path(
    operation_id = "get_recruitment_campaign",
    tag = "recruitment",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses((status = 200, description = "The campaign", body = Campaign, headers(("ETag" = String)))),
)]
#[get("/recruitment-campaigns/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require_staff_read()?;
    let id = path_id("id", &id)?;
    let campaign = state.db.read(move |conn| store::get(conn, &id)).await?;
    Ok(etag::ok(&campaign))
}

/// Change a recruitment campaign (JSON merge patch; `ends_on` is checked against the resulting
/// `starts_on`).
#[utoipa::path(
    operation_id = "update_recruitment_campaign",
    tag = "recruitment",
    params(("id" = uuid::Uuid, Path, description = "Campaign id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body = CampaignUpdate,
    responses(
        (status = 200, description = "Updated", body = Campaign, headers(("ETag" = String))),
        (status = 409, description = "`recruitment_campaign_archived`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/recruitment-campaigns/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<CampaignUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let (actor, patch) = (caller.actor(), body.0);
    let campaign = state.db.write(move |conn| store::update(conn, &actor, &id, &expected, &patch)).await?;
    Ok(etag::ok(&campaign))
}

/// Delete (archive) a recruitment campaign: hidden from lists and closed to new partners; the
/// partners it brought in keep the link, and its funnel stays readable.
#[utoipa::path(
    operation_id = "archive_recruitment_campaign",
    tag = "recruitment",
    params(("id" = uuid::Uuid, Path, description = "Campaign id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Archived"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/recruitment-campaigns/{id}")]
pub async fn archive(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    state.db.write(move |conn| store::archive(conn, &actor, &id, &expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The campaign's funnel: its current partners by status, `conversion_bp` (active / recruited),
/// `cost_per_active_minor` (null when none is active) and `median_days_to_active` (from a
/// partner's `created_at` to its `activated_at`, the first time it became active).
#[utoipa::path(
    operation_id = "get_recruitment_campaign_funnel",
    tag = "recruitment",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses((status = 200, description = "The funnel, computed now", body = Funnel)),
)]
#[get("/recruitment-campaigns/{id}/funnel")]
pub async fn funnel(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_read()?;
    let id = path_id("id", &id)?;
    let funnel = state.db.read(move |conn| store::funnel(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(funnel))
}
