//! The contract endpoints: create, list, read (as JSON or as a Markdown document), change, delete
//! a draft, renew.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::Utc;

use super::model::*;
use super::risks::business_date;
use super::terms::store::all_terms;
use super::{render, renewal, store};
use crate::access::Caller;
use crate::error::ApiError;
use crate::http::etag;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::state::AppState;
use crate::validation::{input_id, path_id};

fn location(id: &str) -> String {
    format!("/api/v1/contracts/{id}")
}

/// Create a contract with a partner. It starts as a `draft`, whose terms are edited freely.
#[utoipa::path(
    tag = "contracts",
    request_body = ContractCreate,
    responses(
        (status = 201, description = "Created", body = Contract, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "`contract_number_taken`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/contracts")]
pub async fn create_contract(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ContractCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let mut input = body.0;
    input.validate()?;
    input.partner_id = input_id("partner_id", &input.partner_id)?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let contract = store::create(conn, &actor, &input)?;
        Ok(Reply::created(&contract, location(&contract.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List contracts, newest first (with `expiring_within_days`: soonest end first). Partner keys
/// see only their own.
#[utoipa::path(
    tag = "contracts",
    params(ContractFilter, PageParams),
    responses((status = 200, description = "A page of contracts", body = Page<Contract>)),
)]
#[get("/contracts")]
pub async fn list_contracts(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<ContractFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    filter.validate()?;
    let by_expiry = filter.expiring_within_days.is_some();
    let page = page.request(if by_expiry { 2 } else { 1 })?;
    let (mut filter, request) = (filter.0, page.clone());
    if let Some(partner_id) = &filter.partner_id {
        filter.partner_id = Some(input_id("partner_id", partner_id)?);
    }
    let today = business_date(Utc::now());
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request, &scope, today)).await?;
    let key = move |c: &Contract| {
        if by_expiry {
            vec![c.effective_to.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(), c.id.clone()]
        } else {
            vec![c.id.clone()]
        }
    };
    Ok(Page::from_rows(rows, &page, key, |c| c).respond(&req))
}

/// Whether the client prefers Markdown to JSON (`Accept: text/markdown`).
fn wants_markdown(req: &HttpRequest) -> bool {
    let Some(accept) = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return false };
    let mut markdown = 0.0_f32;
    let mut json = 0.0_f32;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.trim().parse::<f32>().ok()))
            .next()
            .unwrap_or(1.0);
        match essence.as_str() {
            "text/markdown" => markdown = markdown.max(q),
            "application/json" | "application/*" | "*/*" => json = json.max(q),
            _ => {}
        }
    }
    markdown > 0.0 && markdown > json
}

/// Get a contract. With `Accept: text/markdown` the answer is the contract and its terms as a
/// readable Chinese/English document, ready to paste into a WeCom or DingTalk chat.
#[utoipa::path(
    tag = "contracts",
    params(("id" = uuid::Uuid, Path, description = "Contract id")),
    responses(
        (status = 200, description = "The contract, as JSON or (`Accept: text/markdown`) as a Markdown document",
            headers(("ETag" = String)),
            content((Contract = "application/json"), (String = "text/markdown"))),
    ),
)]
#[get("/contracts/{id}")]
pub async fn get_contract(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    if !wants_markdown(&req) {
        let contract = state.db.read(move |conn| store::get(conn, &id, &scope)).await?;
        let mut res = etag::ok(&contract);
        res.headers_mut().insert(header::VARY, header::HeaderValue::from_static("Accept"));
        return Ok(res);
    }
    let (contract, document) = state
        .db
        .read(move |conn| {
            let contract = store::get(conn, &id, &scope)?;
            let partner_name = store::partner_name(conn, &contract.partner_id)?;
            let terms = all_terms(conn, &contract.id)?;
            let links = store::link_numbers(conn, &contract)?;
            let document = render::contract_markdown(&contract, &partner_name, &terms, &links, Utc::now());
            Ok((contract, document))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::etag(contract.version)))
        .insert_header((header::VARY, "Accept"))
        .content_type("text/markdown; charset=utf-8")
        .body(document))
}

/// Change a contract (JSON merge patch). `{"status": …}` moves it: draft → active (needs
/// `effective_from`) → expired | terminated. After draft only `status`, `owner` and `notes`
/// change here; terms and commercial fields change through amendments.
#[utoipa::path(
    tag = "contracts",
    params(("id" = uuid::Uuid, Path, description = "Contract id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the contract changed since")),
    request_body = ContractUpdate,
    responses(
        (status = 200, description = "Updated", body = Contract, headers(("ETag" = String))),
        (status = 409, description = "`invalid_status_transition`, `contract_not_draft`, `contract_incomplete` or `contract_number_taken`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/contracts/{id}")]
pub async fn update_contract(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<ContractUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let (actor, mut patch) = (caller.actor(), body.0);
    if let Some(partner_id) = &patch.partner_id {
        patch.partner_id = Some(input_id("partner_id", partner_id)?);
    }
    let contract = state.db.write(move |conn| store::update(conn, &actor, &id, &expected, &patch)).await?;
    Ok(etag::ok(&contract))
}

/// Delete a draft contract and its terms (a draft successor is unlinked from its predecessor).
/// Contracts that were ever active are kept: terminate them instead.
#[utoipa::path(
    tag = "contracts",
    params(("id" = uuid::Uuid, Path, description = "Contract id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "`contract_not_draft`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/contracts/{id}")]
pub async fn delete_contract(
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

/// Renew an active or expired contract: creates its successor as a draft with the same partner,
/// kind, renewal settings and a copy of the terms, linked both ways (`predecessor_id`,
/// `successor_id`). Dates default to the day after the predecessor ends, for the same duration.
#[utoipa::path(
    tag = "contracts",
    params(("id" = uuid::Uuid, Path, description = "The contract to renew")),
    request_body = ContractRenewRequest,
    responses(
        (status = 201, description = "The successor", body = Contract, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "`contract_not_renewable`, `contract_already_renewed` or `contract_number_taken`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/contracts/{id}/renew")]
pub async fn renew_contract(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<ContractRenewRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let input = body.0;
    input.validate()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let successor = renewal::renew(conn, &actor, &id, &input)?;
        Ok(Reply::created(&successor, location(&successor.id)))
    })
    .await?;
    Ok(reply.into_response())
}
