//! `POST /api/v1/incentive-programs/{id}/calculate` and `/api/v1/incentive-statements`: the
//! statements a rebate program computes, approved and paid by explicit actions
//! (`POST …/approve`, `POST …/pay`, each with an optional `If-Match`). Managers and admins
//! calculate, approve and pay; viewers read; a partner key reads its own partner's approved and
//! paid statements (drafts and others' are 404).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};

use super::model::*;
use super::store;
use crate::access::Caller;
use crate::error::ApiError;
use crate::http::csv::{self, Format};
use crate::http::etag;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::state::AppState;
use crate::validation::path_id;

/// Calculate a rebate program over months within it: one draft statement per partner the
/// audience addresses now (active and onboarding partners), with the partner's active-contract
/// rebate terms as extra lines. Drafts are replaced; approved statements never change, and a
/// difference from them becomes an `adjustment` draft. 422 when figures mix currencies.
#[utoipa::path(
    operation_id = "calculate_incentive_program",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Program id")),
    request_body = CalculateRequest,
    responses(
        (status = 200, description = "What the calculation wrote", body = CalculateResult),
        (status = 409, description = "`incentive_program_not_calculable` (a draft, or not a rebate program); `incentive_window_overlaps` (the months overlap an earlier calculation's other months)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/incentive-programs/{id}/calculate")]
pub async fn calculate(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<CalculateRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let months = body.months()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let result = store::calculate(conn, &actor, &id, months)?;
        Ok(Reply::json(StatusCode::OK, &result))
    })
    .await?;
    Ok(reply.into_response())
}

/// List statements, newest first. `Accept: text/csv` gives the page as CSV for finance teams
/// (UTF-8 with BOM, one row per statement with its total; the next page in `Link`).
#[utoipa::path(
    operation_id = "list_incentive_statements",
    tag = "incentives",
    params(StatementFilter, PageParams),
    responses((status = 200, description = "A page of statements", headers(("Link" = Option<String>, description = "The next page")),
        content((Page<Statement> = "application/json"), (String = "text/csv")))),
)]
#[get("/incentive-statements")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<StatementFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    filter.validate()?;
    let page = page.request(1)?;
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request, &scope)).await?;
    let page = Page::by_id(rows, &page);
    if csv::negotiate(&req, &[Format::Csv]) == Format::Csv {
        let body = csv::write(STATEMENT_CSV_HEADER, page.items.iter().map(Statement::csv_row))?;
        return Ok(csv::respond(body, page.next_link(&req)));
    }
    Ok(page.respond(&req))
}

/// Get a statement with its lines and their explanations.
#[utoipa::path(
    operation_id = "get_incentive_statement",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Statement id")),
    responses((status = 200, description = "The statement", body = Statement, headers(("ETag" = String)))),
)]
#[get("/incentive-statements/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let record = state.db.read(move |conn| store::get(conn, &id, &scope)).await?;
    Ok(etag::ok(&record))
}

/// Approve a draft statement: it never changes again. Sends `incentive.statement_approved`.
#[utoipa::path(
    operation_id = "approve_incentive_statement",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Statement id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the statement changed since")),
    responses(
        (status = 200, description = "Approved", body = Statement, headers(("ETag" = String))),
        (status = 409, description = "`invalid_status_transition` (not a draft)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/incentive-statements/{id}/approve")]
pub async fn approve(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    let reply =
        idempotency::write(&state.db, move |conn| Ok(Reply::ok(&store::approve(conn, &actor, &id, &expected)?)))
            .await?;
    Ok(reply.into_response())
}

/// Mark an approved statement paid. A positive total becomes a cost record (category `rebate`,
/// the statement's last month), so the partner's cost side includes it.
#[utoipa::path(
    operation_id = "pay_incentive_statement",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Statement id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the statement changed since")),
    responses(
        (status = 200, description = "Paid", body = Statement, headers(("ETag" = String))),
        (status = 409, description = "`invalid_status_transition` (not approved)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/incentive-statements/{id}/pay")]
pub async fn pay(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    let reply =
        idempotency::write(&state.db, move |conn| Ok(Reply::ok(&store::pay(conn, &actor, &id, &expected)?))).await?;
    Ok(reply.into_response())
}
