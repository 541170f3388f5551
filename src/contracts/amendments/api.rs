//! The amendment endpoints: amend an active contract, and read its amendments (history that
//! never changes).

use actix_web::{get, post, web, HttpRequest, HttpResponse};

use super::model::{Amendment, AmendmentRequest};
use super::store;
use crate::access::Caller;
use crate::error::ApiError;
use crate::http::etag;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::state::AppState;
use crate::validation::path_id;

fn amendment_location(contract_id: &str, id: &str) -> String {
    format!("/api/v1/contracts/{contract_id}/amendments/{id}")
}

/// Amend an active contract (补充协议): add, modify and remove terms, and change its commercial
/// fields, all in one transaction. Any invalid change rejects the whole amendment (422, nothing
/// applied). Amendments never change afterwards (their ETag is always `"1"`).
#[utoipa::path(
    tag = "contracts",
    params(("id" = uuid::Uuid, Path, description = "Contract id"),
        ("If-Match" = Option<String>, Header, description = "The contract's ETag you read; 412 if it changed since")),
    request_body = AmendmentRequest,
    responses(
        (status = 201, description = "Applied and recorded", body = Amendment, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "`contract_not_active`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/contracts/{id}/amendments")]
pub async fn create_amendment(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<AmendmentRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let contract_id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let (actor, input) = (caller.actor(), body.0);
    let reply = idempotency::write(&state.db, move |conn| {
        let (_, amendment) = store::amend(conn, &actor, &contract_id, &expected, &input)?;
        Ok(Reply::created(&amendment, amendment_location(&amendment.contract_id, &amendment.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// A contract's amendments, oldest first: who, when, why, and before → after of each change.
#[utoipa::path(
    tag = "contracts",
    params(("id" = uuid::Uuid, Path, description = "Contract id"), PageParams),
    responses((status = 200, description = "A page of amendments", body = Page<Amendment>)),
)]
#[get("/contracts/{id}/amendments")]
pub async fn list_amendments(
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
    let rows = state.db.read(move |conn| store::list_amendments(conn, &contract_id, &request, &scope)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get one amendment.
#[utoipa::path(
    tag = "contracts",
    params(("id" = uuid::Uuid, Path, description = "Contract id"),
        ("amendment_id" = uuid::Uuid, Path, description = "Amendment id")),
    responses((status = 200, description = "The amendment", body = Amendment, headers(("ETag" = String)))),
)]
#[get("/contracts/{id}/amendments/{amendment_id}")]
pub async fn get_amendment(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let (contract_id, amendment_id) = (path_id("id", &path.0)?, path_id("amendment_id", &path.1)?);
    let amendment = state.db.read(move |conn| store::get_amendment(conn, &contract_id, &amendment_id, &scope)).await?;
    Ok(etag::ok(&amendment))
}
