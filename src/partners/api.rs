//! Partner and contact handlers: authorize (partner keys see only their own partner), validate,
//! call the store; the utoipa annotations are the documentation.

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
    format!("/api/v1/partners/{id}")
}

/// Create a partner. It starts as a `prospect`.
#[utoipa::path(
    operation_id = "create_partner",
    tag = "partners",
    request_body = PartnerCreate,
    responses(
        (status = 201, description = "Created", body = Partner,
            headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "`partner_name_taken`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/partners")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<PartnerCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let input = body.0;
    input.validate()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let partner = store::create(conn, &actor, &input)?;
        Ok(Reply::created(&partner, location(&partner.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List current partners, newest first. Partner keys see only their own partner.
#[utoipa::path(
    operation_id = "list_partners",
    tag = "partners",
    params(PartnerFilter, PageParams),
    responses((status = 200, description = "A page of partners", body = Page<Partner>)),
)]
#[get("/partners")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<PartnerFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    filter.validate()?;
    let page = page.request(1)?;
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request, &scope)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get a partner (archived ones too, with `archived_at` set).
#[utoipa::path(
    operation_id = "get_partner",
    tag = "partners",
    params(("id" = uuid::Uuid, Path, description = "Partner id")),
    responses((status = 200, description = "The partner", body = Partner, headers(("ETag" = String)))),
)]
#[get("/partners/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let partner = state.db.read(move |conn| store::get(conn, &id, &scope)).await?;
    Ok(etag::ok(&partner))
}

/// Change a partner (JSON merge patch). `{"status": …}` moves it along
/// prospect → onboarding → active ⇄ suspended, or to terminated from anywhere.
#[utoipa::path(
    operation_id = "update_partner",
    tag = "partners",
    params(("id" = uuid::Uuid, Path, description = "Partner id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the partner changed since")),
    request_body = PartnerUpdate,
    responses(
        (status = 200, description = "Updated", body = Partner, headers(("ETag" = String))),
        (status = 409, description = "`invalid_status_transition`, `partner_name_taken` or `partner_archived`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/partners/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<PartnerUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let (actor, patch) = (caller.actor(), body.0);
    let partner = state.db.write(move |conn| store::update(conn, &actor, &id, &expected, &patch)).await?;
    Ok(etag::ok(&partner))
}

/// Delete (archive) a partner: hidden from lists, kept for history.
#[utoipa::path(
    operation_id = "archive_partner",
    tag = "partners",
    params(("id" = uuid::Uuid, Path, description = "Partner id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Archived"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/partners/{id}")]
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

fn contact_location(partner_id: &str, id: &str) -> String {
    format!("/api/v1/partners/{partner_id}/contacts/{id}")
}

/// Add a contact person to a partner.
#[utoipa::path(
    tag = "partners",
    params(("id" = uuid::Uuid, Path, description = "Partner id")),
    request_body = ContactCreate,
    responses(
        (status = 201, description = "Created", body = Contact, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "`partner_archived`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/partners/{id}/contacts")]
pub async fn create_contact(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<ContactCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let partner_id = path_id("id", &id)?;
    let input = body.0;
    input.validate()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let contact = store::create_contact(conn, &actor, &partner_id, &input)?;
        Ok(Reply::created(&contact, contact_location(&contact.partner_id, &contact.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List a partner's contacts in the order they were added.
#[utoipa::path(
    tag = "partners",
    params(("id" = uuid::Uuid, Path, description = "Partner id"), PageParams),
    responses((status = 200, description = "A page of contacts", body = Page<Contact>)),
)]
#[get("/partners/{id}/contacts")]
pub async fn list_contacts(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let partner_id = path_id("id", &id)?;
    let page = page.request(1)?;
    let request = page.clone();
    let rows = state.db.read(move |conn| store::list_contacts(conn, &partner_id, &request, &scope)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Get one contact.
#[utoipa::path(
    tag = "partners",
    params(("id" = uuid::Uuid, Path, description = "Partner id"), ("contact_id" = uuid::Uuid, Path, description = "Contact id")),
    responses((status = 200, description = "The contact", body = Contact, headers(("ETag" = String)))),
)]
#[get("/partners/{id}/contacts/{contact_id}")]
pub async fn get_contact(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let (partner_id, contact_id) = (path_id("id", &path.0)?, path_id("contact_id", &path.1)?);
    let contact = state.db.read(move |conn| store::get_contact(conn, &partner_id, &contact_id, &scope)).await?;
    Ok(etag::ok(&contact))
}

/// Change a contact (JSON merge patch).
#[utoipa::path(
    tag = "partners",
    params(("id" = uuid::Uuid, Path, description = "Partner id"), ("contact_id" = uuid::Uuid, Path, description = "Contact id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body = ContactUpdate,
    responses(
        (status = 200, description = "Updated", body = Contact, headers(("ETag" = String))),
        (status = 409, description = "`partner_archived`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/partners/{id}/contacts/{contact_id}")]
pub async fn update_contact(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: Json<ContactUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let (partner_id, contact_id) = (path_id("id", &path.0)?, path_id("contact_id", &path.1)?);
    let expected = etag::if_match(&req)?;
    let patch = body.0;
    patch.validate()?;
    let actor = caller.actor();
    let contact = state
        .db
        .write(move |conn| store::update_contact(conn, &actor, &partner_id, &contact_id, &expected, &patch))
        .await?;
    Ok(etag::ok(&contact))
}

/// Remove a contact (the audit trail keeps what it was).
#[utoipa::path(
    tag = "partners",
    params(("id" = uuid::Uuid, Path, description = "Partner id"), ("contact_id" = uuid::Uuid, Path, description = "Contact id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/partners/{id}/contacts/{contact_id}")]
pub async fn delete_contact(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let (partner_id, contact_id) = (path_id("id", &path.0)?, path_id("contact_id", &path.1)?);
    let expected = etag::if_match(&req)?;
    let actor = caller.actor();
    state.db.write(move |conn| store::delete_contact(conn, &actor, &partner_id, &contact_id, &expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}
