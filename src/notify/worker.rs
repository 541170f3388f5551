//! The delivery worker that `serve` runs: a fan-out that turns each new outbox event into one
//! delivery per matching bot channel and webhook, and a sender that claims due deliveries and
//! sends them.
//!
//! - Exactly-once fan-out with any number of replicas: the fan-out holds the `notify_state` row
//!   (`FOR UPDATE` on Postgres, the writer's turn on SQLite), takes the oldest events still in the
//!   outbox's pending list (`events::pending`) and removes them from it (`events::mark_handled`)
//!   in the same transaction as their deliveries, and `(event_id, target_id)` is unique. An event
//!   whose transaction commits late (Postgres: after a newer id) is pending until then and is found
//!   then; each round costs what its batch costs, however large the outbox grows.
//! - In order per target: a delivery is claimable only when no earlier (`seq`) delivery of its
//!   target is still pending, so one message per target is in flight and a retry holds back the
//!   ones after it.
//! - At-least-once and crash-safe: claiming sets a lease (and counts the attempt); the outcome is
//!   recorded only by the lease holder; a lease that runs out (the sender died mid-send) makes the
//!   delivery claimable again. Postgres claims with `FOR UPDATE SKIP LOCKED`, re-checking the lease
//!   under the lock, so two replicas never hold the same delivery.
//! - Per-robot rate: every message sent to a robot is logged; a robot with `bot_rate_per_minute`
//!   messages in the last minute waits (its queue is kept, never dropped).
//! - The clock is injectable (`Worker::with_clock`) so tests move time instead of sleeping.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use rand::Rng;
use serde_json::{json, Value};

use super::model::{DeliveryStatus, TargetKind};
use super::render;
use super::route;
use super::send::{self, Attempt, Destination, Outcome};
use super::store::{ChannelRow, DeliveryRow, SubscriptionRow, WebhookRow};
use crate::config::NotifyConfig;
use crate::db::schema::{
    bot_channels as bc, bot_send_log as sl, bot_subscriptions as bs, deliveries as d, notify_state as ns,
    webhooks as wh,
};
use crate::db::{self, json as dbjson, Db, DbConn};
use crate::error::ApiError;
use crate::events::{self, Event};
use crate::platforms::format::{self, Message};

diesel::alias!(crate::db::schema::deliveries as earlier: EarlierDeliveries);

/// Events fanned out per transaction.
const FANOUT_BATCH: i64 = 200;
/// Deliveries claimed (and sent concurrently, one per target) per round.
const SEND_BATCH: i64 = 32;
/// A lease outlives the request timeout by this much.
const LEASE_MARGIN_SECS: i64 = 30;
/// The longest wait between retries.
const MAX_BACKOFF_MS: u64 = 3_600_000;
/// The rate window.
const RATE_WINDOW_SECS: i64 = 60;

pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

#[derive(Clone)]
pub struct Worker {
    db: Db,
    config: NotifyConfig,
    client: reqwest::Client,
    clock: Clock,
}

/// A claimed delivery, ready to send.
pub struct Claimed {
    pub id: String,
    pub lease_token: String,
    pub destination: Destination,
    pub body: Value,
}

fn stored(t: DateTime<Utc>) -> NaiveDateTime {
    db::stored_precision(t).naive_utc()
}

