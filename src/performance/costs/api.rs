//! `/api/v1/cost-records`: what partners cost, by month and category. Staff write; viewers read; a
//! partner key reads its own partner's records only (others are 404). Lists also answer
//! `Accept: text/csv`.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

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

fn location(id: &str) -> String {
    format!("/api/v1/cost-records/{id}")
}

/// Record a cost of a partner in a month.
#[utoipa::path(
    operation_id = "create_cost_record",
    tag = "costs",
    request_body = CostRecordCreate,
    responses(
        (status = 201, description = "Created", body = CostRecord, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "`partner_archived`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/cost-records")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CostRecordCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let input = body.0;
    input.validate()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let record = store::create(conn, &actor, input)?;
        Ok(Reply::created(&record, location(&record.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List cost records, newest month first. `Accept: text/csv` gives the page as CSV
/// (UTF-8 with BOM; the next page in `Link`).
#[utoipa::path(
    operation_id = "list_cost_records",
    tag = "costs",
    params(CostRecordFilter, PageParams),
    responses((status = 200, description = "A page of records", headers(("Link" = Option<String>, description = "The next page")),
        content((Page<CostRecord> = "application/json"), (String = "text/csv")))),
)]
#[get("/cost-records")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<CostRecordFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    filter.validate()?;
    let page = page.request(2)?;
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request, &scope)).await?;
    let page = Page::from_rows(rows, &page, |r| vec![r.period.clone(), r.id.clone()], |r| r);
    if csv::negotiate(&req, &[Format::Csv]) == Format::Csv {
        let body = csv::write(CSV_HEADER, page.items.iter().map(CostRecord::csv_row))?;
        return Ok(csv::respond(body, page.next_link(&req)));
    }
    Ok(page.respond(&req))
}

/// Get a cost record.
#[utoipa::path(
    operation_id = "get_cost_record",
    tag = "costs",
    params(("id" = uuid::Uuid, Path, description = "Record id")),
    responses((status = 200, description = "The record", body = CostRecord, headers(("ETag" = String)))),
)]
#[get("/cost-records/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let record = state.db.read(move |conn| store::get(conn, &id, &scope)).await?;
    Ok(etag::ok(&record))
}

/// Correct a cost record (JSON merge patch).
#[utoipa::path(
    operation_id = "update_cost_record",
    tag = "costs",
    params(("id" = uuid::Uuid, Path, description = "Record id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the record changed since")),
    request_body = CostRecordUpdate,
    responses(
        (status = 200, description = "Updated", body = CostRecord, headers(("ETag" = String))),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/cost-records/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<CostRecordUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let patch = body.0;
    patch.validate()?;
    let actor = caller.actor();
    let reply =
        idempotency::write(&state.db, move |conn| Ok(Reply::ok(&store::update(conn, &actor, &id, &expected, &patch)?)))
            .await?;
    Ok(reply.into_response())
}

/// Delete a cost record (the audit trail keeps what it was).
#[utoipa::path(
    operation_id = "delete_cost_record",
    tag = "costs",
    params(("id" = uuid::Uuid, Path, description = "Record id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/cost-records/{id}")]
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
    let reply = idempotency::write(&state.db, move |conn| {
        store::delete(conn, &actor, &id, &expected)?;
        Ok(Reply::no_content())
    })
    .await?;
    Ok(reply.into_response())
}
