//! Recording an attempt's answer: a delivered part moves the delivery on (sent after its last
//! part), a retryable failure schedules the next try with exponential backoff, a permanent one
//! or an exhausted budget gives up. Only the lease holder's answer counts.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::Rng;

use crate::db::schema::deliveries as d;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::notify::deliveries::model::DeliveryStatus;
use crate::notify::deliveries::store::DeliveryRow;
use crate::notify::send::{Attempt, Outcome};

/// The longest wait between retries.
const MAX_BACKOFF_MS: u64 = 3_600_000;

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
}
