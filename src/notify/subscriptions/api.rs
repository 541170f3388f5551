//! Handlers of `/bot-channels/{id}/subscriptions`: which events a channel receives (admin only).

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

const PROBLEM: &str = "application/problem+json";

fn subscription_location(channel_id: &str, id: &str) -> String {
    format!("/api/v1/bot-channels/{channel_id}/subscriptions/{id}")
}

/// Subscribe a bot channel to event types (admin), optionally filtered by partner tier, region,
/// partner and bulletin importance.
#[utoipa::path(
    tag = "bot-channels",
    params(("id" = uuid::Uuid, Path, description = "Bot channel id")),
    request_body = SubscriptionCreate,
    responses((status = 201, description = "Created", body = Subscription, headers(("Location" = String), ("ETag" = String)))),
)]
#[post("/bot-channels/{id}/subscriptions")]
pub async fn create_subscription(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<SubscriptionCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let channel_id = path_id("id", &id)?;
    let filters = body.0.filters();
    filters.validate()?;
    let filters = filters.normalized();
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let sub = store::create(conn, &actor, &channel_id, &filters)?;
        let location = subscription_location(&sub.channel_id, &sub.id);
        Ok(Reply::created(&sub, location))
    })
    .await?;
    Ok(reply.into_response())
}

/// A bot channel's subscriptions (admin), in the order they were made.
#[utoipa::path(
    tag = "bot-channels",
    params(("id" = uuid::Uuid, Path, description = "Bot channel id"), PageParams),
    responses((status = 200, description = "A page of subscriptions", body = Page<Subscription>)),
)]
#[get("/bot-channels/{id}/subscriptions")]
pub async fn list_subscriptions(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let channel_id = path_id("id", &id)?;
    let page = page.request(1)?;
    let request = page.clone();
    let rows = state.db.read(move |conn| store::list(conn, &channel_id, &request)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a subscription (admin).
#[utoipa::path(
    tag = "bot-channels",
    params(("id" = uuid::Uuid, Path, description = "Bot channel id"), ("subscription_id" = uuid::Uuid, Path, description = "Subscription id")),
    responses((status = 200, description = "The subscription", body = Subscription, headers(("ETag" = String)))),
)]
#[get("/bot-channels/{id}/subscriptions/{subscription_id}")]
pub async fn get_subscription(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (channel_id, id) = (path_id("id", &path.0)?, path_id("subscription_id", &path.1)?);
    let sub = state.db.read(move |conn| store::get(conn, &channel_id, &id)).await?;
    Ok(etag::ok(&sub))
}

/// Change a subscription (admin; JSON merge patch).
#[utoipa::path(
    tag = "bot-channels",
    params(("id" = uuid::Uuid, Path, description = "Bot channel id"), ("subscription_id" = uuid::Uuid, Path, description = "Subscription id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body = SubscriptionUpdate,
    responses(
        (status = 200, description = "Updated", body = Subscription, headers(("ETag" = String))),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = PROBLEM),
    ),
)]
#[patch("/bot-channels/{id}/subscriptions/{subscription_id}")]
pub async fn update_subscription(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: Json<SubscriptionUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (channel_id, id) = (path_id("id", &path.0)?, path_id("subscription_id", &path.1)?);
    let expected = etag::if_match(&req)?;
    let (actor, patch) = (caller.actor(), body.0);
    let sub = state.db.write(move |conn| store::update(conn, &actor, &channel_id, &id, &expected, &patch)).await?;
    Ok(etag::ok(&sub))
}

/// Remove a subscription (admin).
#[utoipa::path(
    tag = "bot-channels",
    params(("id" = uuid::Uuid, Path, description = "Bot channel id"), ("subscription_id" = uuid::Uuid, Path, description = "Subscription id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = PROBLEM),
    ),
)]
#[delete("/bot-channels/{id}/subscriptions/{subscription_id}")]
pub async fn delete_subscription(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (channel_id, id) = (path_id("id", &path.0)?, path_id("subscription_id", &path.1)?);
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    state.db.write(move |conn| store::delete(conn, &actor, &channel_id, &id, &expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}
