use diesel::prelude::*;
use subtle::ConstantTimeEq;

use super::model::{self, ApiKey, ApiKeyCreate, ApiKeyCreated};
use crate::access::Actor;
use crate::access::Caller;
use crate::access::Role;
use crate::audit;
use crate::db::schema::{api_keys as k, partners};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::http::pagination::PageRequest;

type Row =
    (String, String, String, Option<String>, String, String, chrono::NaiveDateTime, Option<chrono::NaiveDateTime>);

fn columns() -> (k::id, k::name, k::role, k::partner_id, k::prefix, k::secret_hash, k::created_at, k::revoked_at) {
    (k::id, k::name, k::role, k::partner_id, k::prefix, k::secret_hash, k::created_at, k::revoked_at)
}

fn to_model(row: Row) -> Result<ApiKey, ApiError> {
    let (id, name, role, partner_id, prefix, _hash, created_at, revoked_at) = row;
    Ok(ApiKey {
        id,
        name,
        role: Role::from_db(&role)?,
        partner_id,
        prefix,
        created_at: created_at.and_utc(),
        revoked_at: revoked_at.map(|t| t.and_utc()),
    })
}

/// The caller behind a bearer token, or `None` for an unknown, malformed or revoked key.
pub fn authenticate(conn: &mut DbConn, token: &str) -> Result<Option<Caller>, ApiError> {
    let Some((prefix, secret)) = model::split_token(token) else { return Ok(None) };
    let row: Option<Row> = k::table.filter(k::prefix.eq(prefix)).select(columns()).first(conn).optional()?;
    let Some(row) = row else { return Ok(None) };
    let presented = model::hash_secret(secret);
    if !bool::from(presented.as_bytes().ct_eq(row.5.as_bytes())) || row.7.is_some() {
        return Ok(None);
    }
    let key = to_model(row)?;
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
    diesel::insert_into(k::table)
        .values((
            k::id.eq(&key.id),
            k::name.eq(&key.name),
            k::role.eq(key.role.as_str()),
            k::partner_id.eq(&key.partner_id),
            k::prefix.eq(&generated.prefix),
            k::secret_hash.eq(&generated.secret_hash),
            k::created_at.eq(now),
        ))
        .execute(conn)?;
    audit::record(conn, actor, "create", "api_key", &key.id, audit::diff(None::<&ApiKey>, Some(&key)))?;
    Ok(ApiKeyCreated { key, secret: generated.token })
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<ApiKey, ApiError> {
    let row: Option<Row> = k::table.find(id).select(columns()).first(conn).optional()?;
    to_model(row.ok_or_else(|| ApiError::not_found(Code::ApiKeyNotFound))?)
}

/// Newest first.
pub fn list(conn: &mut DbConn, page: &PageRequest) -> Result<Vec<ApiKey>, ApiError> {
    let mut q = k::table.into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(k::id.lt(after[0].clone()));
    }
    let rows: Vec<Row> = q.order(k::id.desc()).limit(page.limit + 1).select(columns()).load(conn)?;
    rows.into_iter().map(to_model).collect()
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
