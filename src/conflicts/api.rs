//! `/api/v1/conflicts`: conflict cases, their moves, comments, stats and the detection scan.
//! Managers and admins open, edit, move and scan; viewers read; a partner key reads the cases it
//! is party to (redacted) and writes public comments on them.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use super::model::*;
use super::{scan, store};
use crate::access::{Caller, Role};
use crate::error::ApiError;
use crate::http::etag;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::state::AppState;
use crate::validation::path_id;

fn location(id: &str) -> String {
    format!("/api/v1/conflicts/{id}")
}

/// Open a conflict case by hand. Sends `conflict.opened`.
#[utoipa::path(
    operation_id = "create_conflict",
    tag = "conflicts",
    request_body = ConflictCreate,
    responses(
        (status = 201, description = "Opened", body = ConflictView, headers(("Location" = String), ("ETag" = String))),
    ),
)]
#[post("/conflicts")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ConflictCreate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let input = body.0;
    input.validate()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let view = store::create(conn, &actor, &input)?;
        Ok(Reply::created(&view, location(&view.conflict.id)))
    })
    .await?;
    Ok(reply.into_response())
}

/// List cases, newest first (a partner key: the cases it is party to, redacted).
#[utoipa::path(
    operation_id = "list_conflicts",
    tag = "conflicts",
    params(ConflictFilter, PageParams),
    responses((status = 200, description = "A page of cases", body = Page<ConflictView>)),
)]
#[get("/conflicts")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<ConflictFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    filter.validate()?;
    let page = page.request(1)?;
    let (filter, request) = (filter.0, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &filter, &request, &scope)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}

/// Counts of the cases opened from `from` to `to` (business dates, both optional) by kind, cause,
/// remedy and status, and the median days to resolve: whether the remedies work. Staff only.
#[utoipa::path(
    operation_id = "conflict_stats",
    tag = "conflicts",
    params(StatsWindow),
    responses((status = 200, description = "The counts", body = ConflictStats)),
)]
#[get("/conflicts/stats")]
pub async fn stats(
    state: web::Data<AppState>,
    caller: Caller,
    window: Query<StatsWindow>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_read()?;
    window.validate()?;
    let window = window.0;
    let stats = state.db.read(move |conn| store::stats(conn, &window)).await?;
    Ok(HttpResponse::Ok().json(stats))
}

