//! The term endpoints: a draft contract's clauses, added, listed, read, changed and removed one
//! at a time (an active contract's terms change through amendments).

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

use super::model::{Term, TermCreate, TermUpdate};
use super::store;
use crate::access::Caller;
use crate::error::ApiError;
use crate::http::etag;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::state::AppState;
use crate::validation::path_id;

fn term_location(contract_id: &str, id: &str) -> String {
    format!("/api/v1/contracts/{contract_id}/terms/{id}")
}

/// Add a term to a draft contract. `params` are checked against `kind`.
#[utoipa::path(
    tag = "contracts",
    params(("id" = uuid::Uuid, Path, description = "Contract id")),
    request_body = TermCreate,
    responses(
        (status = 201, description = "Created", body = Term, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "`contract_not_draft`: an active contract's terms change through amendments", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/contracts/{id}/terms")]
pub async fn create_term(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<TermCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let contract_id = path_id("id", &id)?;
    let (actor, input) = (caller.actor(), body.0);
    let reply = idempotency::write(&state.db, move |conn| {
        let term = store::create_term(conn, &actor, &contract_id, &input)?;
        Ok(Reply::created(&term, term_location(&term.contract_id, &term.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List a contract's terms in the order they were added.
#[utoipa::path(
    tag = "contracts",
    params(("id" = uuid::Uuid, Path, description = "Contract id"), PageParams),
    responses((status = 200, description = "A page of terms", body = Page<Term>)),
)]
#[get("/contracts/{id}/terms")]
pub async fn list_terms(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let contract_id = path_id("id", &id)?;
    let page = page.request(1)?;
    let request = page.clone();
    let rows = state.db.read(move |conn| store::list_terms(conn, &contract_id, &request, &scope)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get one term.
#[utoipa::path(
    tag = "contracts",
    params(("id" = uuid::Uuid, Path, description = "Contract id"), ("term_id" = uuid::Uuid, Path, description = "Term id")),
    responses((status = 200, description = "The term", body = Term, headers(("ETag" = String)))),
)]
#[get("/contracts/{id}/terms/{term_id}")]
pub async fn get_term(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let (contract_id, term_id) = (path_id("id", &path.0)?, path_id("term_id", &path.1)?);
    let term = state.db.read(move |conn| store::get_term(conn, &contract_id, &term_id, &scope)).await?;
    Ok(etag::ok(&term))
}

/// Change a term of a draft contract (JSON merge patch; `params` re-checked against the kind).
#[utoipa::path(
    tag = "contracts",
    params(("id" = uuid::Uuid, Path, description = "Contract id"), ("term_id" = uuid::Uuid, Path, description = "Term id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body = TermUpdate,
    responses(
        (status = 200, description = "Updated", body = Term, headers(("ETag" = String))),
        (status = 409, description = "`contract_not_draft`: an active contract's terms change through amendments", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/contracts/{id}/terms/{term_id}")]
pub async fn update_term(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: Json<TermUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let (contract_id, term_id) = (path_id("id", &path.0)?, path_id("term_id", &path.1)?);
    let expected = etag::if_match(&req)?;
    let (actor, patch) = (caller.actor(), body.0);
    let term =
        state.db.write(move |conn| store::update_term(conn, &actor, &contract_id, &term_id, &expected, &patch)).await?;
    Ok(etag::ok(&term))
}

/// Remove a term from a draft contract.
#[utoipa::path(
    tag = "contracts",
    params(("id" = uuid::Uuid, Path, description = "Contract id"), ("term_id" = uuid::Uuid, Path, description = "Term id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "`contract_not_draft`: an active contract's terms change through amendments", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/contracts/{id}/terms/{term_id}")]
pub async fn delete_term(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let (contract_id, term_id) = (path_id("id", &path.0)?, path_id("term_id", &path.1)?);
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    state.db.write(move |conn| store::delete_term(conn, &actor, &contract_id, &term_id, &expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}
