//! A bot channel's subscriptions in the database. Every query goes through the channel first, so
//! a subscription is found only under the channel it belongs to.

use diesel::prelude::*;

use super::model::*;
use crate::access::Actor;
use crate::audit;
use crate::db::schema::{bot_subscriptions as bs, partners};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::http::pagination::PageRequest;
use crate::notify::channels;

/// Every id in `ids` must name a partner (archived ones too: a filter may outlive a partner).
fn ensure_partners(conn: &mut DbConn, ids: &[String]) -> Result<(), ApiError> {
    for (i, id) in ids.iter().enumerate() {
        let n: i64 = partners::table.filter(partners::id.eq(id)).count().get_result(conn)?;
        if n == 0 {
            return Err(ApiError::field("partner_ids", format!("partner_ids[{i}]: no such partner: {id}")));
        }
    }
    Ok(())
}

pub fn create(conn: &mut DbConn, actor: &Actor, channel_id: &str, filters: &Filters) -> Result<Subscription, ApiError> {
    channels::store::row(conn, channel_id)?;
    ensure_partners(conn, &filters.partner_ids)?;
    let now = db::now().and_utc();
    let sub = Subscription {
        id: db::new_id(),
        channel_id: channel_id.into(),
        event_types: Vec::new(),
        partner_tiers: Vec::new(),
        regions: Vec::new(),
        partner_ids: Vec::new(),
        min_importance: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
    .with_filters(filters.clone());
    diesel::insert_into(bs::table).values(sub.clone()).execute(conn)?;
    audit::record(conn, actor, "create", "bot_subscription", &sub.id, audit::diff(None::<&Subscription>, Some(&sub)))?;
    Ok(sub)
}

pub fn get(conn: &mut DbConn, channel_id: &str, id: &str) -> Result<Subscription, ApiError> {
    channels::store::row(conn, channel_id)?;
    let sub: Option<Subscription> = bs::table
        .filter(bs::id.eq(id).and(bs::channel_id.eq(channel_id)))
        .select(Subscription::as_select())
        .first(conn)
        .optional()?;
    sub.ok_or_else(|| ApiError::not_found(Code::SubscriptionNotFound))
}

/// Every subscription of the enabled `channel_ids`, oldest first (the fan-out reads them all).
pub fn of_channels(conn: &mut DbConn, channel_ids: Vec<String>) -> Result<Vec<Subscription>, ApiError> {
    Ok(bs::table
        .filter(bs::channel_id.eq_any(channel_ids))
        .order(bs::id.asc())
        .select(Subscription::as_select())
        .load(conn)?)
}

/// In the order they were made.
pub fn list(conn: &mut DbConn, channel_id: &str, page: &PageRequest) -> Result<Vec<Subscription>, ApiError> {
    channels::store::row(conn, channel_id)?;
    let mut q = bs::table.filter(bs::channel_id.eq(channel_id.to_string())).into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(bs::id.gt(after[0].clone()));
    }
    Ok(q.order(bs::id.asc()).limit(page.limit + 1).select(Subscription::as_select()).load(conn)?)
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    channel_id: &str,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &SubscriptionUpdate,
) -> Result<Subscription, ApiError> {
    let current = get(conn, channel_id, id)?;
    let next_filters = patch.apply(&current.filters());
    next_filters.validate()?;
    let next_filters = next_filters.normalized();
    crate::http::etag::check(expected, current.version)?;
    ensure_partners(conn, &next_filters.partner_ids)?;
    let mut next = current.clone().with_filters(next_filters);
    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(current);
    }
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let n = diesel::update(bs::table.filter(bs::id.eq(id).and(bs::version.eq(current.version))))
        .set(next.clone())
        .execute(conn)?;
    if n != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, "update", "bot_subscription", id, changes)?;
    Ok(next)
}

pub fn delete(
    conn: &mut DbConn,
    actor: &Actor,
    channel_id: &str,
    id: &str,
    expected: &Option<Vec<i64>>,
) -> Result<(), ApiError> {
    let current = get(conn, channel_id, id)?;
    crate::http::etag::check(expected, current.version)?;
    diesel::delete(bs::table.filter(bs::id.eq(id))).execute(conn)?;
    audit::record(conn, actor, "delete", "bot_subscription", id, audit::diff(Some(&current), None::<&Subscription>))?;
    Ok(())
}
