//! The bearer extractor: `Caller` (see `access`) from `Authorization: Bearer <api key>`, through the
//! short-lived cache of verified keys.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};

use crate::access::Caller;
use crate::error::ApiError;
use crate::state::AppState;

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
            if let Some(caller) = state.auth_cache.get(&digest) {
                return Ok(caller);
            }
            let caller = state
                .db
                .read(move |conn| crate::api_keys::store::authenticate(conn, &token))
                .await?
                .ok_or_else(|| ApiError::unauthorized("the API key is unknown or revoked"))?;
            state.auth_cache.put(digest, &caller);
            Ok(caller)
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <api key>"))?
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not valid text"))?;
    let (scheme, token) =
        value.split_once(' ').ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <api key>"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized("send Authorization: Bearer <api key>"));
    }
    Ok(token.trim().to_string())
}
