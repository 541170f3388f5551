//! `GET /api/v1/partners/{id}/discount?on=DATE`: the discount that applies to a partner on a day.
//! Staff read any partner's; a partner key reads its own (others are 404).

use actix_web::{get, web, HttpResponse};

use super::model::*;
use super::store;
use crate::access::Caller;
use crate::error::ApiError;
use crate::http::extract::Query;
use crate::state::AppState;
use crate::validation::path_id;

/// The discount that applies to the partner on `on`: the best of the active discount programs
/// addressed to it (its tier's rate) and the discount terms of its active contracts in effect
/// that day, with every offer considered, which one won and why.
#[utoipa::path(
    operation_id = "get_partner_discount",
    tag = "incentives",
    params(("id" = uuid::Uuid, Path, description = "Partner id"), DiscountQuery),
    responses((status = 200, description = "The discount and its explanation", body = PartnerDiscount)),
)]
#[get("/partners/{id}/discount")]
pub async fn discount(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: Query<DiscountQuery>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.read_scope();
    let id = path_id("id", &id)?;
    query.validate()?;
    let on = query.on;
    let answer = state.db.read(move |conn| store::discount(conn, &id, on, &scope)).await?;
    Ok(HttpResponse::Ok().json(answer))
}
