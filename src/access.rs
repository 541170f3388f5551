//! Who is calling and what they may see: the roles, the caller behind an API key, the scope of a
//! read, and the actor recorded on a change. Pure types: every layer above may use them, and
//! nothing here knows HTTP or SQL (the bearer extractor lives in `http::auth`).
//!
//! Fail-closed: a handler states what it allows. `require_*` admit staff roles only, so a partner
//! key gets 404 from every endpoint that does not opt in through `read_scope`. Internal data that
//! concerns no partner (competitor intelligence) says so with 403 instead (`require_internal_*`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{ApiError, Code};

crate::text_enum! {
    /// admin: everything, including keys. manager: read and write domain data. viewer: read.
    /// partner: bound to one partner, sees only its own records.
    Role { Admin => "admin", Manager => "manager", Viewer => "viewer", Partner => "partner" }
}

/// The API key behind a change (recorded in the audit trail).
#[derive(Debug, Clone)]
pub struct Actor {
    pub key_id: String,
    pub name: String,
}

impl Actor {
    /// Changes made by the service itself (background scans, the CLI).
    pub fn system(name: &str) -> Self {
        Self { key_id: "system".into(), name: name.into() }
    }
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

/// A verified API key.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: String,
    pub name: String,
    pub role: Role,
    /// Set for (and only for) partner keys.
    pub partner_id: Option<String>,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor { key_id: self.key_id.clone(), name: self.name.clone() }
    }

    fn deny(&self) -> ApiError {
        match self.role {
            // A partner key must not learn that staff-only endpoints or records exist.
            Role::Partner => ApiError::not_found(Code::NotFound),
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

    /// Internal data that concerns no partner (competitor intelligence): a partner key is told
    /// 403, not the fail-closed 404, because the endpoint is documented as staff-only and holds no
    /// partner's records whose existence could leak.
    fn internal_only(&self, what: &str) -> Result<(), ApiError> {
        if self.role == Role::Partner {
            return Err(ApiError::forbidden(format!("{what} is internal: partner keys may not see it")));
        }
        Ok(())
    }

    /// Read internal data (`what` names it in the 403): admin, manager, viewer.
    pub fn require_internal_read(&self, what: &str) -> Result<(), ApiError> {
        self.internal_only(what)?;
        self.require_staff_read()
    }

    /// Change internal data: admin, manager; partner keys 403.
    pub fn require_internal_write(&self, what: &str) -> Result<(), ApiError> {
        self.internal_only(what)?;
        self.require_staff_write()
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

    pub fn get(&self, digest: &[u8; 32]) -> Option<Caller> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(digest).filter(|(_, at)| at.elapsed() < self.ttl).map(|(caller, _)| caller.clone())
    }

    pub fn put(&self, digest: [u8; 32], caller: &Caller) {
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

    #[test]
    fn partner_keys_are_scoped_and_denied_as_not_found() {
        let partner = Caller { role: Role::Partner, partner_id: Some("p1".into()), ..caller() };
        assert_eq!(partner.read_scope(), Scope::Partner("p1".into()));
        assert_eq!(partner.require_staff_read().unwrap_err().status.as_u16(), 404);
        assert_eq!(caller().require_staff_write().unwrap_err().status.as_u16(), 403);
        assert!(Scope::All.allows("x") && !Scope::Partner("p1".into()).allows("p2"));
    }
}
