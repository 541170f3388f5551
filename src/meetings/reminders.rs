//! The reminder and overdue scan: a periodic job of `serve` that every replica runs.
//!
//! - `meeting.reminder`: for each scheduled meeting, once per lead time (default 24 h and 1 h
//!   before it starts). When several leads are due at once (the meeting was made or moved late,
//!   or the service was down), only the shortest is sent: a "24 h" reminder one hour before the
//!   meeting would mislead. The key holds the start time, so a meeting moved to another time is
//!   reminded again.
//! - `action_item.overdue`: once per item and due date, when an open item passes its due date
//!   (midnight ending that date in the meeting's timezone). Moving the due date and missing it
//!   again is announced again.
//!
//! Exactly-once comes from `events::emit_once` (the key is claimed in the same transaction as the
//! event), so two replicas scanning at the same moment cannot both emit.

use std::sync::RwLock;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::action_items::store as action_items;
use super::events::MeetingReminder;
use super::meetings::store as meetings;
use crate::config::Lead;
use crate::db::schema::{action_items as ai, event_keys as ek};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::events::{self, DomainEvent};
use crate::jobs::Job;

/// The lead whose reminder is due for a meeting starting at `starts_at`: the shortest lead that
/// has been reached, or none when the meeting is too far off or already started.
pub fn due_lead(leads: &[Lead], starts_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<Lead> {
    if starts_at <= now {
        return None;
    }
    let left = starts_at - now;
    leads.iter().copied().filter(|l| l.duration() >= left).min()
}

pub fn reminder_key(meeting_id: &str, lead: Lead, starts_at: DateTime<Utc>) -> String {
    format!("meeting.reminder:{meeting_id}:{}:{}", lead.label(), starts_at.format("%Y-%m-%dT%H:%M:%SZ"))
}

pub fn overdue_key(item_id: &str, due_date: &str) -> String {
    format!("action_item.overdue:{item_id}:{due_date}")
}

/// A cheap look before building a payload; `emit_once` still decides under concurrency.
fn already_emitted(conn: &mut DbConn, key: &str) -> Result<bool, ApiError> {
    let n: i64 = ek::table.filter(ek::event_key.eq(key)).count().get_result(conn)?;
    Ok(n > 0)
}

/// Scans once at `now`; returns how many events it emitted.
pub fn scan(conn: &mut DbConn, now: DateTime<Utc>, leads: &[Lead]) -> Result<usize, ApiError> {
    let mut emitted = 0;
    if let Some(longest) = leads.iter().copied().max() {
        for meeting in meetings::scheduled_between(conn, now, now + longest.duration())? {
            let Some(lead) = due_lead(leads, meeting.starts_at, now) else { continue };
            let key = reminder_key(&meeting.id, lead, meeting.starts_at);
            if already_emitted(conn, &key)? {
                continue;
            }
            let event = DomainEvent::MeetingReminder(MeetingReminder {
                snapshot: meetings::meeting_snapshot(conn, &meeting)?,
                lead: lead.label(),
                lead_minutes: lead.minutes,
                starts_in_minutes: (meeting.starts_at - now).num_minutes(),
            });
            if events::emit_once(conn, &key, &event)?.is_some() {
                emitted += 1;
            }
        }
    }
    for item in action_items::newly_overdue(conn, now, 500)? {
        let due = item.due_date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
        let key = overdue_key(&item.id, &due);
        let event = DomainEvent::ActionItemOverdue(action_items::overdue_notice(conn, &item)?);
        if events::emit_once(conn, &key, &event)?.is_some() {
            emitted += 1;
        }
        // Bookkeeping only (not a change of the item): the scan stops looking at it.
        diesel::update(ai::table.filter(ai::id.eq(&item.id)).filter(ai::overdue_notified_at.is_null()))
            .set(ai::overdue_notified_at.eq(now.naive_utc()))
            .execute(conn)?;
    }
    Ok(emitted)
}

/// The lead times the registered job uses: set from the configuration by [`job`]; until then the
/// defaults.
static LEADS: RwLock<Option<Vec<Lead>>> = RwLock::new(None);

fn current_leads() -> Vec<Lead> {
    let set = LEADS.read().map(|g| g.clone()).unwrap_or_else(|p| p.into_inner().clone());
    set.unwrap_or_else(|| crate::config::parse_leads(crate::config::DEFAULT_LEADS).unwrap_or_default())
}

fn run(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    scan(conn, now, &current_leads())
}

/// The scan as a job of `serve`, every minute, with the configured lead times. (A job is a plain
/// function, so the lead times are kept in a process-wide setting; one process has one
/// configuration.)
pub fn job(leads: &[Lead]) -> Job {
    match LEADS.write() {
        Ok(mut g) => *g = Some(leads.to_vec()),
        Err(p) => *p.into_inner() = Some(leads.to_vec()),
    }
    JOB
}

/// The job with whatever lead times are set (the defaults unless [`job`] set others).
pub const JOB: Job = Job { name: "meeting_reminders", every: std::time::Duration::from_secs(60), run };

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn the_shortest_reached_lead_is_due() {
        let leads = crate::config::parse_leads("24h,1h").unwrap();
        let start: DateTime<Utc> = "2027-01-04T02:00:00Z".parse().unwrap();
        assert_eq!(due_lead(&leads, start, start - Duration::hours(25)), None);
        assert_eq!(due_lead(&leads, start, start - Duration::hours(24)).map(Lead::label).as_deref(), Some("24h"));
        assert_eq!(due_lead(&leads, start, start - Duration::hours(2)).map(Lead::label).as_deref(), Some("24h"));
        assert_eq!(due_lead(&leads, start, start - Duration::minutes(59)).map(Lead::label).as_deref(), Some("1h"));
        assert_eq!(due_lead(&leads, start, start), None);
        assert_eq!(reminder_key("m1", Lead { minutes: 60 }, start), "meeting.reminder:m1:1h:2027-01-04T02:00:00Z");
    }
}
