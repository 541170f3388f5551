//! The fan-out: each new outbox event becomes one delivery per enabled bot channel whose
//! subscriptions and partner binding pass it, and one per webhook whose event types match, in the
//! transaction that removes the event from the outbox's pending list.

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::db::schema::{bot_channels as bc, deliveries as d, notify_state as ns, webhooks as wh};
use crate::db::{self, json as dbjson, DbConn};
use crate::error::ApiError;
use crate::events::{self, DomainEvent, Event};
use crate::notify::channels::store::ChannelRow;
use crate::notify::checks::type_matches;
use crate::notify::deliveries::model::{DeliveryStatus, TargetKind};
use crate::notify::deliveries::store::DeliveryRow;
use crate::notify::subscriptions::{self, model::Filters};
use crate::notify::webhooks::store::WebhookRow;
use crate::notify::{render, route};
use crate::platforms::format::{self, Message};
use crate::platforms::Platform;

/// Events fanned out per transaction.
const FANOUT_BATCH: i64 = 200;

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

/// Where one event may go: the enabled channels that have subscriptions, and the enabled webhooks.
struct Listeners {
    channels: Vec<(Platform, ChannelRow, Vec<Filters>)>,
    hooks: Vec<(WebhookRow, Vec<String>)>,
}

impl Listeners {
    fn load(conn: &mut DbConn) -> Result<Self, ApiError> {
        let rows: Vec<ChannelRow> =
            bc::table.filter(bc::enabled.eq(true)).order(bc::id.asc()).select(ChannelRow::as_select()).load(conn)?;
        let subs = subscriptions::store::of_channels(conn, rows.iter().map(|c| c.id.clone()).collect())?;
        let mut channels = Vec::new();
        for ch in rows {
            let filters: Vec<Filters> = subs.iter().filter(|s| s.channel_id == ch.id).map(|s| s.filters()).collect();
            if !filters.is_empty() {
                channels.push((ch.platform()?, ch, filters));
            }
        }
        let hooks = wh::table
            .filter(wh::enabled.eq(true))
            .order(wh::id.asc())
            .select(WebhookRow::as_select())
            .load::<WebhookRow>(conn)?
            .into_iter()
            .map(|w| w.event_types().map(|t| (w, t)))
            .collect::<Result<_, _>>()?;
        Ok(Self { channels, hooks })
    }

    fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.hooks.is_empty()
    }
}

/// Fans out up to `FANOUT_BATCH` events; returns how many.
pub fn fan_out(conn: &mut DbConn, now: chrono::NaiveDateTime, base_url: Option<&str>) -> Result<usize, ApiError> {
    let mut next_seq = lock_state(conn)?;
    let events = events::pending(conn, FANOUT_BATCH)?;
    if events.is_empty() {
        // An idle round wrote nothing (on SQLite every write takes the single writer's turn).
        return Ok(0);
    }
    let listeners = Listeners::load(conn)?;
    // With nobody listening the batch is only marked handled: a channel or webhook added later
    // starts with the events after it.
    if !listeners.is_empty() {
        let mut deliveries = Vec::new();
        for event in &events {
            next_seq = route_event(conn, &listeners, event, next_seq, now, base_url, &mut deliveries)?;
        }
        db::insert_many(conn, d::table, deliveries)?;
    }
    events::mark_handled(conn, &events.iter().map(|e| e.id.clone()).collect::<Vec<_>>())?;
    diesel::update(ns::table.find("fanout")).set(ns::next_seq.eq(next_seq)).execute(conn)?;
    Ok(events.len())
}

/// Adds `event`'s deliveries to `out`, numbered from `seq`; returns the next number. The batch's
/// deliveries are written together, with multi-row inserts.
fn route_event(
    conn: &mut DbConn,
    listeners: &Listeners,
    event: &Event,
    mut seq: i64,
    now: chrono::NaiveDateTime,
    base_url: Option<&str>,
    out: &mut Vec<DeliveryRow>,
) -> Result<i64, ApiError> {
    let facts = route::facts(conn, event)?;
    let failed_target = failed_target(event);
    // Rendered once per reader: unbound channels share one message, each bound partner gets its
    // own view.
    let mut messages: Vec<(Option<String>, Message)> = Vec::new();
    for (platform, ch, filters) in &listeners.channels {
        if failed_target.as_deref() == Some(ch.id.as_str()) {
            continue;
        }
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
        out.push(delivery(seq, event, TargetKind::BotChannel, &ch.id, &bodies, now));
        seq += 1;
    }
    for (hook, types) in &listeners.hooks {
        if failed_target.as_deref() != Some(hook.id.as_str())
            && types.iter().any(|t| type_matches(t, &event.event_type))
        {
            out.push(delivery(seq, event, TargetKind::Webhook, &hook.id, &[webhook_body(event)], now));
            seq += 1;
        }
    }
    Ok(seq)
}

/// The target a `delivery.dead` is about: it is not told about itself (it is the one that fails).
fn failed_target(event: &Event) -> Option<String> {
    if event.event_type != "delivery.dead" {
        return None;
    }
    match event.domain() {
        Ok(DomainEvent::DeliveryDead(dead)) => Some(dead.delivery.target_id),
        _ => None,
    }
}

/// A renderer that fails (say, on a payload of an unexpected shape) must not stop delivery: for
/// an unbound channel the generic renderer takes over; a channel bound to a partner gets only the
/// headline and the link, since the generic renderer shows the whole payload.
fn render_event(conn: &mut DbConn, event: &Event, viewer: Option<&str>) -> Result<Message, ApiError> {
    match render::render(conn, event, viewer) {
        Ok(m) => Ok(m),
        Err(err) => {
            tracing::warn!(event_id = %event.id, event_type = %event.event_type, error = %err, "renderer failed; using the generic one");
            render::fallback(event, &mut render::RenderContext { conn, viewer })
        }
    }
}

fn delivery(
    seq: i64,
    event: &Event,
    kind: TargetKind,
    target_id: &str,
    bodies: &[Value],
    now: chrono::NaiveDateTime,
) -> DeliveryRow {
    DeliveryRow {
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
        first_attempt_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
