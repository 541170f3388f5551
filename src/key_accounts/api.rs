//! Key account and assignment handlers: authorize, validate, call the store; the utoipa
//! annotations are the documentation.

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

/// Create a key account.
#[utoipa::path(
    operation_id = "create_key_account",
    tag = "key-accounts",
    request_body = KeyAccountCreate,
    responses(
        (status = 201, description = "Created", body = KeyAccount, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "`key_account_name_taken`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/key-accounts")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<KeyAccountCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let input = body.0;
    input.validate()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let account = store::create(conn, &actor, &input)?;
        Ok(Reply::created(&account, format!("/api/v1/key-accounts/{}", account.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List current key accounts, newest first.
#[utoipa::path(
    operation_id = "list_key_accounts",
    tag = "key-accounts",
    params(KeyAccountFilter, PageParams),
    responses((status = 200, description = "A page of key accounts", body = Page<KeyAccount>)),
)]
#[get("/key-accounts")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<KeyAccountFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_read()?;
    filter.validate()?;
    let page = page.request(1)?;
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a key account.
#[utoipa::path(
    operation_id = "get_key_account",
    tag = "key-accounts",
    params(("id" = uuid::Uuid, Path, description = "Key account id")),
    responses((status = 200, description = "The key account", body = KeyAccount, headers(("ETag" = String)))),
)]
#[get("/key-accounts/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require_staff_read()?;
    let id = path_id("id", &id)?;
    let account = state.db.read(move |conn| store::get(conn, &id)).await?;
    Ok(etag::ok(&account))
}

/// Change a key account (JSON merge patch).
#[utoipa::path(
    operation_id = "update_key_account",
    tag = "key-accounts",
    params(("id" = uuid::Uuid, Path, description = "Key account id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body = KeyAccountUpdate,
    responses(
        (status = 200, description = "Updated", body = KeyAccount, headers(("ETag" = String))),
        (status = 409, description = "`key_account_name_taken` or `key_account_archived`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/key-accounts/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<KeyAccountUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let patch = body.0;
    patch.validate()?;
    let actor = caller.actor();
    let account = state.db.write(move |conn| store::update(conn, &actor, &id, &expected, &patch)).await?;
    Ok(etag::ok(&account))
}

/// Delete (archive) a key account.
#[utoipa::path(
    operation_id = "archive_key_account",
    tag = "key-accounts",
    params(("id" = uuid::Uuid, Path, description = "Key account id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Archived"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/key-accounts/{id}")]
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

/// Assign a partner to a key account. One primary partner per product line.
#[utoipa::path(
    tag = "key-accounts",
    params(("id" = uuid::Uuid, Path, description = "Key account id")),
    request_body = AssignmentCreate,
    responses(
        (status = 201, description = "Created", body = Assignment, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "`primary_partner_taken` or `key_account_archived`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/key-accounts/{id}/assignments")]
pub async fn create_assignment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<AssignmentCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let account_id = path_id("id", &id)?;
    let input = body.0;
    input.validate()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let assignment = store::create_assignment(conn, &actor, &account_id, &input)?;
        let location = format!("/api/v1/key-accounts/{}/assignments/{}", assignment.key_account_id, assignment.id);
        Ok(Reply::created(&assignment, location))
    })
    .await?;
    Ok(reply.into_response())
}

/// List a key account's partner assignments.
#[utoipa::path(
    tag = "key-accounts",
    params(("id" = uuid::Uuid, Path, description = "Key account id"), PageParams),
    responses((status = 200, description = "A page of assignments", body = Page<Assignment>)),
)]
#[get("/key-accounts/{id}/assignments")]
pub async fn list_assignments(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_read()?;
    let account_id = path_id("id", &id)?;
    let page = page.request(1)?;
    let request = page.clone();
    let rows = state.db.read(move |conn| store::list_assignments(conn, &account_id, &request)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get one assignment.
#[utoipa::path(
    tag = "key-accounts",
    params(("id" = uuid::Uuid, Path, description = "Key account id"), ("assignment_id" = uuid::Uuid, Path, description = "Assignment id")),
    responses((status = 200, description = "The assignment", body = Assignment, headers(("ETag" = String)))),
)]
#[get("/key-accounts/{id}/assignments/{assignment_id}")]
pub async fn get_assignment(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_read()?;
    let (account_id, id) = (path_id("id", &path.0)?, path_id("assignment_id", &path.1)?);
    let assignment = state.db.read(move |conn| store::get_assignment(conn, &account_id, &id)).await?;
    Ok(etag::ok(&assignment))
}

/// Change an assignment's role or product lines.
#[utoipa::path(
    tag = "key-accounts",
    params(("id" = uuid::Uuid, Path, description = "Key account id"), ("assignment_id" = uuid::Uuid, Path, description = "Assignment id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body = AssignmentUpdate,
    responses(
        (status = 200, description = "Updated", body = Assignment, headers(("ETag" = String))),
        (status = 409, description = "`primary_partner_taken` or `key_account_archived`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/key-accounts/{id}/assignments/{assignment_id}")]
pub async fn update_assignment(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: Json<AssignmentUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let (account_id, id) = (path_id("id", &path.0)?, path_id("assignment_id", &path.1)?);
    let expected = etag::if_match(&req)?;
    let patch = body.0;
    patch.validate()?;
    let actor = caller.actor();
    let assignment =
        state.db.write(move |conn| store::update_assignment(conn, &actor, &account_id, &id, &expected, &patch)).await?;
    Ok(etag::ok(&assignment))
}

/// Remove an assignment.
#[utoipa::path(
    tag = "key-accounts",
    params(("id" = uuid::Uuid, Path, description = "Key account id"), ("assignment_id" = uuid::Uuid, Path, description = "Assignment id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/key-accounts/{id}/assignments/{assignment_id}")]
pub async fn delete_assignment(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let (account_id, id) = (path_id("id", &path.0)?, path_id("assignment_id", &path.1)?);
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    state.db.write(move |conn| store::delete_assignment(conn, &actor, &account_id, &id, &expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}
