//! Who is calling: the bearer API key, its role, and for partner keys the one partner it may see.
//!
//! Fail-closed: a handler states what it allows. `require_*` admit staff roles only, so a partner
//! key gets 404 from every endpoint that does not opt in through `read_scope`.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::api_keys::model::Role;
use crate::app::AppState;
use crate::audit::Actor;
use crate::error::ApiError;

#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: String,
    pub name: String,
    pub role: Role,
    /// Set for (and only for) partner keys.
    pub partner_id: Option<String>,
}

/// What a read may cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Partner(String),
}

impl Scope {
    /// True when a record owned by `partner_id` is visible.
    pub fn allows(&self, partner_id: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Partner(own) => own == partner_id,
        }
    }
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor { key_id: self.key_id.clone(), name: self.name.clone() }
    }

    fn deny(&self) -> ApiError {
        match self.role {
            // A partner key must not learn that staff-only endpoints or records exist.
            Role::Partner => ApiError::not_found("resource"),
            _ => ApiError::forbidden(format!("the {} role may not do this", self.role)),
        }
    }

    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(self.deny())
        }
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        self.require(&[Role::Admin])
    }

    /// Read domain data: admin, manager, viewer.
    pub fn require_staff_read(&self) -> Result<(), ApiError> {
        self.require(&[Role::Admin, Role::Manager, Role::Viewer])
    }

    /// Change domain data: admin, manager.
    pub fn require_staff_write(&self) -> Result<(), ApiError> {
        self.require(&[Role::Admin, Role::Manager])
    }

    /// For reads that partner keys may make on their own records.
    pub fn read_scope(&self) -> Scope {
        match (&self.role, &self.partner_id) {
            (Role::Partner, Some(id)) => Scope::Partner(id.clone()),
            (Role::Partner, None) => Scope::Partner(String::new()),
            _ => Scope::All,
        }
    }
}

/// Verified keys, by the SHA-256 of the presented token, for a short time: without it every
/// request would pay a second database round trip before its own query. Unknown keys are never
/// cached, and revoking through this process empties the cache at once.
pub struct AuthCache {
    ttl: Duration,
    entries: Mutex<HashMap<[u8; 32], (Caller, Instant)>>,
}

/// More entries than any real deployment has keys: past it the cache starts over rather than grow.
const AUTH_CACHE_MAX: usize = 10_000;

impl AuthCache {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    fn get(&self, digest: &[u8; 32]) -> Option<Caller> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(digest).filter(|(_, at)| at.elapsed() < self.ttl).map(|(caller, _)| caller.clone())
    }

    fn put(&self, digest: [u8; 32], caller: &Caller) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= AUTH_CACHE_MAX {
            entries.clear();
        }
        entries.insert(digest, (caller.clone(), Instant::now()));
    }

    /// Forgets every verified key (after a revocation).
    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller { key_id: "k".into(), name: "n".into(), role: Role::Viewer, partner_id: None }
    }

    #[test]
    fn cache_keeps_verified_keys_until_ttl_or_clear() {
        let cache = AuthCache::new(Duration::from_secs(60));
        assert!(cache.get(&[1; 32]).is_none());
        cache.put([1; 32], &caller());
        assert_eq!(cache.get(&[1; 32]).map(|c| c.key_id), Some("k".to_string()));
        assert!(cache.get(&[2; 32]).is_none());
        cache.clear();
        assert!(cache.get(&[1; 32]).is_none());
    }

    #[test]
    fn zero_ttl_disables_the_cache() {
        let cache = AuthCache::new(Duration::ZERO);
        cache.put([1; 32], &caller());
        assert!(cache.get(&[1; 32]).is_none());
    }
}