impl Worker {
    pub fn new(db: Db, config: NotifyConfig) -> Result<Self, String> {
        let client = send::client(config.delivery_timeout_ms)?;
        Ok(Self { db, config, client, clock: Arc::new(Utc::now) })
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Fans out the next batch of events; returns how many events it handled.
    pub async fn fan_out(&self) -> Result<usize, ApiError> {
        let now = stored(self.now());
        let base_url = self.config.public_base_url.clone();
        self.db.write(move |conn| fan_out(conn, now, base_url.as_deref())).await
    }

    /// Claims due deliveries, sends them (concurrently, one per target) and records each outcome;
    /// returns how many were attempted.
    pub async fn send_due(&self) -> Result<usize, ApiError> {
        let now = self.now();
        let (rate, lease) = (self.config.bot_rate_per_minute, lease_secs(&self.config));
        let claimed = self.db.write(move |conn| claim(conn, stored(now), rate, lease, SEND_BATCH)).await?;
        let timeout = self.config.delivery_timeout_ms;
        let attempts = futures_util::future::join_all(
            claimed.iter().map(|c| send::send(&self.client, &c.destination, &c.body, now, timeout)),
        )
        .await;
        let n = claimed.len();
        for (c, attempt) in claimed.into_iter().zip(attempts) {
            let done = self.now();
            let (max, backoff) = (self.config.delivery_max_attempts, self.config.delivery_backoff_ms);
            self.db
                .write(move |conn| record(conn, &c.id, &c.lease_token, stored(done), &attempt, max, backoff))
                .await?;
        }
        Ok(n)
    }

    /// One round of both.
    pub async fn run_once(&self) -> Result<(usize, usize), ApiError> {
        let fanned = self.fan_out().await?;
        let sent = self.send_due().await?;
        Ok((fanned, sent))
    }

    /// Runs forever on the current actix runtime (stops with it).
    pub fn spawn(self) {
        actix_web::rt::spawn(async move {
            loop {
                let pause = match self.run_once().await {
                    Ok((0, 0)) => Duration::from_millis(500),
                    Ok((fanned, sent)) => {
                        tracing::debug!(fanned, sent, "delivery worker round");
                        Duration::from_millis(20)
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "delivery worker round failed");
                        Duration::from_secs(2)
                    }
                };
                tokio::time::sleep(pause).await;
            }
        });
    }
}

fn lease_secs(config: &NotifyConfig) -> i64 {
    (config.delivery_timeout_ms / 1000) as i64 + 1 + LEASE_MARGIN_SECS
}

/// Starts the worker for `serve`.
pub fn spawn(db: Db, config: &NotifyConfig) -> Result<(), String> {
    Worker::new(db, config.clone())?.spawn();
    Ok(())
}

// ---- fan-out ----

/// The fan-out's state row, held until the transaction ends (Postgres: `FOR UPDATE`; SQLite:
/// the transaction already runs in the single writer's turn); returns the next delivery sequence.
fn lock_state(conn: &mut DbConn) -> Result<i64, ApiError> {
    let q = ns::table.find("fanout").select(ns::next_seq);
    let next_seq = match conn {
        DbConn::Pg(pg) => q.for_update().first::<i64>(pg)?,
        DbConn::Sqlite(_) => q.first::<i64>(conn)?,
    };
    Ok(next_seq)
}

/// The webhook body: `{id, type, occurred_at, data}`.
pub fn webhook_body(event: &Event) -> Value {
    json!({
        "id": event.id,
        "type": event.event_type,
        "occurred_at": event.occurred_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": event.payload,
    })
}

