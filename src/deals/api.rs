//! `/api/v1/deal-registrations` (商机报备). A partner key registers, reads and closes (won/lost)
//! its own partner's registrations; managers and admins register on a partner's behalf, decide
//! and extend; viewers read. Every move takes an optional `If-Match`.

use actix_web::{get, post, web, HttpRequest, HttpResponse};

use super::model::*;
use super::store;
use crate::access::{Caller, Role};
use crate::error::ApiError;
use crate::http::etag;
use crate::http::extract::{Json, OptionalJson, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::state::AppState;
use crate::validation::path_id;

fn location(id: &str) -> String {
    format!("/api/v1/deal-registrations/{id}")
}

/// Register a deal: an existing `key_account_id` or a new `prospect` (exactly one), for
/// product lines. A partner key registers for its own partner; staff name `partner_id`. A
/// registration that clashes with another channel's (the duplicate rule, see the README) is
/// accepted with `conflicts_with` (a partner key: `clash: already_registered` and nothing about
/// who) and opens or joins a conflict case. Sends `deal.submitted`.
#[utoipa::path(
    operation_id = "create_deal_registration",
    tag = "deals",
    request_body = DealRegistrationCreate,
    responses(
        (status = 201, description = "Registered", body = DealRegistration, headers(("Location" = String), ("ETag" = String))),
        (status = 422, description = "`validation_failed`: partner_id missing (staff), unknown key account or partner, both or neither of key_account_id and prospect, a wrong credit code", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/deal-registrations")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<DealRegistrationCreate>,
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
    let partner_id =
        match own {
            Some(own) => {
                if input.partner_id.as_ref().is_some_and(|p| p.to_lowercase() != own) {
                    return Err(ApiError::forbidden("a partner key registers deals for its own partner only"));
                }
                own
            }
            None => input.partner_id.as_ref().map(|p| p.to_lowercase()).ok_or_else(|| {
                ApiError::field("partner_id", "is required: name the partner the deal is registered for")
            })?,
        };
    let actor = caller.actor();
    let scope = caller.read_scope();
    let reply = idempotency::write(&state.db, move |conn| {
        let created = store::create(conn, &actor, &input, &partner_id, &scope)?;
        Ok(Reply::created(&created.registration, location(&created.registration.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List registrations, newest first (a partner key: its own partner's).
#[utoipa::path(
    operation_id = "list_deal_registrations",
    tag = "deals",
    params(DealFilter, PageParams),
    responses((status = 200, description = "A page of registrations", body = Page<DealRegistration>)),
)]
#[get("/deal-registrations")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<DealFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    filter.validate()?;
    let page = page.request(1)?;
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request, &scope)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a registration, with the live registrations it clashes with (a partner key: `clash`).
#[utoipa::path(
    operation_id = "get_deal_registration",
    tag = "deals",
    params(("id" = uuid::Uuid, Path, description = "Registration id")),
    responses(
        (status = 200, description = "The registration", body = DealRegistration, headers(("ETag" = String))),
        (status = 404, description = "`deal_registration_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/deal-registrations/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let record = state.db.read(move |conn| store::get(conn, &id, &scope)).await?;
    Ok(etag::ok(&record))
}

/// Approve a submitted registration: protected for `CHANNELDESK_DEAL_PROTECTION_DAYS` from
/// now. 409 `deal_conflict` when a clashing registration is already approved (named), or an
/// earlier-submitted clashing one is still submitted, unless the body says
/// `{"override_earlier": true, "reason": "…"}` (recorded in the conflict case). The body is
/// optional. Sends `deal.decided`.
#[utoipa::path(
    operation_id = "approve_deal_registration",
    tag = "deals",
    params(("id" = uuid::Uuid, Path, description = "Registration id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the registration changed since")),
    request_body(content = Option<DealApprove>, description = "Optional: override an earlier submission, with the reason"),
    responses(
        (status = 200, description = "Approved", body = DealRegistration, headers(("ETag" = String))),
        (status = 404, description = "`deal_registration_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`deal_conflict`; `invalid_status_transition` (not submitted)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/deal-registrations/{id}/approve")]
pub async fn approve(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: OptionalJson<DealApprove>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let input = body.0;
    input.validate()?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    let days = state.config.deal_protection_days;
    let reply = idempotency::write(&state.db, move |conn| {
        Ok(Reply::ok(&store::approve(conn, &actor, &id, &expected, &input, days)?))
    })
    .await?;
    Ok(reply.into_response())
}

/// Reject a submitted registration, saying why. Sends `deal.decided`.
#[utoipa::path(
    operation_id = "reject_deal_registration",
    tag = "deals",
    params(("id" = uuid::Uuid, Path, description = "Registration id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the registration changed since")),
    request_body = DealReject,
    responses(
        (status = 200, description = "Rejected", body = DealRegistration, headers(("ETag" = String))),
        (status = 404, description = "`deal_registration_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition` (not submitted)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/deal-registrations/{id}/reject")]
pub async fn reject(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<DealReject>,
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

async fn close(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    to: DealStatus,
) -> Result<HttpResponse, ApiError> {
    if caller.role != Role::Partner {
        caller.require_staff_write()?;
    }
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        Ok(Reply::ok(&store::close(conn, &actor, &id, &expected, to, &scope)?))
    })
    .await?;
    Ok(reply.into_response())
}

/// Mark an approved registration won. A partner key closes its own partner's. Sends `deal.decided`.
#[utoipa::path(
    operation_id = "win_deal_registration",
    tag = "deals",
    params(("id" = uuid::Uuid, Path, description = "Registration id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the registration changed since")),
    responses(
        (status = 200, description = "Won", body = DealRegistration, headers(("ETag" = String))),
        (status = 404, description = "`deal_registration_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition` (not approved)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/deal-registrations/{id}/won")]
pub async fn won(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    close(req, state, caller, id, DealStatus::Won).await
}

/// Mark an approved registration lost. A partner key closes its own partner's. Sends `deal.decided`.
#[utoipa::path(
    operation_id = "lose_deal_registration",
    tag = "deals",
    params(("id" = uuid::Uuid, Path, description = "Registration id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the registration changed since")),
    responses(
        (status = 200, description = "Lost", body = DealRegistration, headers(("ETag" = String))),
        (status = 404, description = "`deal_registration_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition` (not approved)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/deal-registrations/{id}/lost")]
pub async fn lost(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    close(req, state, caller, id, DealStatus::Lost).await
}

/// Extend an approved registration's protection by `days` (1–365), saying why (managers and admins).
#[utoipa::path(
    operation_id = "extend_deal_registration",
    tag = "deals",
    params(("id" = uuid::Uuid, Path, description = "Registration id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the registration changed since")),
    request_body = DealExtend,
    responses(
        (status = 200, description = "Extended", body = DealRegistration, headers(("ETag" = String))),
        (status = 404, description = "`deal_registration_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition` (not approved)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/deal-registrations/{id}/extend")]
pub async fn extend(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<DealExtend>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    body.validate()?;
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    let input = body.0;
    let reply =
        idempotency::write(&state.db, move |conn| Ok(Reply::ok(&store::extend(conn, &actor, &id, &expected, &input)?)))
            .await?;
    Ok(reply.into_response())
}
