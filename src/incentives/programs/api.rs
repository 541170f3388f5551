//! `/api/v1/incentive-programs`: rebate, discount and marketing support programs. Managers and
//! admins write; viewers read; a partner key reads the live programs addressed to its partner
//! (others, and every draft, are 404).

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

use super::model::*;
use super::store;
use crate::access::Caller;
use crate::db;
use crate::error::ApiError;
use crate::http::etag;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::state::AppState;
use crate::validation::path_id;

fn location(id: &str) -> String {
    format!("/api/v1/incentive-programs/{id}")
}

/// Create a program: its kind, months, audience (as a bulletin's), currency and rules by kind.
#[utoipa::path(
    operation_id = "create_incentive_program",
    tag = "incentives",
    request_body = ProgramCreate,
    responses(
        (status = 201, description = "Created", body = Program, headers(("Location" = String), ("ETag" = String))),
    ),
)]
#[post("/incentive-programs")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ProgramCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let input = body.0;
    let audience = input.audience.clone();
    let program = input.into_program(db::new_id(), db::now().and_utc())?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let record = store::create(conn, &actor, program, &audience)?;
        Ok(Reply::created(&record, location(&record.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List programs, newest first.
#[utoipa::path(
    operation_id = "list_incentive_programs",
    tag = "incentives",
    params(ProgramFilter, PageParams),
    responses((status = 200, description = "A page of programs", body = Page<Program>)),
)]
#[get("/incentive-programs")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<ProgramFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    filter.validate()?;
    let page = page.request(1)?;
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request, &scope)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a program.
#[utoipa::path(
    operation_id = "get_incentive_program",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Program id")),
    responses((status = 200, description = "The program", body = Program, headers(("ETag" = String)))),
)]
#[get("/incentive-programs/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let record = state.db.read(move |conn| store::get(conn, &id, &scope)).await?;
    Ok(etag::ok(&record))
}

/// Change a program (JSON merge patch). `status` moves draft → active → closed; an active
/// program changes only `name` and `status` (its rules are frozen), a closed one nothing.
#[utoipa::path(
    operation_id = "update_incentive_program",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Program id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the program changed since")),
    request_body = ProgramUpdate,
    responses(
        (status = 200, description = "Updated", body = Program, headers(("ETag" = String))),
        (status = 409, description = "`incentive_program_frozen` (an active program's rules), `incentive_program_closed`, `invalid_status_transition`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/incentive-programs/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<ProgramUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let patch = body.0;
    let actor = caller.actor();
    let reply =
        idempotency::write(&state.db, move |conn| Ok(Reply::ok(&store::update(conn, &actor, &id, &expected, &patch)?)))
            .await?;
    Ok(reply.into_response())
}

/// Delete a draft program (the audit trail keeps what it was).
#[utoipa::path(
    operation_id = "delete_incentive_program",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Program id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "`incentive_program_not_draft`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/incentive-programs/{id}")]
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
