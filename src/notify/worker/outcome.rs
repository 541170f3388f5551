//! Recording an attempt's answer: a delivered part moves the delivery on (sent after its last
//! part), a retryable failure schedules the next try with exponential backoff (at most 10
//! minutes apart), a permanent one gives up at once. Time decides when retrying stops, not a
//! count: a delivery failing for `CHANNELDESK_DELIVERY_RETRY_HOURS` after its first attempt is
//! dead, announced by a `delivery.dead` event, and its target's queue moves on. Only the lease
//! holder's answer counts.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::Rng;

use crate::config::NotifyConfig;
use crate::db::schema::{bot_channels as bc, deliveries as d, webhooks as wh};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::events::{self, DomainEvent};
use crate::notify::deliveries;
use crate::notify::deliveries::events::DeliveryDead;
use crate::notify::deliveries::model::{DeliveryStatus, TargetKind};
use crate::notify::deliveries::store::DeliveryRow;
use crate::notify::send::{Attempt, Outcome};

/// The longest wait between retries.
const MAX_BACKOFF_MS: u64 = 600_000;

/// The wait before retry number `failures` (1-based): base · 2^(failures−1), capped, with
/// "equal jitter" (half fixed, half random) so retries of many deliveries spread out.
pub fn backoff_ms(base_ms: u64, failures: i32) -> u64 {
    let exp = failures.clamp(1, 40) as u32 - 1;
    let full = base_ms.saturating_mul(1u64 << exp.min(32)).clamp(1, MAX_BACKOFF_MS);
    let half = full / 2;
    (half + rand::thread_rng().gen_range(0..=full - half)).max(1)
}

/// How long and how often a failing delivery is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The first retry's delay (`CHANNELDESK_DELIVERY_BACKOFF_MS`); each next one doubles.
    pub backoff_base_ms: u64,
    /// `CHANNELDESK_DELIVERY_RETRY_HOURS`: retried until this long after the first attempt.
    pub retry_hours: u32,
}

impl RetryPolicy {
    pub fn new(config: &NotifyConfig) -> Self {
        Self { backoff_base_ms: config.delivery_backoff_ms, retry_hours: config.delivery_retry_hours }
    }

    /// When a retryable failure at `now` is tried next, or `None` when the window is over. The
    /// last retry is at the window's end, so a delivery is dead only after an attempt at or
    /// after it failed too.
    fn next_attempt(&self, first_attempt: NaiveDateTime, failures: i32, now: NaiveDateTime) -> Option<NaiveDateTime> {
        let gives_up_at = first_attempt + chrono::Duration::hours(i64::from(self.retry_hours));
        if now >= gives_up_at {
            return None;
        }
        let wait = chrono::Duration::milliseconds(backoff_ms(self.backoff_base_ms, failures) as i64);
        Some((now + wait).min(gives_up_at))
    }
}

/// What an attempt makes of a delivery.
struct Next {
    status: DeliveryStatus,
    parts_sent: i32,
    next_attempt_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
}

fn next_state(row: &DeliveryRow, outcome: Outcome, now: NaiveDateTime, policy: &RetryPolicy) -> Next {
    let mut next =
        Next { status: DeliveryStatus::Pending, parts_sent: row.parts_sent, next_attempt_at: now, sent_at: None };
    match outcome {
        Outcome::Delivered => {
            next.parts_sent += 1;
            if next.parts_sent >= row.parts_total {
                next.status = DeliveryStatus::Sent;
                next.sent_at = Some(now);
            }
        }
        Outcome::Retry => {
            // Attempts that did not deliver a part set the backoff; the first attempt, the window.
            let failures = row.attempts - row.parts_sent;
            let first = row.first_attempt_at.or(row.last_attempt_at).unwrap_or(now);
            match policy.next_attempt(first, failures, now) {
                Some(at) => next.next_attempt_at = at,
                None => next.status = DeliveryStatus::Dead,
            }
        }
        Outcome::Permanent => next.status = DeliveryStatus::Failed,
    }
    next
}

/// Records the outcome of an attempt, if `token` still holds the lease; returns whether it did.
/// A delivery given up after its retry window emits `delivery.dead` in the same transaction.
pub fn record(
    conn: &mut DbConn,
    id: &str,
    token: &str,
    now: NaiveDateTime,
    attempt: &Attempt,
    policy: &RetryPolicy,
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
    let next = next_state(&row, attempt.outcome, now, policy);
    diesel::update(d::table.filter(d::id.eq(id).and(d::lease_token.eq(token))))
        .set((
            d::status.eq(next.status.as_str()),
            d::parts_sent.eq(next.parts_sent),
            d::next_attempt_at.eq(next.next_attempt_at),
            d::lease_until.eq(None::<NaiveDateTime>),
            d::lease_token.eq(None::<String>),
            d::last_error.eq(attempt.error.as_ref().or(row.last_error.as_ref())),
            d::last_http_status.eq(attempt.http_status.map(i32::from)),
            d::last_errcode.eq(attempt.errcode),
            d::sent_at.eq(next.sent_at),
            d::version.eq(row.version + 1),
            d::updated_at.eq(now),
        ))
        .execute(conn)?;
    if next.status != DeliveryStatus::Pending && next.status != DeliveryStatus::Sent {
        tracing::warn!(delivery_id = %id, status = %next.status, error = attempt.error.as_deref().unwrap_or("-"), "delivery gave up");
    }
    if next.status == DeliveryStatus::Dead {
        announce_dead(conn, id, policy)?;
    }
    Ok(true)
}

/// Emits `delivery.dead` for a delivery just given up, with the name of its target. Not for a
/// `delivery.dead` that could not be delivered itself: two broken robots would otherwise tell
/// each other about each other forever.
fn announce_dead(conn: &mut DbConn, id: &str, policy: &RetryPolicy) -> Result<(), ApiError> {
    let delivery = deliveries::store::row(conn, id)?.to_model()?;
    if delivery.event_type == "delivery.dead" {
        return Ok(());
    }
    let target_name: Option<String> = match delivery.target_kind {
        TargetKind::BotChannel => bc::table.find(&delivery.target_id).select(bc::name).first(conn).optional()?,
        TargetKind::Webhook => wh::table.find(&delivery.target_id).select(wh::name).first(conn).optional()?,
    };
    let dead = DeliveryDead { delivery, target_name, retry_hours: policy.retry_hours };
    events::emit(conn, &DomainEvent::DeliveryDead(dead))?;
    Ok(())
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
    fn retries_stop_only_when_the_window_is_over_and_the_last_one_is_at_its_end() {
        let policy = RetryPolicy { backoff_base_ms: 1000, retry_hours: 24 };
        let first = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap().naive_utc();
        let end = first + chrono::Duration::hours(24);
        // Many failures in: the wait is capped, and it goes on.
        let at = first + chrono::Duration::hours(3);
        let next = policy.next_attempt(first, 50, at).expect("still retrying");
        assert!(next > at && next <= at + chrono::Duration::minutes(10), "{next}");
        // Close to the end: the last try is at the end, not after it.
        let late = end - chrono::Duration::seconds(30);
        assert_eq!(policy.next_attempt(first, 50, late), Some(end));
        // At or after the end: dead.
        assert_eq!(policy.next_attempt(first, 50, end), None);
        assert_eq!(policy.next_attempt(first, 1, end + chrono::Duration::seconds(1)), None);
    }
}
