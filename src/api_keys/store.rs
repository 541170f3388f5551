//! API key rows: create (audited), list, revoke, and the constant-time check behind every request.

use diesel::prelude::*;
use subtle::ConstantTimeEq;

use super::model::{self, ApiKey, ApiKeyCreate, ApiKeyCreated};
use crate::access::Actor;
use crate::access::Caller;
use crate::audit;
use crate::db::schema::{api_keys as k, partners};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::http::pagination::PageRequest;

/// The caller behind a bearer token, or `None` for an unknown, malformed or revoked key.
pub fn authenticate(conn: &mut DbConn, token: &str) -> Result<Option<Caller>, ApiError> {
    let Some((prefix, secret)) = model::split_token(token) else { return Ok(None) };
    let row: Option<(ApiKey, String)> =
        k::table.filter(k::prefix.eq(prefix)).select((ApiKey::as_select(), k::secret_hash)).first(conn).optional()?;
    let Some((key, secret_hash)) = row else { return Ok(None) };
    let presented = model::hash_secret(secret);
    if !bool::from(presented.as_bytes().ct_eq(secret_hash.as_bytes())) || key.revoked_at.is_some() {
        return Ok(None);
    }
    Ok(Some(Caller { key_id: key.id, name: key.name, role: key.role, partner_id: key.partner_id }))
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: &ApiKeyCreate) -> Result<ApiKeyCreated, ApiError> {
    if let Some(pid) = &input.partner_id {
        let exists: i64 = partners::table
            .filter(partners::id.eq(pid).and(partners::archived_at.is_null()))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            return Err(ApiError::field("partner_id", "no such partner"));
        }
    }
    let generated = model::generate();
    let now = db::now();
    let key = ApiKey {
        id: db::new_id(),
        name: input.name.clone(),
        role: input.role,
        partner_id: input.partner_id.clone(),
        prefix: generated.prefix.clone(),
        created_at: now.and_utc(),
        revoked_at: None,
    };
    diesel::insert_into(k::table).values((key.clone(), k::secret_hash.eq(&generated.secret_hash))).execute(conn)?;
    audit::record(conn, actor, "create", "api_key", &key.id, audit::diff(None::<&ApiKey>, Some(&key)))?;
    Ok(ApiKeyCreated { key, secret: generated.token })
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<ApiKey, ApiError> {
    let key: Option<ApiKey> = k::table.find(id).select(ApiKey::as_select()).first(conn).optional()?;
    key.ok_or_else(|| ApiError::not_found(Code::ApiKeyNotFound))
}

/// Newest first.
pub fn list(conn: &mut DbConn, page: &PageRequest) -> Result<Vec<ApiKey>, ApiError> {
    let mut q = k::table.into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(k::id.lt(after[0].clone()));
    }
    Ok(q.order(k::id.desc()).limit(page.limit + 1).select(ApiKey::as_select()).load(conn)?)
}

/// Revokes a key; revoking twice keeps the first time.
pub fn revoke(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<ApiKey, ApiError> {
    let before = get(conn, id)?;
    if before.revoked_at.is_some() {
        return Ok(before);
    }
    let now = db::now();
    diesel::update(k::table.find(id)).set(k::revoked_at.eq(Some(now))).execute(conn)?;
    let after = ApiKey { revoked_at: Some(now.and_utc()), ..before.clone() };
    audit::record(conn, actor, "revoke", "api_key", id, audit::diff(Some(&before), Some(&after)))?;
    Ok(after)
}
