//! Handlers of `/deliveries`: what was sent where, what failed and why, and the manual retry
//! (admin only).

use actix_web::{get, post, web, HttpRequest, HttpResponse};

use super::model::*;
use super::store;
use crate::access::Caller;
use crate::error::ApiError;
use crate::http::etag;
use crate::http::extract::Query;
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::state::AppState;
use crate::validation::path_id;

const PROBLEM: &str = "application/problem+json";

/// Deliveries to bot channels and webhooks (admin), newest first, with attempts and the last error.
#[utoipa::path(
    tag = "deliveries",
    params(DeliveryFilter, PageParams),
    responses((status = 200, description = "A page of deliveries", body = Page<Delivery>)),
)]
#[get("/deliveries")]
pub async fn list_deliveries(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<DeliveryFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    filter.validate()?;
    let page = page.request(1)?;
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a delivery (admin).
#[utoipa::path(
    tag = "deliveries",
    params(("id" = uuid::Uuid, Path, description = "Delivery id")),
    responses((status = 200, description = "The delivery", body = Delivery, headers(("ETag" = String)))),
)]
#[get("/deliveries/{id}")]
pub async fn get_delivery(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let d = state.db.read(move |conn| store::row(conn, &id)?.to_model()).await?;
    Ok(etag::ok(&d))
}

/// Re-queue a failed or dead delivery (admin): it goes back to its channel's queue in its
/// original place with a fresh retry window.
#[utoipa::path(
    tag = "deliveries",
    params(("id" = uuid::Uuid, Path, description = "Delivery id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 200, description = "Queued again", body = Delivery, headers(("ETag" = String))),
        (status = 409, description = "`delivery_not_retryable`: it is pending, sent or cancelled", body = crate::error::Problem, content_type = PROBLEM),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = PROBLEM),
    ),
)]
#[post("/deliveries/{id}/retry")]
pub async fn retry_delivery(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let d = store::retry(conn, &actor, &id, &expected)?;
        Ok(Reply::ok(&d))
    })
    .await?;
    Ok(reply.into_response())
}
