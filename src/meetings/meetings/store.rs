//! Meetings in the database: one row per meeting (its partners also in `meeting_partners`, so a
//! partner's meetings are read in start order from an index), written with its audit record and
//! its event in the caller's transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::model::*;
use super::patch::Move;
use crate::access::{Actor, Scope};
use crate::audit;
use crate::db::schema::{meeting_partners as mp, meetings as m};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::meetings::action_items::store as action_items;
use crate::meetings::events::{MeetingCancelled, MeetingHeld, MeetingSnapshot, MeetingUpdated};
use crate::meetings::model::{partner_constraint, Attendee};
use crate::meetings::store as shared;
use crate::validation::Check;

/// A meeting visible in `scope` (others are "not found").
pub fn get(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<Meeting, ApiError> {
    shared::meeting(conn, id, scope)
}

fn cursor_time(raw: &str) -> Result<NaiveDateTime, ApiError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.naive_utc())
        .map_err(|_| ApiError::field("cursor", "is not a cursor this list issued"))
}

pub fn cursor_of(meeting: &Meeting) -> Vec<String> {
    vec![meeting.starts_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), meeting.id.clone()]
}

/// Meetings in start order (then id), with the filters applied; `page.after` is
/// `[starts_at, id]` of the previous page's last meeting.
pub fn list(
    conn: &mut DbConn,
    filter: &MeetingFilter,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<Meeting>, ApiError> {
    let Some(partner) = partner_constraint(scope, filter.partner_id.as_ref()) else { return Ok(Vec::new()) };
    let after = match &page.after {
        Some(a) => Some((cursor_time(&a[0])?, a[1].clone())),
        None => None,
    };
    // The same filters on either the meetings table alone or, for one partner's meetings, read
    // in order from that partner's rows of meeting_partners.
    macro_rules! filtered {
        ($q:expr, $start:expr, $id:expr) => {{
            let mut q = $q;
            if let Some(v) = filter.status {
                q = q.filter(m::status.eq(v));
            }
            if let Some(v) = filter.kind {
                q = q.filter(m::kind.eq(v));
            }
            if let Some(v) = &filter.organizer {
                q = q.filter(m::organizer.eq(v.clone()));
            }
            if let Some(v) = &filter.series_id {
                q = q.filter(m::series_id.eq(v.clone()));
            }
            if let Some(v) = &filter.key_account_id {
                q = q.filter(m::key_account_id.eq(v.clone()));
            }
            if let Some(v) = filter.from {
                q = q.filter($start.ge(v.naive_utc()));
            }
            if let Some(v) = filter.to {
                q = q.filter($start.lt(v.naive_utc()));
            }
            if let Some((t, id)) = &after {
                q = q.filter($start.gt(*t).or($start.eq(*t).and($id.gt(id.clone()))));
            }
            q.order(($start.asc(), $id.asc())).limit(page.limit + 1).select(Meeting::as_select()).load(conn)?
        }};
    }
    let rows: Vec<Meeting> = match partner {
        Some(pid) => filtered!(
            mp::table.inner_join(m::table).filter(mp::partner_id.eq(pid)).into_boxed(),
            mp::starts_at,
            mp::meeting_id
        ),
        None => filtered!(m::table.into_boxed(), m::starts_at, m::id),
    };
    Ok(rows)
}

/// Scheduled meetings starting in `(from, to]`, for the reminder scan.
pub fn scheduled_between(conn: &mut DbConn, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Meeting>, ApiError> {
    Ok(m::table
        .filter(m::status.eq(MeetingStatus::Scheduled))
        .filter(m::starts_at.gt(from.naive_utc()))
        .filter(m::starts_at.le(to.naive_utc()))
        .order((m::starts_at.asc(), m::id.asc()))
        .select(Meeting::as_select())
        .load(conn)?)
}

/// What every meeting event carries: the meeting as the API shows it, and its partners with
/// their names (so a message can be written from the event alone).
pub fn meeting_snapshot(conn: &mut DbConn, meeting: &Meeting) -> Result<MeetingSnapshot, ApiError> {
    let names = shared::partner_names(conn, &meeting.partner_ids)?;
    Ok(MeetingSnapshot::new(meeting.clone(), &names))
}

fn write_partners(conn: &mut DbConn, meeting: &Meeting) -> Result<(), ApiError> {
    diesel::delete(mp::table.filter(mp::meeting_id.eq(&meeting.id))).execute(conn)?;
    let starts_at = meeting.starts_at.naive_utc();
    let rows: Vec<_> = meeting
        .partner_ids
        .iter()
        .map(|pid| (mp::meeting_id.eq(&meeting.id), mp::partner_id.eq(pid), mp::starts_at.eq(starts_at)))
        .collect();
    db::insert_many(conn, mp::table, rows)?;
    Ok(())
}

/// Inserts a new meeting with its partner rows and audit record (no event: callers choose).
pub fn insert(conn: &mut DbConn, actor: &Actor, meeting: &Meeting) -> Result<(), ApiError> {
    diesel::insert_into(m::table).values(meeting.clone()).execute(conn)?;
    write_partners(conn, meeting)?;
    audit::record(conn, actor, "create", "meeting", &meeting.id, audit::diff(None::<&Meeting>, Some(meeting)))?;
    Ok(())
}

/// A new meeting from checked input.
pub fn new_meeting(
    input: &MeetingCreate,
    checked: &CheckedCreate,
    attendees: Vec<Attendee>,
    series_id: Option<String>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Meeting {
    let now = db::now().and_utc();
    Meeting {
        id: db::new_id(),
        series_id,
        title: input.title.clone(),
        kind: input.kind.unwrap_or(MeetingKind::RegularReview),
        partner_ids: checked.partner_ids.clone(),
        key_account_id: checked.key_account_id.clone(),
        organizer: input.organizer.clone(),
        organizer_email: input.organizer_email.clone(),
        attendees,
        agenda: input.agenda.clone(),
        location: input.location.clone(),
        online_url: input.online_url.clone(),
        starts_at,
        ends_at,
        timezone: checked.tz.name().to_string(),
        status: MeetingStatus::Scheduled,
        minutes: None,
        decisions: Vec::new(),
        cancel_reason: None,
        held_at: None,
        cancelled_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: &MeetingCreate) -> Result<Meeting, ApiError> {
    let checked = input.validate()?;
    let mut c = Check::new();
    let attendees = shared::resolve_refs(
        conn,
        &mut c,
        "",
        &checked.partner_ids,
        true,
        checked.key_account_id.as_deref(),
        Some(&input.attendees),
    )?
    .unwrap_or_default();
    c.finish()?;
    let meeting = new_meeting(input, &checked, attendees, None, checked.starts_at, checked.ends_at);
    insert(conn, actor, &meeting)?;
    let snapshot = meeting_snapshot(conn, &meeting)?;
    events::emit(conn, &DomainEvent::MeetingScheduled(snapshot))?;
    Ok(meeting)
}

/// Writes `next` over `current` if nobody changed it in between (else 412).
pub fn save(conn: &mut DbConn, current: &Meeting, next: &mut Meeting) -> Result<(), ApiError> {
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(m::table.filter(m::id.eq(&current.id).and(m::version.eq(current.version))))
        .set(next.clone())
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    if next.partner_ids != current.partner_ids || next.starts_at != current.starts_at {
        write_partners(conn, next)?;
    }
    if next.timezone != current.timezone {
        action_items::refresh_overdue_at(conn, next)?;
    }
    Ok(())
}

/// Partners dropped from a meeting must not leave its action items behind.
pub fn ensure_partners_removable(conn: &mut DbConn, current: &Meeting, next: &Meeting) -> Result<(), ApiError> {
    let removed: Vec<String> =
        current.partner_ids.iter().filter(|id| !next.partner_ids.contains(id)).cloned().collect();
    if removed.is_empty() || action_items::count_for_partners(conn, &current.id, &removed)? == 0 {
        return Ok(());
    }
    Err(ApiError::conflict(
        Code::PartnerHasActionItems,
        "a partner with action items from this meeting cannot be removed from it",
    ))
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &MeetingUpdate,
) -> Result<Meeting, ApiError> {
    let mut c = Check::new();
    let partner_ids = patch.check_fields(&mut c);
    c.finish()?;
    let current = get(conn, id, &Scope::All)?;
    etag::check(expected, current.version)?;
    let mv = patch.status_move(&current)?;
    let mut c = Check::new();
    let mut next = patch.apply(&current, partner_ids, mv, db::now().and_utc(), &mut c);
    if patch.touches_refs() {
        let key_account = if patch.key_account_id.is_some() { next.key_account_id.clone() } else { None };
        let resolved = shared::resolve_refs(
            conn,
            &mut c,
            "",
            &next.partner_ids,
            patch.partner_ids.is_some(),
            key_account.as_deref(),
            patch.attendees.as_deref(),
        )?;
        match resolved {
            Some(attendees) => next.attendees = attendees,
            // The kept attendees must still belong to the (possibly new) partners.
            None => next.check_attendee_partners(&mut c, ""),
        }
    }
    let new_items = patch.held_items(&next, mv, &mut c);
    c.finish()?;
    ensure_partners_removable(conn, &current, &next)?;
    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|o| o.is_empty()) && new_items.is_empty() {
        return Ok(current);
    }
    save(conn, &current, &mut next)?;
    audit::record(conn, actor, "update", "meeting", id, changes.clone())?;
    let tz = next.tz()?;
    for (item, pid) in new_items {
        action_items::insert(conn, actor, &next, tz, item, pid)?;
    }
    emit_update(conn, &next, mv, changes)?;
    Ok(next)
}

/// `meeting.held` (with every action item of the meeting), `meeting.cancelled` or
/// `meeting.updated`.
fn emit_update(conn: &mut DbConn, next: &Meeting, mv: Move, changes: serde_json::Value) -> Result<(), ApiError> {
    let snapshot = meeting_snapshot(conn, next)?;
    let event = match mv {
        Move::Hold => {
            let now = db::now().and_utc();
            let action_items = action_items::of_meeting(conn, &next.id, &Scope::All, None, i64::MAX, now)?;
            DomainEvent::MeetingHeld(MeetingHeld { snapshot, decisions: next.decisions.clone(), action_items, changes })
        }
        Move::Cancel => {
            DomainEvent::MeetingCancelled(MeetingCancelled { snapshot, cancel_reason: next.cancel_reason.clone() })
        }
        Move::Edit => DomainEvent::MeetingUpdated(MeetingUpdated { snapshot, changes }),
    };
    events::emit(conn, &event)?;
    Ok(())
}

/// The meeting with its action items and the open items carried over from earlier meetings with
/// any of its partners (partner keys see only their own partner's items).
pub fn detail(conn: &mut DbConn, id: &str, scope: &Scope, now: DateTime<Utc>) -> Result<MeetingDetail, ApiError> {
    let meeting = get(conn, id, scope)?;
    let own = action_items::of_meeting(conn, id, scope, None, i64::MAX, now)?;
    let carried = action_items::carried_over(conn, &meeting, scope, now)?;
    Ok(MeetingDetail { meeting: meeting.view(scope), action_items: own, carried_over_action_items: carried })
}