fn insert_delivery(
    conn: &mut DbConn,
    seq: i64,
    event: &Event,
    kind: TargetKind,
    target_id: &str,
    bodies: &[Value],
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let row = DeliveryRow {
        id: db::new_id(),
        seq,
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        target_kind: kind.as_str().into(),
        target_id: target_id.into(),
        status: DeliveryStatus::Pending.as_str().into(),
        attempts: 0,
        parts_total: bodies.len() as i32,
        parts_sent: 0,
        body: dbjson::encode(bodies),
        next_attempt_at: now,
        lease_until: None,
        lease_token: None,
        last_attempt_at: None,
        last_error: None,
        last_http_status: None,
        last_errcode: None,
        sent_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(d::table).values(&row).execute(conn)?;
    Ok(())
}

/// A renderer that fails (say, on a payload of an unexpected shape) must not stop delivery: for
/// an unbound channel the generic renderer takes over; a channel bound to a partner gets only the
/// headline and the link, since the generic renderer shows the whole payload.
fn render_event(conn: &mut DbConn, event: &Event, viewer: Option<&str>) -> Result<Message, ApiError> {
    match render::render(conn, event, viewer) {
        Ok(m) => Ok(m),
        Err(err) => {
            tracing::warn!(event_id = %event.id, event_type = %event.event_type, error = %err, "renderer failed; using the generic one");
            match viewer {
                None => render::generic(event, &mut render::RenderContext { conn, viewer }),
                Some(_) => Ok(render::minimal(event)),
            }
        }
    }
}

/// Fans out up to `FANOUT_BATCH` events; returns how many.
pub fn fan_out(conn: &mut DbConn, now: NaiveDateTime, base_url: Option<&str>) -> Result<usize, ApiError> {
    let mut next_seq = lock_state(conn)?;
    let events = events::pending(conn, FANOUT_BATCH)?;
    if !events.is_empty() {
        let channels: Vec<ChannelRow> =
            bc::table.filter(bc::enabled.eq(true)).order(bc::id.asc()).select(ChannelRow::as_select()).load(conn)?;
        let subs: Vec<SubscriptionRow> = bs::table
            .filter(bs::channel_id.eq_any(channels.iter().map(|c| c.id.clone()).collect::<Vec<_>>()))
            .order(bs::id.asc())
            .select(SubscriptionRow::as_select())
            .load(conn)?;
        let mut routed = Vec::new();
        for ch in channels {
            let filters = subs
                .iter()
                .filter(|s| s.channel_id == ch.id)
                .map(SubscriptionRow::filters)
                .collect::<Result<Vec<_>, _>>()?;
            if !filters.is_empty() {
                routed.push((ch.platform()?, ch, filters));
            }
        }
        let hooks: Vec<(WebhookRow, Vec<String>)> = wh::table
            .filter(wh::enabled.eq(true))
            .order(wh::id.asc())
            .select(WebhookRow::as_select())
            .load::<WebhookRow>(conn)?
            .into_iter()
            .map(|w| w.event_types().map(|t| (w, t)))
            .collect::<Result<_, _>>()?;
        // With nobody listening the batch is only marked handled: a channel or webhook added later
        // starts with the events after it.
        let listening = !routed.is_empty() || !hooks.is_empty();
        for event in events.iter().filter(|_| listening) {
            let facts = route::facts(conn, event)?;
            // Rendered once per reader: unbound channels share one message, each bound partner
            // gets its own view.
            let mut messages: Vec<(Option<String>, Message)> = Vec::new();
            for (platform, ch, filters) in &routed {
                if ch.partner_id.as_deref().is_some_and(|pid| !facts.visible_to_partner(pid)) {
                    continue;
                }
                if !filters.iter().any(|f| f.matches(&event.event_type, &facts)) {
                    continue;
                }
                if !messages.iter().any(|(viewer, _)| *viewer == ch.partner_id) {
                    let msg = render_event(conn, event, ch.partner_id.as_deref())?;
                    messages.push((ch.partner_id.clone(), msg));
                }
                let Some((_, msg)) = messages.iter().find(|(viewer, _)| *viewer == ch.partner_id) else { continue };
                let style = format::Style { keyword: ch.keyword.clone(), base_url: base_url.map(str::to_string) };
                let bodies = format::push_bodies(*platform, msg, &style);
                insert_delivery(conn, next_seq, event, TargetKind::BotChannel, &ch.id, &bodies, now)?;
                next_seq += 1;
            }
            for (hook, types) in &hooks {
                if types.iter().any(|t| super::model::type_matches(t, &event.event_type)) {
                    insert_delivery(conn, next_seq, event, TargetKind::Webhook, &hook.id, &[webhook_body(event)], now)?;
                    next_seq += 1;
                }
            }
        }
        events::mark_handled(conn, &events.iter().map(|e| e.id.clone()).collect::<Vec<_>>())?;
        diesel::update(ns::table.find("fanout")).set(ns::next_seq.eq(next_seq)).execute(conn)?;
    }
    // An idle round wrote nothing (on SQLite every write takes the single writer's turn).
    Ok(events.len())
}

// ---- claiming ----

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

/// Claims up to `limit` due deliveries, each the oldest pending one of its target.
pub fn claim(
    conn: &mut DbConn,
    now: NaiveDateTime,
    rate: i64,
    lease_secs: i64,
    limit: i64,
) -> Result<Vec<Claimed>, ApiError> {
    let pending = DeliveryStatus::Pending.as_str();
    let heads: Vec<String> = d::table
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
        .load(conn)?;
    if heads.is_empty() {
        return Ok(Vec::new());
    }
    let window_start = now - chrono::Duration::seconds(RATE_WINDOW_SECS);
    diesel::delete(sl::table.filter(sl::sent_at.le(window_start))).execute(conn)?;
    let mut claimed = Vec::new();
    for id in lock_claimable(conn, heads, now)? {
        let row: DeliveryRow = d::table.find(&id).select(DeliveryRow::as_select()).first(conn)?;
        let destination = match TargetKind::from_db(&row.target_kind)? {
            TargetKind::BotChannel => {
                let ch: Option<ChannelRow> =
                    bc::table.find(&row.target_id).select(ChannelRow::as_select()).first(conn).optional()?;
                let Some(ch) = ch else {
                    cancel(conn, &id, "the bot channel was deleted", now)?;
                    continue;
                };
                if !ch.enabled {
                    // A disabled channel keeps its queue; look again in a minute.
                    postpone(conn, &id, now + chrono::Duration::seconds(RATE_WINDOW_SECS))?;
                    continue;
                }
                let recent: Vec<NaiveDateTime> = sl::table
                    .filter(sl::target_id.eq(&ch.id).and(sl::sent_at.gt(window_start)))
                    .order(sl::sent_at.asc())
                    .select(sl::sent_at)
                    .load(conn)?;
                if recent.len() as i64 >= rate {
                    // At the robot's limit: wait until the oldest message in the window ages out.
                    let frees_at = recent[recent.len() - rate as usize] + chrono::Duration::seconds(RATE_WINDOW_SECS);
                    postpone(conn, &id, frees_at.max(now + chrono::Duration::milliseconds(1)))?;
                    continue;
                }
                Destination::Robot { platform: ch.platform()?, webhook_url: ch.webhook_url, secret: ch.secret }
            }
            TargetKind::Webhook => {
                let hook: Option<WebhookRow> =
                    wh::table.find(&row.target_id).select(WebhookRow::as_select()).first(conn).optional()?;
                let Some(hook) = hook else {
                    cancel(conn, &id, "the webhook was deleted", now)?;
                    continue;
                };
                if !hook.enabled {
                    postpone(conn, &id, now + chrono::Duration::seconds(RATE_WINDOW_SECS))?;
                    continue;
                }
                Destination::Webhook { url: hook.url, secret: hook.secret }
            }
        };
        let bodies: Vec<Value> = dbjson::decode(&row.body)?;
        let Some(body) = bodies.get(row.parts_sent as usize).cloned() else {
            // Every part went out (a crash between the last send and its record): done.
            diesel::update(d::table.find(&id))
                .set((d::status.eq(DeliveryStatus::Sent.as_str()), d::sent_at.eq(Some(now)), d::updated_at.eq(now)))
                .execute(conn)?;
            continue;
        };
        let token = db::new_id();
        diesel::update(d::table.find(&id))
            .set((
                d::lease_until.eq(Some(now + chrono::Duration::seconds(lease_secs))),
                d::lease_token.eq(Some(&token)),
                d::attempts.eq(d::attempts + 1),
                d::last_attempt_at.eq(Some(now)),
                d::version.eq(d::version + 1),
                d::updated_at.eq(now),
            ))
            .execute(conn)?;
        if let Destination::Robot { .. } = destination {
            diesel::insert_into(sl::table)
                .values((sl::id.eq(db::new_id()), sl::target_id.eq(&row.target_id), sl::sent_at.eq(now)))
                .execute(conn)?;
        }
        claimed.push(Claimed { id, lease_token: token, destination, body });
    }
    Ok(claimed)
}

/// The wait before retry number `failures` (1-based): base · 2^(failures−1), capped, with
/// "equal jitter" (half fixed, half random) so retries of many deliveries spread out.
pub fn backoff_ms(base_ms: u64, failures: i32) -> u64 {
    let exp = failures.clamp(1, 40) as u32 - 1;
    let full = base_ms.saturating_mul(1u64 << exp.min(32)).clamp(1, MAX_BACKOFF_MS);
    let half = full / 2;
    (half + rand::thread_rng().gen_range(0..=full - half)).max(1)
}

/// Records the outcome of an attempt, if `token` still holds the lease; returns whether it did.
pub fn record(
    conn: &mut DbConn,
    id: &str,
    token: &str,
    now: NaiveDateTime,
    attempt: &Attempt,
    max_attempts: i32,
    backoff_base_ms: u64,
) -> Result<bool, ApiError> {
    let row: Option<DeliveryRow> = d::table
        .filter(d::id.eq(id).and(d::lease_token.eq(token)))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else {
        tracing::warn!(delivery_id = %id, "lease lost before the outcome was recorded");
        return Ok(false);
    };
    let mut status = DeliveryStatus::Pending;
    let mut parts_sent = row.parts_sent;
    let mut next = now;
    let mut sent_at = None;
    match attempt.outcome {
        Outcome::Delivered => {
            parts_sent += 1;
            if parts_sent >= row.parts_total {
                status = DeliveryStatus::Sent;
                sent_at = Some(now);
            }
        }
        Outcome::Retry => {
            // Attempts that did not deliver a part.
            let failures = row.attempts - parts_sent;
            if failures >= max_attempts {
                status = DeliveryStatus::Dead;
            } else {
                next = now + chrono::Duration::milliseconds(backoff_ms(backoff_base_ms, failures) as i64);
            }
        }
        Outcome::Permanent => status = DeliveryStatus::Failed,
    }
    diesel::update(d::table.filter(d::id.eq(id).and(d::lease_token.eq(token))))
        .set((
            d::status.eq(status.as_str()),
            d::parts_sent.eq(parts_sent),
            d::next_attempt_at.eq(next),
            d::lease_until.eq(None::<NaiveDateTime>),
            d::lease_token.eq(None::<String>),
            d::last_error.eq(attempt.error.as_ref().or(row.last_error.as_ref())),
            d::last_http_status.eq(attempt.http_status.map(i32::from)),
            d::last_errcode.eq(attempt.errcode),
            d::sent_at.eq(sent_at),
            d::version.eq(row.version + 1),
            d::updated_at.eq(now),
        ))
        .execute(conn)?;
    if status != DeliveryStatus::Pending && status != DeliveryStatus::Sent {
        tracing::warn!(delivery_id = %id, status = %status, error = attempt.error.as_deref().unwrap_or("-"), "delivery gave up");
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for failures in 1..=6 {
            let full = 1000u64 << (failures - 1);
            for _ in 0..50 {
                let b = backoff_ms(1000, failures);
                assert!(b >= full / 2 && b <= full, "{failures}: {b}");
            }
        }
        assert!(backoff_ms(1000, 40) <= MAX_BACKOFF_MS);
        assert!(backoff_ms(1, 1) >= 1);
    }

    #[test]
    fn webhook_bodies_have_the_documented_shape() {
        let e = Event {
            id: "e1".into(),
            event_type: "partner.created".into(),
            occurred_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap().naive_utc(),
            resource_type: "partner".into(),
            resource_id: "p1".into(),
            partner_id: Some("p1".into()),
            payload: json!({"partner": {"name": "A"}}),
        };
        assert_eq!(
            webhook_body(&e),
            json!({"id": "e1", "type": "partner.created", "occurred_at": "2023-11-14T22:13:20.000000Z", "data": {"partner": {"name": "A"}}})
        );
    }
}
