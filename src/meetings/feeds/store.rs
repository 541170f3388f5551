//! Calendar feeds in the database: made and revoked by their owner (the API key that made them,
//! audited), listed without their tokens, and found by token for the public feed URL, which reads
//! with the owner key's scope while both the feed and the key are current.

use diesel::prelude::*;

use super::model::*;
use crate::access::{Actor, Caller, Scope};
use crate::api_keys::model::ApiKey;
use crate::audit;
use crate::db::schema::{api_keys as k, calendar_feeds as cf};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::http::pagination::PageRequest;

/// Makes a feed for `owner` (an API key id) with checked filters; returns it and its token.
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    owner: &str,
    filters: FeedFilters,
) -> Result<(CalendarFeed, String), ApiError> {
    let (token, hash) = generate_token();
    let feed = CalendarFeed { id: db::new_id(), filters, created_at: db::now().and_utc() };
    diesel::insert_into(cf::table)
        .values((feed.clone(), cf::api_key_id.eq(owner), cf::token_hash.eq(&hash)))
        .execute(conn)?;
    audit::record(conn, actor, "create", "calendar_feed", &feed.id, audit::diff(None::<&CalendarFeed>, Some(&feed)))?;
    Ok((feed, token))
}

/// `owner`'s current feeds, newest first.
pub fn list(conn: &mut DbConn, owner: &str, page: &PageRequest) -> Result<Vec<CalendarFeed>, ApiError> {
    let mut q = cf::table.filter(cf::api_key_id.eq(owner.to_string())).filter(cf::revoked_at.is_null()).into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(cf::id.lt(after[0].clone()));
    }
    Ok(q.order(cf::id.desc()).limit(page.limit + 1).select(CalendarFeed::as_select()).load(conn)?)
}

/// One of `owner`'s current feeds (anyone else's, or a revoked one, is "not found").
pub fn get(conn: &mut DbConn, owner: &str, id: &str) -> Result<CalendarFeed, ApiError> {
    let found: Option<CalendarFeed> = cf::table
        .find(id)
        .filter(cf::api_key_id.eq(owner))
        .filter(cf::revoked_at.is_null())
        .select(CalendarFeed::as_select())
        .first(conn)
        .optional()?;
    found.ok_or_else(feed_not_found)
}

/// Revokes one of `owner`'s feeds: its URL answers 404 from now on.
pub fn revoke(conn: &mut DbConn, actor: &Actor, owner: &str, id: &str) -> Result<(), ApiError> {
    let feed = get(conn, owner, id)?;
    diesel::update(cf::table.find(id).filter(cf::revoked_at.is_null()))
        .set(cf::revoked_at.eq(Some(db::now())))
        .execute(conn)?;
    let diff = audit::diff(Some(&feed), None::<&CalendarFeed>);
    audit::record(conn, actor, "revoke", "calendar_feed", id, diff)?;
    Ok(())
}

/// The filters and read scope of the current feed whose token this is, while the key that made
/// it is current too; `None` otherwise.
pub fn by_token(conn: &mut DbConn, token: &str) -> Result<Option<(FeedFilters, Scope)>, ApiError> {
    let found: Option<(FeedFilters, ApiKey)> = cf::table
        .inner_join(k::table)
        .filter(cf::token_hash.eq(token_hash(token)))
        .filter(cf::revoked_at.is_null())
        .filter(k::revoked_at.is_null())
        .select((cf::filters, ApiKey::as_select()))
        .first(conn)
        .optional()?;
    Ok(found.map(|(filters, key)| {
        let owner = Caller { key_id: key.id, name: key.name, role: key.role, partner_id: key.partner_id };
        (filters, owner.read_scope())
    }))
}
