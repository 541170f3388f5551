//! The bearer extractor: `Caller` (see `access`) from `Authorization: Bearer <api key>`, through the
//! short-lived cache of verified keys. A request is authenticated once: whoever checks first (the
//! idempotency middleware, or the extractor) leaves the `Caller` in the request's extensions.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};

use crate::access::Caller;
use crate::error::ApiError;
use crate::state::AppState;

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let known = req.extensions().get::<Caller>().cloned();
        let token = bearer_token(req.headers());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        Box::pin(async move {
            if let Some(caller) = known {
                return Ok(caller);
            }
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let caller = verify(&state, token?).await?;
            req.extensions_mut().insert(caller.clone());
            Ok(caller)
        })
    }
}

/// The caller behind the request's bearer key: from the cache when it was verified lately, else
/// one read of the key's row. Unknown, malformed and revoked keys are 401 and are never cached.
pub async fn authenticate(state: &AppState, headers: &header::HeaderMap) -> Result<Caller, ApiError> {
    verify(state, bearer_token(headers)?).await
}

async fn verify(state: &AppState, token: String) -> Result<Caller, ApiError> {
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
}

fn bearer_token(headers: &header::HeaderMap) -> Result<String, ApiError> {
    let value = headers
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