/// Detect conflicts now: deal clashes, two partners' exclusive grants or territory terms covering
/// one territory and product line, partners on one key account's product line with no lead, a
/// partner working a territory another holds exclusively. Opens a case per new condition (once:
/// an open case is joined). The periodic scan does the same.
#[utoipa::path(
    operation_id = "scan_conflicts",
    tag = "conflicts",
    responses((status = 200, description = "What the scan found and opened", body = ScanReport)),
)]
#[post("/conflicts/scan")]
pub async fn scan_now(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let actor = caller.actor();
    let report = state.db.write(move |conn| scan::scan(conn, &actor, crate::db::now().and_utc())).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Get a case.
#[utoipa::path(
    operation_id = "get_conflict",
    tag = "conflicts",
    params(("id" = uuid::Uuid, Path, description = "Case id")),
    responses(
        (status = 200, description = "The case", body = ConflictView, headers(("ETag" = String))),
        (status = 404, description = "`conflict_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/conflicts/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let view = state.db.read(move |conn| store::get(conn, &id, &scope)).await?;
    Ok(etag::ok(&view))
}

/// Change an open or investigating case (JSON merge patch).
#[utoipa::path(
    operation_id = "update_conflict",
    tag = "conflicts",
    params(("id" = uuid::Uuid, Path, description = "Case id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the case changed since")),
    request_body = ConflictUpdate,
    responses(
        (status = 200, description = "Updated", body = ConflictView, headers(("ETag" = String))),
        (status = 404, description = "`conflict_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition`: the case is closed", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/conflicts/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<ConflictUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let patch = body.0;
    patch.validate()?;
    let actor = caller.actor();
    let view = state.db.write(move |conn| store::update(conn, &actor, &id, &expected, &patch)).await?;
    Ok(etag::ok(&view))
}

/// Start investigating an open case.
#[utoipa::path(
    operation_id = "investigate_conflict",
    tag = "conflicts",
    params(("id" = uuid::Uuid, Path, description = "Case id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the case changed since")),
    responses(
        (status = 200, description = "Investigating", body = ConflictView, headers(("ETag" = String))),
        (status = 404, description = "`conflict_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/conflicts/{id}/investigate")]
pub async fn investigate(
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
        idempotency::write(&state.db, move |conn| Ok(Reply::ok(&store::investigate(conn, &actor, &id, &expected)?)))
            .await?;
    Ok(reply.into_response())
}

/// Resolve a case with a remedy (调整利益分配 adjust_distribution, 明确角色定位 clarify_roles,
/// 加强沟通 strengthen_communication, other), its notes and what carries it out (an incentive
/// program, a meeting, action items). Sends `conflict.resolved`.
#[utoipa::path(
    operation_id = "resolve_conflict",
    tag = "conflicts",
    params(("id" = uuid::Uuid, Path, description = "Case id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the case changed since")),
    request_body = ConflictResolveRequest,
    responses(
        (status = 200, description = "Resolved", body = ConflictView, headers(("ETag" = String))),
        (status = 404, description = "`conflict_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/conflicts/{id}/resolve")]
pub async fn resolve(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<ConflictResolveRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let input = body.0;
    let mut check = crate::validation::Check::new();
    input.resolution.check(&mut check);
    check.finish()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        Ok(Reply::ok(&store::resolve(conn, &actor, &id, &expected, &input)?))
    })
    .await?;
    Ok(reply.into_response())
}

/// Dismiss a case that is no real conflict, saying why (the reason goes on the timeline). A
/// detected condition whose case was dismissed is not reopened until a scan has seen it gone.
#[utoipa::path(
    operation_id = "dismiss_conflict",
    tag = "conflicts",
    params(("id" = uuid::Uuid, Path, description = "Case id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; 412 if the case changed since")),
    request_body = ConflictDismissRequest,
    responses(
        (status = 200, description = "Dismissed", body = ConflictView, headers(("ETag" = String))),
        (status = 404, description = "`conflict_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status_transition`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`version_mismatch`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/conflicts/{id}/dismiss")]
pub async fn dismiss(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<ConflictDismissRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_write()?;
    let id = path_id("id", &id)?;
    let expected = etag::if_match(&req)?;
    let input = body.0;
    input.validate()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        Ok(Reply::ok(&store::dismiss(conn, &actor, &id, &expected, &input)?))
    })
    .await?;
    Ok(reply.into_response())
}

/// Comment on a case. A partner key party to the case writes public comments only (403 for
/// `internal: true`); viewers may not comment.
#[utoipa::path(
    operation_id = "create_conflict_comment",
    tag = "conflicts",
    params(("id" = uuid::Uuid, Path, description = "Case id")),
    request_body = CommentCreate,
    responses(
        (status = 201, description = "Added", body = Comment),
        (status = 404, description = "`conflict_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/conflicts/{id}/comments")]
pub async fn comment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<CommentCreate>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    let input = body.0;
    if caller.role == Role::Partner {
        if input.internal {
            return Err(ApiError::forbidden("internal comments are for staff: a partner key writes public comments"));
        }
    } else {
        caller.require_staff_write()?;
    }
    input.validate()?;
    let actor = caller.actor();
    let reply = idempotency::write(&state.db, move |conn| {
        let added = store::comment(conn, &actor, &id, &input, &scope)?;
        Ok(Reply::created(&added, format!("{}/comments", location(&added.conflict_id))))
    })
    .await?;
    Ok(reply.into_response())
}

/// The case's timeline, oldest first (a partner key: without internal comments).
#[utoipa::path(
    operation_id = "list_conflict_comments",
    tag = "conflicts",
    params(("id" = uuid::Uuid, Path, description = "Case id"), PageParams),
    responses(
        (status = 200, description = "A page of comments", body = Page<Comment>),
        (status = 404, description = "`conflict_not_found`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/conflicts/{id}/comments")]
pub async fn comments(
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
    let rows = state.db.read(move |conn| store::comments(conn, &id, &request, &scope)).await?;
    Ok(Page::by_id(rows, &page).respond(&req))
}
