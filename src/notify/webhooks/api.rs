//! Handlers of `/webhooks`: signed HTTP callbacks to other systems (admin only).

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

/// Register a signed webhook (admin): `POST {url}` with `{id, type, occurred_at, data}`,
/// `X-Channeldesk-Timestamp` (Unix seconds) and `X-Channeldesk-Signature` = hex
/// HMAC-SHA256(secret, timestamp + "." + body).
#[utoipa::path(
    tag = "webhooks",
    request_body = WebhookCreate,
    responses((status = 201, description = "Created", body = Webhook, headers(("Location" = String), ("ETag" = String)))),
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<WebhookCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let settings = body.0.settings();
    settings.validate(&state.config.notify.outbound_allow_hosts)?;
    let (actor, sealer) = (caller.actor(), state.config.notify.sealer()?);
    let reply = idempotency::write(&state.db, move |conn| {
        let hook = store::create(conn, &actor, &settings, &sealer)?;
        let location = format!("/api/v1/webhooks/{}", hook.id);
        Ok(Reply::created(&hook, location))
    })
    .await?;
    Ok(reply.into_response())
}

/// List webhooks (admin), newest first.
#[utoipa::path(
    tag = "webhooks",
    params(PageParams),
    responses((status = 200, description = "A page of webhooks", body = Page<Webhook>)),
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let page = page.request(1)?;
    let request = page.clone();
    let rows = state.db.read(move |conn| store::list(conn, &request)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a webhook (admin).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook id")),
    responses((status = 200, description = "The webhook", body = Webhook, headers(("ETag" = String)))),
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let hook = state.db.read(move |conn| store::get(conn, &id)).await?;
    Ok(etag::ok(&hook))
}

/// Change a webhook (admin; JSON merge patch).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body = WebhookUpdate,
    responses(
        (status = 200, description = "Updated", body = Webhook, headers(("ETag" = String))),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = PROBLEM),
    ),
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<WebhookUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let (actor, patch, hosts) = (caller.actor(), body.0, state.config.notify.outbound_allow_hosts.clone());
    let sealer = state.config.notify.sealer()?;
    let hook = state.db.write(move |conn| store::update(conn, &actor, &id, &expected, &patch, &hosts, &sealer)).await?;
    Ok(etag::ok(&hook))
}

/// Delete a webhook (admin); its undelivered messages are cancelled.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = PROBLEM),
    ),
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    state.db.write(move |conn| store::delete(conn, &actor, &id, &expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}
