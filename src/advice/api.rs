//! The advice endpoint: a stateless calculation, so the handler only authorizes and answers.

use actix_web::{post, HttpResponse};

use super::model::{advise as compute, Advice, AdviceRequest};
use crate::access::Caller;
use crate::error::ApiError;
use crate::http::extract::Json;

/// Recommend direct, indirect or hybrid channels for a product, its market and your resources.
#[utoipa::path(
    tag = "channel-advice",
    request_body = AdviceRequest,
    responses((status = 200, description = "The recommendation with its reasons", body = Advice)),
)]
#[post("/channel-advice")]
pub async fn advise(caller: Caller, body: Json<AdviceRequest>) -> Result<HttpResponse, ApiError> {
    caller.require_staff_read()?;
    Ok(HttpResponse::Ok().json(compute(&body)))
}
