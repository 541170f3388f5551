//! Reading the audit trail: admins and managers, filtered by entity, actor and time.

use actix_web::{get, web, HttpRequest, HttpResponse};

use super::{AuditEvent, AuditFilter};
use crate::access::Caller;
use crate::access::Role;
use crate::error::ApiError;
use crate::http::extract::Query;
use crate::http::pagination::{Page, PageParams};
use crate::state::AppState;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list);
}

/// List audit events, newest first.
#[utoipa::path(
    operation_id = "list_audit_events",
    tag = "audit",
    params(AuditFilter, PageParams),
    responses((status = 200, description = "A page of audit events", body = Page<AuditEvent>)),
)]
#[get("/audit-events")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<AuditFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Manager])?;
    filter.validate()?;
    let page = page.request(1)?;
    let filter = filter.0;
    let request = page.clone();
    let rows = state.db.read(move |conn| super::list(conn, &filter, &request)).await?;
    Ok(Page::from_rows(rows, &page, |r| vec![r.id.clone()], |r| r).respond(&req))
}
