//! The missed-target scan: a periodic job that judges each agreed target once its period has
//! ended (plus a grace of [`GRACE_DAYS`] for the last month's figures to arrive) and announces
//! `target.missed` when the actual is below the target. Exactly once, also with several replicas:
//! the announcement goes through `events::emit_once` keyed by the target, and the judgement is
//! recorded on the target (`settled_at`, `missed`) in the same transaction.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::events::TargetEvent;
use super::store;
use crate::access::Scope;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::events::{self, DomainEvent};
use crate::jobs::Job;
use crate::performance::period::Month;

/// Days after a period's end before it is judged: late figures of the last month still count.
pub const GRACE_DAYS: i64 = 7;
/// Targets judged per run; the rest wait for the next.
const BATCH: i64 = 500;

pub const JOB: Job = Job { name: "target_missed_scan", every: Duration::from_secs(3600), run };

/// One scan at `now`: returns how many targets it announced as missed.
pub fn run(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    // A period is judged once its last month is before the month `GRACE_DAYS` ago (China time).
    let Some(cutoff) = Month::of(now - chrono::Duration::days(GRACE_DAYS)) else { return Ok(0) };
    let mut announced = 0;
    for target in store::unsettled(conn, &cutoff.to_string(), BATCH)? {
        let id = target.id.clone();
        let missed = !store::view(conn, target)?.reached();
        store::settle(conn, &id, missed)?;
        if !missed {
            continue;
        }
        // Read back after settling, so the event shows the target as judged.
        let view = store::get(conn, &id, &Scope::All)?;
        let partner_name = store::partner_of(conn, &view.target)?;
        let event = DomainEvent::TargetMissed(TargetEvent { target: view, partner_name });
        if events::emit_once(conn, &format!("target.missed:{id}"), &event)?.is_some() {
            announced += 1;
        }
    }
    Ok(announced)
}
