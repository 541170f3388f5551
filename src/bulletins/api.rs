//! The bulletin endpoints: create and edit drafts, list and read (partner keys: only what was
//! addressed to them), publish, archive, delete.

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
    format!("/api/v1/bulletins/{id}")
}

fn now() -> chrono::DateTime<chrono::Utc> {
    crate::db::now().and_utc()
}

/// Create a bulletin. It starts as a `draft`: nobody sees it until it is published.
#[utoipa::path(
    operation_id = "create_bulletin",
    tag = "bulletins",
    request_body = BulletinCreate,
    responses(
        (status = 201, description = "Created", body = Bulletin, headers(("Location" = String), ("ETag" = String))),
    ),
)]
#[post("/bulletins")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<BulletinCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let input = body.0;
    input.validate(now())?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let bulletin = store::create(conn, &actor, &input)?;
        Ok(Reply::created(&bulletin, location(&bulletin.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List bulletins: pinned first, then newest published (drafts by creation time). Partner keys
/// see only published, unexpired bulletins addressed to their partner, each with its `read_at`.
#[utoipa::path(
    operation_id = "list_bulletins",
    tag = "bulletins",
    params(BulletinFilter, PageParams),
    responses((status = 200, description = "A page of bulletins", body = Page<Bulletin>)),
)]
#[get("/bulletins")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<BulletinFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let mut filter = filter.0;
    filter.validate()?;
    let page = page.request(3)?;
    let request = page.clone();
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request, &scope)).await?;
    Ok(Page::from_rows(rows, &page, |b| b.sort_key().parts(), |b| b).respond(&req))
}

/// Get a bulletin. Partner keys get it only while it is published, unexpired and addressed to
/// their partner (with their `read_at`); otherwise 404.
#[utoipa::path(
    operation_id = "get_bulletin",
    tag = "bulletins",
    params(("id" = uuid::Uuid, Path, description = "Bulletin id")),
    responses((status = 200, description = "The bulletin", body = Bulletin, headers(("ETag" = String)))),
)]
#[get("/bulletins/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let bulletin = state.db.read(move |conn| store::get(conn, &id, &scope)).await?;
    Ok(etag::ok(&bulletin))
}

/// Change a bulletin (JSON merge patch). Drafts may change every field. A published bulletin
/// may change only `pinned` and `expires_at`: what partners were sent stays what they were sent,
/// so other changes are 409 `bulletin_not_editable` naming the fields. Archived ones are final.
#[utoipa::path(
    operation_id = "update_bulletin",
    tag = "bulletins",
    params(("id" = uuid::Uuid, Path, description = "Bulletin id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the bulletin changed since")),
    request_body = BulletinUpdate,
    responses(
        (status = 200, description = "Updated", body = Bulletin, headers(("ETag" = String))),
        (status = 409, description = "`bulletin_not_editable` (a published bulletin's content; `errors` names the fields) or `bulletin_archived`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/bulletins/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<BulletinUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let patch = body.0;
    patch.validate(now())?;
    let actor = caller.actor();
    let bulletin = state.db.write(move |conn| store::update(conn, &actor, &id, &expected, &patch)).await?;
    Ok(etag::ok(&bulletin))
}

/// Delete a bulletin: a draft is discarded (the audit trail keeps it); a published one is
/// archived, as `POST …/archive` does; an archived one stays archived.
#[utoipa::path(
    operation_id = "delete_bulletin",
    tag = "bulletins",
    params(("id" = uuid::Uuid, Path, description = "Bulletin id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted or archived"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/bulletins/{id}")]
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
    state.db.write(move |conn| store::delete(conn, &actor, &id, &expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Publish a draft. Its audience is resolved now into the active and onboarding partners it
/// matches, and that recipient list is kept: later partner changes do not rewrite who received
/// it. Writes `bulletin.published` to the outbox in the same transaction.
#[utoipa::path(
    operation_id = "publish_bulletin",
    tag = "bulletins",
    params(("id" = uuid::Uuid, Path, description = "Bulletin id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 200, description = "Published", body = Bulletin, headers(("ETag" = String))),
        (status = 409, description = "`invalid_status_transition` (not a draft), `bulletin_expired` (its `expires_at` has passed) or `no_recipients` (the audience matches no active or onboarding partner)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/bulletins/{id}/publish")]
pub async fn publish(
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
        let bulletin = store::publish(conn, &actor, &id, &expected)?;
        Ok(Reply::ok(&bulletin))
    })
    .await?;
    Ok(reply.into_response())
}

/// Archive a published bulletin: partners no longer see it; its recipients and receipts are
/// kept. Writes `bulletin.archived` to the outbox. Archiving again changes nothing.
#[utoipa::path(
    operation_id = "archive_bulletin",
    tag = "bulletins",
    params(("id" = uuid::Uuid, Path, description = "Bulletin id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 200, description = "Archived", body = Bulletin, headers(("ETag" = String))),
        (status = 409, description = "`invalid_status_transition` (a draft: delete it instead)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/bulletins/{id}/archive")]
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
    let reply = idempotency::write(&state.db, move |conn| {
        let bulletin = store::archive(conn, &actor, &id, &expected)?;
        Ok(Reply::ok(&bulletin))
    })
    .await?;
    Ok(reply.into_response())
}
