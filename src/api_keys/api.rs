//! API key handlers: admins only. The plaintext secret appears in the create response and nowhere
//! else, which is why a replayed create is withheld rather than replayed.

use actix_web::http::{header, StatusCode};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};

use super::model::{ApiKey, ApiKeyCreate, ApiKeyCreated};
use super::store;
use crate::access::Caller;
use crate::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::state::AppState;
use crate::validation::path_id;

/// Create an API key (admin). The secret is in this response only.
#[utoipa::path(
    operation_id = "create_api_key",
    tag = "api-keys",
    request_body = ApiKeyCreate,
    responses((status = 201, description = "Created; `secret` is shown only now", body = ApiKeyCreated,
        headers(("Location" = String, description = "The key's URL")))),
)]
#[post("/api-keys")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ApiKeyCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let input = body.0;
    input.validate()?;
    let actor = caller.actor();
    // The secret is shown in this response only: a replay of the request answers 409
    // `idempotency_replay_withheld` instead of showing it again, and it is never stored.
    let reply = idempotency::write(&state.db, move |conn| {
        let created = store::create(conn, &actor, &input)?;
        Ok(Reply::json(StatusCode::CREATED, &created)
            .header(header::LOCATION, &format!("/api/v1/api-keys/{}", created.key.id))
            .withheld_on_replay())
    })
    .await?;
    Ok(reply.into_response())
}

/// List API keys (admin), newest first. Secrets are never listed.
#[utoipa::path(
    operation_id = "list_api_keys",
    tag = "api-keys",
    params(PageParams),
    responses((status = 200, description = "A page of keys", body = Page<ApiKey>)),
)]
#[get("/api-keys")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let page = page.request(1)?;
    let request = page.clone();
    let rows = state.db.read(move |conn| store::list(conn, &request)).await?;
    Ok(Page::from_rows(rows, &page, |k| vec![k.id.clone()], |k| k).respond(&req))
}

/// Get one API key (admin).
#[utoipa::path(
    operation_id = "get_api_key",
    tag = "api-keys",
    params(("id" = uuid::Uuid, Path, description = "API key id")),
    responses((status = 200, description = "The key", body = ApiKey)),
)]
#[get("/api-keys/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let key = state.db.read(move |conn| store::get(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(key))
}

/// Revoke an API key (admin). It stops working at once; the record stays for the audit trail.
#[utoipa::path(
    operation_id = "revoke_api_key",
    tag = "api-keys",
    params(("id" = uuid::Uuid, Path, description = "API key id")),
    responses((status = 204, description = "Revoked")),
)]
#[delete("/api-keys/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = path_id("id", &id)?;
    let actor = caller.actor();
    state.db.write(move |conn| store::revoke(conn, &actor, &id)).await?;
    state.auth_cache.clear();
    Ok(HttpResponse::NoContent().finish())
}
