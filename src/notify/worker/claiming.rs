//! Claiming: of the due deliveries, the oldest pending one of each target, leased to this sender
//! so that no other replica sends it meanwhile. A target that is disabled or at its robot's
//! per-minute limit is looked at again later; one that was deleted has its delivery cancelled.

use chrono::NaiveDateTime;
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::{bot_channels as bc, bot_send_log as sl, deliveries as d, webhooks as wh};
use crate::db::{self, json as dbjson, DbConn};
use crate::error::ApiError;
use crate::notify::channels::store::ChannelRow;
use crate::notify::deliveries::model::{DeliveryStatus, TargetKind};
use crate::notify::deliveries::store::DeliveryRow;
use crate::notify::send::Destination;
use crate::notify::webhooks::store::WebhookRow;
use crate::secrets::Sealer;

diesel::alias!(crate::db::schema::deliveries as earlier: EarlierDeliveries);

/// The rate window.
const RATE_WINDOW_SECS: i64 = 60;

/// A claimed delivery, ready to send.
pub struct Claimed {
    pub id: String,
    pub lease_token: String,
    pub destination: Destination,
    pub body: Value,
}

/// Claims up to `limit` due deliveries, each the oldest pending one of its target.
pub fn claim(
    conn: &mut DbConn,
    now: NaiveDateTime,
    rate: i64,
    lease_secs: i64,
    limit: i64,
    sealer: Option<&Sealer>,
) -> Result<Vec<Claimed>, ApiError> {
    let heads = due_heads(conn, now, limit)?;
    if heads.is_empty() {
        return Ok(Vec::new());
    }
    let window_start = now - chrono::Duration::seconds(RATE_WINDOW_SECS);
    diesel::delete(sl::table.filter(sl::sent_at.le(window_start))).execute(conn)?;
    let mut claimed = Vec::new();
    for id in lock_claimable(conn, heads, now)? {
        let row: DeliveryRow = d::table.find(&id).select(DeliveryRow::as_select()).first(conn)?;
        let Some(destination) = destination(conn, &row, now, rate, sealer)? else { continue };
        let bodies: Vec<Value> = dbjson::decode(&row.body)?;
        let Some(body) = bodies.get(row.parts_sent as usize).cloned() else {
            // Every part went out (a crash between the last send and its record): done.
            diesel::update(d::table.find(&id))
                .set((d::status.eq(DeliveryStatus::Sent.as_str()), d::sent_at.eq(Some(now)), d::updated_at.eq(now)))
                .execute(conn)?;
            continue;
        };
        let lease_token = lease(conn, &row, now, lease_secs)?;
        if let Destination::Robot { .. } = destination {
            diesel::insert_into(sl::table)
                .values((sl::id.eq(db::new_id()), sl::target_id.eq(&row.target_id), sl::sent_at.eq(now)))
                .execute(conn)?;
        }
        claimed.push(Claimed { id, lease_token, destination, body });
    }
    Ok(claimed)
}

