//! `/api/v1/mdf-requests` (marketing support requests, 市场推广支持) and
//! `GET /api/v1/incentive-programs/{id}/budgets`. A partner key submits, reads and claims its own
//! partner's requests and reads its own budget; managers and admins submit on a partner's behalf,
//! decide, reject claims and pay; viewers read. Every move takes an optional `If-Match`.

use actix_web::{get, post, web, HttpRequest, HttpResponse};

use super::model::*;
use super::store;
use crate::access::{Caller, Role};
use crate::error::ApiError;
use crate::http::csv::{self, Format};
use crate::http::etag;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::state::AppState;
use crate::validation::path_id;

fn location(id: &str) -> String {
    format!("/api/v1/mdf-requests/{id}")
}

/// Submit a marketing support request against an active marketing_support program that
/// addresses the partner. A partner key submits for its own partner; staff name `partner_id`.
/// Sends `mdf.request_submitted`.
#[utoipa::path(
    operation_id = "create_mdf_request",
    tag = "incentives",
    request_body = MdfRequestCreate,
    responses(
        (status = 201, description = "Submitted", body = MdfRequest, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "`incentive_program_not_marketing_support`; `invalid_status_transition` (the program is not active)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/mdf-requests")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<MdfRequestCreate>,
) -> Result<HttpResponse, ApiError> {
    let own = match caller.role {
        Role::Partner => Some(caller.partner_id.clone().ok_or_else(store::not_found)?),
        _ => {
            caller.require_staff_write()?;
            None
        }
    };
    let input = body.0;
    input.validate()?;
    let partner_id = match own {
        Some(own) => {
            if input.partner_id.as_ref().is_some_and(|p| p.to_lowercase() != own) {
                return Err(ApiError::forbidden("a partner key submits requests for its own partner only"));
            }
            own
        }
        None => input
            .partner_id
            .as_ref()
            .map(|p| p.to_lowercase())
            .ok_or_else(|| ApiError::field("partner_id", "is required: name the partner the request is for"))?,
    };
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let record = store::submit(conn, &actor, &input, &partner_id)?;
        Ok(Reply::created(&record, location(&record.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List requests, newest first (a partner key: its own partner's).
#[utoipa::path(
    operation_id = "list_mdf_requests",
    tag = "incentives",
    params(MdfFilter, PageParams),
    responses((status = 200, description = "A page of requests", body = Page<MdfRequest>)),
)]
#[get("/mdf-requests")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<MdfFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    filter.validate()?;
    let page = page.request(1)?;
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request, &scope)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a request.
#[utoipa::path(
    operation_id = "get_mdf_request",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Request id")),
    responses(
        (status = 200, description = "The request", body = MdfRequest, headers(("ETag" = String))),
        (status = 404, description = "`mdf_request_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/mdf-requests/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let record = state.db.read(move |conn| store::get(conn, &id, &scope)).await?;
    Ok(etag::ok(&record))
}

/// Approve a submitted request: its amount is committed from the partner's budget. 409
/// `budget_exceeded` when the remaining budget does not cover it (concurrent approvals are
/// serialised on the program, so together they never overspend). Sends `mdf.request_decided`.
#[utoipa::path(
    operation_id = "approve_mdf_request",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Request id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the request changed since")),
    responses(
        (status = 200, description = "Approved", body = MdfRequest, headers(("ETag" = String))),
        (status = 409, description = "`budget_exceeded`; `invalid_status_transition` (not submitted); `incentive_program_closed`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/mdf-requests/{id}/approve")]
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

/// Reject a submitted request, saying why. Sends `mdf.request_decided`.
#[utoipa::path(
    operation_id = "reject_mdf_request",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Request id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the request changed since")),
    request_body = MdfRejectRequest,
    responses(
        (status = 200, description = "Rejected", body = MdfRequest, headers(("ETag" = String))),
        (status = 409, description = "`invalid_status_transition` (not submitted)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/mdf-requests/{id}/reject")]
pub async fn reject(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<MdfRejectRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    body.validate()?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    let input = body.0;
    let reply =
        idempotency::write(&state.db, move |conn| Ok(Reply::ok(&store::reject(conn, &actor, &id, &expected, &input)?)))
            .await?;
    Ok(reply.into_response())
}

/// Claim an approved request: what the activity really cost (at most the approved amount) and
/// links to the proof. 409 `claim_deadline_passed` after the program's `claim_deadline`. A
/// partner key claims its own partner's requests.
#[utoipa::path(
    operation_id = "claim_mdf_request",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Request id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the request changed since")),
    request_body = MdfClaim,
    responses(
        (status = 200, description = "Claimed", body = MdfRequest, headers(("ETag" = String))),
        (status = 409, description = "`claim_deadline_passed`; `invalid_status_transition` (not approved)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/mdf-requests/{id}/claim")]
pub async fn claim(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<MdfClaim>,
) -> Result<HttpResponse, ApiError> {
    let scope = match caller.role {
        Role::Partner => caller.read_scope(),
        _ => {
            caller.require_staff_write()?;
            caller.read_scope()
        }
    };
    let id = path_id("id", &id)?;
    body.validate()?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    let input = body.0;
    let reply = idempotency::write(&state.db, move |conn| {
        Ok(Reply::ok(&store::claim(conn, &actor, &id, &expected, &input, &scope)?))
    })
    .await?;
    Ok(reply.into_response())
}

/// Reject a claim, saying why: the request no longer holds any of the budget.
#[utoipa::path(
    operation_id = "reject_mdf_claim",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Request id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the request changed since")),
    request_body = MdfRejectRequest,
    responses(
        (status = 200, description = "Claim rejected", body = MdfRequest, headers(("ETag" = String))),
        (status = 409, description = "`invalid_status_transition` (not claimed)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/mdf-requests/{id}/reject-claim")]
pub async fn reject_claim(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<MdfRejectRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    body.validate()?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    let input = body.0;
    let reply = idempotency::write(&state.db, move |conn| {
        Ok(Reply::ok(&store::reject_claim(conn, &actor, &id, &expected, &input)?))
    })
    .await?;
    Ok(reply.into_response())
}

/// Pay a claim. A positive actual amount becomes a cost record (category `marketing_support`,
/// the activity's month), so the partner's scorecard counts it.
#[utoipa::path(
    operation_id = "pay_mdf_request",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Request id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the request changed since")),
    responses(
        (status = 200, description = "Paid", body = MdfRequest, headers(("ETag" = String))),
        (status = 409, description = "`invalid_status_transition` (not claimed)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/mdf-requests/{id}/pay")]
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

/// A marketing_support program's budgets, per partner in partner id order: `allocated`,
/// `committed` (approved, not yet claimed), `claimed` (not yet paid), `paid` and `remaining`,
/// fen of the program's currency. Every partner the audience addresses now is listed, and any
/// other that still has requests in the program. A partner key sees its own row. `Accept:
/// text/csv` gives the page as CSV (UTF-8 with BOM; the next page in `Link`).
#[utoipa::path(
    operation_id = "list_incentive_program_budgets",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Program id"), PageParams),
    responses(
        (status = 200, description = "A page of budgets", headers(("Link" = Option<String>, description = "The next page")),
            content((Page<Budget> = "application/json"), (String = "text/csv"))),
        (status = 404, description = "`incentive_program_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`incentive_program_not_marketing_support`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/incentive-programs/{id}/budgets")]
pub async fn budgets(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let page = page.request(1)?;
    let request = page.clone();
    let rows = state.db.read(move |conn| store::budgets(conn, &id, &request, &scope)).await?;
    let page = Page::from_rows(rows, &page, |b| vec![b.partner_id.clone()], |b| b);
    if csv::negotiate(&req, &[Format::Csv]) == Format::Csv {
        let body = csv::write(BUDGET_CSV_HEADER, page.items.iter().map(Budget::csv_row))?;
        return Ok(csv::respond(body, page.next_link(&req)));
    }
    Ok(page.respond(&req))
}
