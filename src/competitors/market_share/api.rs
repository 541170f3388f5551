//! `GET /market-share`. Internal like the competitor intelligence it reads: every staff role,
//! partner keys 403.

use actix_web::{get, web, HttpResponse};

use super::model::*;
use super::store;
use crate::access::Caller;
use crate::competitors::api::INTERNAL;
use crate::error::ApiError;
use crate::http::extract::Query;
use crate::performance::period::Month;
use crate::state::AppState;

/// Our revenue-weighted market share per region (from the partners' performance records) beside
/// each competitor's latest observed share there. Partner keys: 403.
#[utoipa::path(
    operation_id = "get_market_share",
    tag = "competitors",
    params(MarketShareQuery),
    responses(
        (status = 200, description = "Shares by region", body = MarketShare),
        (status = 403, description = "`forbidden`: partner keys (competitor intelligence is internal)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a bad region or period", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/market-share")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<MarketShareQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require_internal_read(INTERNAL)?;
    let today = Month::of(chrono::Utc::now()).ok_or_else(|| ApiError::internal("the clock is out of range"))?;
    let window = query.window(today)?;
    let answer = state.db.read(move |conn| store::market_share(conn, &window)).await?;
    Ok(HttpResponse::Ok().json(answer))
}