/// Due, unleased pending deliveries with no earlier (`seq`) pending delivery to their target:
/// one message per target is in flight, and a retry holds back the ones after it.
fn due_heads(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> Result<Vec<String>, ApiError> {
    let pending = DeliveryStatus::Pending.as_str();
    Ok(d::table
        .filter(d::status.eq(pending))
        .filter(d::next_attempt_at.le(now))
        .filter(d::lease_until.is_null().or(d::lease_until.lt(now)))
        .filter(not(exists(
            earlier
                .filter(earlier.field(d::target_id).eq(d::target_id))
                .filter(earlier.field(d::status).eq(pending))
                .filter(earlier.field(d::seq).lt(d::seq)),
        )))
        .order(d::seq.asc())
        .limit(limit)
        .select(d::id)
        .load(conn)?)
}

/// Of `ids`, those this transaction now holds: Postgres locks them with `FOR UPDATE SKIP
/// LOCKED` and re-checks that they are still pending, due and unleased (another replica may
/// have claimed one since they were read); SQLite's writer turn already excludes everyone else.
fn lock_claimable(conn: &mut DbConn, ids: Vec<String>, now: NaiveDateTime) -> Result<Vec<String>, ApiError> {
    match conn {
        DbConn::Pg(pg) => Ok(d::table
            .filter(d::id.eq_any(ids))
            .filter(d::status.eq(DeliveryStatus::Pending.as_str()))
            .filter(d::next_attempt_at.le(now))
            .filter(d::lease_until.is_null().or(d::lease_until.lt(now)))
            .select(d::id)
            .for_update()
            .skip_locked()
            .load(pg)?),
        DbConn::Sqlite(_) => Ok(ids),
    }
}

/// Where `row` goes now, or `None` when it cannot go yet (postponed) or ever (cancelled).
fn destination(
    conn: &mut DbConn,
    row: &DeliveryRow,
    now: NaiveDateTime,
    rate: i64,
    sealer: Option<&Sealer>,
) -> Result<Option<Destination>, ApiError> {
    // Credentials are opened only for a message that goes now; without a key none can.
    let sealer = || sealer.ok_or_else(|| ApiError::internal("CHANNELDESK_SECRET_KEY is not set: cannot send"));
    let a_minute_later = now + chrono::Duration::seconds(RATE_WINDOW_SECS);
    match TargetKind::from_db(&row.target_kind)? {
        TargetKind::BotChannel => {
            let ch: Option<ChannelRow> =
                bc::table.find(&row.target_id).select(ChannelRow::as_select()).first(conn).optional()?;
            let Some(ch) = ch else {
                cancel(conn, &row.id, "the bot channel was deleted", now)?;
                return Ok(None);
            };
            if !ch.enabled {
                // A disabled channel keeps its queue; look again in a minute.
                postpone(conn, &row.id, a_minute_later)?;
                return Ok(None);
            }
            if let Some(frees_at) = robot_busy_until(conn, &ch.id, now, rate)? {
                postpone(conn, &row.id, frees_at)?;
                return Ok(None);
            }
            let ch = ch.open(sealer()?)?;
            let platform = ch.platform()?;
            Ok(Some(Destination::Robot { platform, webhook_url: ch.webhook_url, secret: ch.secret }))
        }
        TargetKind::Webhook => {
            let hook: Option<WebhookRow> =
                wh::table.find(&row.target_id).select(WebhookRow::as_select()).first(conn).optional()?;
            let Some(hook) = hook else {
                cancel(conn, &row.id, "the webhook was deleted", now)?;
                return Ok(None);
            };
            if !hook.enabled {
                postpone(conn, &row.id, a_minute_later)?;
                return Ok(None);
            }
            let hook = hook.open(sealer()?)?;
            Ok(Some(Destination::Webhook { url: hook.url, secret: hook.secret }))
        }
    }
}

/// When a robot at its limit (`rate` messages in the last minute) may take the next one: once the
/// oldest message in the window ages out. `None` when it has room now.
fn robot_busy_until(
    conn: &mut DbConn,
    channel_id: &str,
    now: NaiveDateTime,
    rate: i64,
) -> Result<Option<NaiveDateTime>, ApiError> {
    let window = chrono::Duration::seconds(RATE_WINDOW_SECS);
    let recent: Vec<NaiveDateTime> = sl::table
        .filter(sl::target_id.eq(channel_id).and(sl::sent_at.gt(now - window)))
        .order(sl::sent_at.asc())
        .select(sl::sent_at)
        .load(conn)?;
    if (recent.len() as i64) < rate {
        return Ok(None);
    }
    let frees_at = recent[recent.len() - rate as usize] + window;
    Ok(Some(frees_at.max(now + chrono::Duration::milliseconds(1))))
}

/// Leases the delivery to this sender (counting the attempt, and starting the retry window at
/// the first one); returns the lease token.
fn lease(conn: &mut DbConn, row: &DeliveryRow, now: NaiveDateTime, lease_secs: i64) -> Result<String, ApiError> {
    let token = db::new_id();
    diesel::update(d::table.find(&row.id))
        .set((
            d::first_attempt_at.eq(row.first_attempt_at.unwrap_or(now)),
            d::lease_until.eq(Some(now + chrono::Duration::seconds(lease_secs))),
            d::lease_token.eq(Some(&token)),
            d::attempts.eq(d::attempts + 1),
            d::last_attempt_at.eq(Some(now)),
            d::version.eq(d::version + 1),
            d::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

fn postpone(conn: &mut DbConn, id: &str, until: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(d::table.find(id)).set(d::next_attempt_at.eq(until)).execute(conn)?;
    Ok(())
}

fn cancel(conn: &mut DbConn, id: &str, why: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(d::table.find(id))
        .set((
            d::status.eq(DeliveryStatus::Cancelled.as_str()),
            d::last_error.eq(why),
            d::version.eq(d::version + 1),
            d::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
