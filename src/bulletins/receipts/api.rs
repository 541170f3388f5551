//! The read-receipt endpoints: acknowledge a bulletin (a partner key for itself, staff on a
//! partner's behalf), and see who it went to and who has read it.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};

use super::model::*;
use super::store::{self, Acknowledger};
use crate::access::{Caller, Role};
use crate::bulletins::store::not_found;
use crate::error::ApiError;
use crate::http::etag;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::{idempotency, reply::Reply};
use crate::state::AppState;
use crate::validation::path_id;

fn receipt_location(id: &str, partner_id: &str) -> String {
    format!("/api/v1/bulletins/{id}/receipts/{partner_id}")
}

/// Record that a partner read a bulletin (a read receipt). A partner key acknowledges for its
/// own partner, on a bulletin it can see; a manager or admin records one on a partner's behalf
/// by naming `partner_id`. The first acknowledgement is kept: repeating it answers 200 with the
/// original receipt. Partners that are not recipients get 404 `recipient_not_found`.
#[utoipa::path(
    tag = "bulletins",
    params(("id" = uuid::Uuid, Path, description = "Bulletin id")),
    request_body = AcknowledgementCreate,
    responses(
        (status = 201, description = "Recorded", body = Receipt, headers(("Location" = String), ("ETag" = String))),
        (status = 200, description = "Already acknowledged: the first receipt, unchanged", body = Receipt, headers(("Location" = String), ("ETag" = String))),
    ),
)]
#[post("/bulletins/{id}/acknowledgements")]
pub async fn acknowledge(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<AcknowledgementCreate>,
) -> Result<HttpResponse, ApiError> {
    let own = match caller.role {
        Role::Partner => Some(caller.partner_id.clone().ok_or_else(not_found)?),
        _ => {
            caller.require_staff_write()?;
            None
        }
    };
    let id = path_id("id", &id)?;
    let mut input = body.0;
    input.validate()?;
    let by = match own {
        Some(own) => {
            if input.partner_id.as_ref().is_some_and(|p| p != &own) {
                return Err(ApiError::forbidden("a partner key acknowledges for its own partner only"));
            }
            Acknowledger::Partner(own)
        }
        None => Acknowledger::Staff(input.partner_id.clone().ok_or_else(|| {
            ApiError::field("partner_id", "is required: name the partner you record the acknowledgement for")
        })?),
    };
    let partner_key = matches!(by, Acknowledger::Partner(_));
    let actor = caller.actor();
    let contact_id = input.contact_id;
    let reply = idempotency::write(&state.db, move |conn| {
        let (receipt, created) = store::acknowledge(conn, &actor, &id, &by, contact_id.as_deref())?;
        let receipt = if partner_key { receipt.for_partner() } else { receipt };
        let status = if created { StatusCode::CREATED } else { StatusCode::OK };
        let location = receipt_location(&receipt.bulletin_id, &receipt.partner_id);
        Ok(Reply::json(status, &receipt).etag(receipt.version).header(header::LOCATION, &location))
    })
    .await?;
    Ok(reply.into_response())
}

/// Who a published bulletin went to and who has read it: totals over all recipients
/// (`recipients`, `read`, `unread`, `read_rate` in basis points) and a page of receipts in
/// partner id order.
#[utoipa::path(
    tag = "bulletins",
    params(("id" = uuid::Uuid, Path, description = "Bulletin id"), ReceiptFilter, PageParams),
    responses(
        (status = 200, description = "Totals and a page of receipts", body = ReceiptPage),
        (status = 409, description = "`bulletin_not_published` (a draft has no recipients yet)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/bulletins/{id}/receipts")]
pub async fn list_receipts(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    filter: Query<ReceiptFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require_staff_read()?;
    let id = path_id("id", &id)?;
    let page = page.request(1)?;
    let (filter, request) = (filter.0, page.clone());
    let (totals, rows) = state.db.read(move |conn| store::receipts(conn, &id, &filter, &request)).await?;
    let page = Page::from_rows(rows, &page, |r| vec![r.partner_id.clone()], |r| r);
    let body = ReceiptPage {
        recipients: totals.recipients,
        read: totals.read,
        unread: totals.recipients - totals.read,
        read_rate: read_rate_bp(totals.read, totals.recipients),
        items: page.items,
        next_cursor: page.next_cursor,
    };
    let mut res = HttpResponse::Ok();
    if let Some(cursor) = &body.next_cursor {
        res.insert_header((header::LINK, next_link(&req, cursor)));
    }
    Ok(res.json(body))
}

/// `<path?query-with-this-cursor>; rel="next"`, as every list sends.
fn next_link(req: &HttpRequest, cursor: &str) -> String {
    let mut query: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| k != "cursor")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    query.push(("cursor".into(), cursor.to_string()));
    let qs = form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
    format!("<{}?{}>; rel=\"next\"", req.path(), qs)
}

/// One recipient's receipt. Partner keys may read their own, on a bulletin they can see.
#[utoipa::path(
    tag = "bulletins",
    params(("id" = uuid::Uuid, Path, description = "Bulletin id"), ("partner_id" = uuid::Uuid, Path, description = "Partner id")),
    responses((status = 200, description = "The receipt", body = Receipt, headers(("ETag" = String)))),
)]
#[get("/bulletins/{id}/receipts/{partner_id}")]
pub async fn get_receipt(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let (id, partner_id) = (path_id("id", &path.0)?, path_id("partner_id", &path.1)?);
    let receipt = state.db.read(move |conn| store::receipt(conn, &id, &partner_id, &scope)).await?;
    Ok(etag::ok(&receipt))
}
