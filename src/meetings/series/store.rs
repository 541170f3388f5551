//! Recurring series in the database: made up front as real meetings, edited from a point on,
//! cancelled for the future only. Occurrences are written through the meetings store, so each
//! keeps its own audit trail, version and calendar SEQUENCE.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::edit::{self, Resolved};
use super::model::*;
use super::recurrence;
use crate::access::Actor;
use crate::audit;
use crate::db::schema::{meeting_series as ms, meetings as m};
use crate::db::types::{JsonText, UtcTime};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::meetings::events::{SeriesCancelled, SeriesSnapshot, SeriesUpdated};
use crate::meetings::meetings::model::{CheckedCreate, Meeting, MeetingCreate, MeetingKind, MeetingStatus};
use crate::meetings::meetings::store as meetings;
use crate::meetings::model::{id_or_empty, Attendee};
use crate::meetings::store as shared;
use crate::meetings::time;
use crate::validation::Check;

/// A series as stored; its occurrences are the meetings that name it.
#[derive(Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ms, treat_none_as_null = true)]
struct SeriesRow {
    id: String,
    #[diesel(serialize_as = JsonText)]
    template: SeriesTemplate,
    #[diesel(serialize_as = JsonText)]
    rule: RecurrenceRule,
    status: SeriesStatus,
    cancel_reason: Option<String>,
    #[diesel(serialize_as = UtcTime)]
    cancelled_at: Option<DateTime<Utc>>,
    version: i64,
    #[diesel(serialize_as = UtcTime)]
    created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    updated_at: DateTime<Utc>,
}

impl SeriesRow {
    fn into_model(self, occurrences: Vec<Occurrence>) -> MeetingSeries {
        MeetingSeries {
            id: self.id,
            template: self.template,
            rule: self.rule,
            status: self.status,
            cancel_reason: self.cancel_reason,
            cancelled_at: self.cancelled_at,
            occurrences,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    fn from_model(s: &MeetingSeries) -> Self {
        SeriesRow {
            id: s.id.clone(),
            template: s.template.clone(),
            rule: s.rule.clone(),
            status: s.status,
            cancel_reason: s.cancel_reason.clone(),
            cancelled_at: s.cancelled_at,
            version: s.version,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A series as read for a change: its row, as the API shows it, and its occurrences in full.
struct Loaded {
    row: SeriesRow,
    series: MeetingSeries,
    meetings: Vec<Meeting>,
}

fn summary(meeting: &Meeting) -> Occurrence {
    Occurrence {
        id: meeting.id.clone(),
        starts_at: meeting.starts_at,
        ends_at: meeting.ends_at,
        status: meeting.status,
        version: meeting.version,
    }
}

/// Every occurrence of the given series, in start order.
fn occurrences_of(conn: &mut DbConn, series_ids: &[String]) -> Result<HashMap<String, Vec<Meeting>>, ApiError> {
    let rows: Vec<Meeting> = m::table
        .filter(m::series_id.eq_any(series_ids.to_vec()))
        .order((m::starts_at.asc(), m::id.asc()))
        .select(Meeting::as_select())
        .load(conn)?;
    let mut out: HashMap<String, Vec<Meeting>> = HashMap::new();
    for meeting in rows {
        if let Some(sid) = meeting.series_id.clone() {
            out.entry(sid).or_default().push(meeting);
        }
    }
    Ok(out)
}

fn load(conn: &mut DbConn, id: &str) -> Result<Loaded, ApiError> {
    let row: Option<SeriesRow> = ms::table.find(id).select(SeriesRow::as_select()).first(conn).optional()?;
    let row = row.ok_or_else(series_not_found)?;
    let meetings = occurrences_of(conn, std::slice::from_ref(&row.id))?.remove(&row.id).unwrap_or_default();
    let series = row.clone().into_model(meetings.iter().map(summary).collect());
    Ok(Loaded { row, series, meetings })
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<MeetingSeries, ApiError> {
    Ok(load(conn, id)?.series)
}

/// Series, newest first.
pub fn list(
    conn: &mut DbConn,
    status: Option<SeriesStatus>,
    page: &PageRequest,
) -> Result<Vec<MeetingSeries>, ApiError> {
    let mut q = ms::table.into_boxed();
    if let Some(s) = status {
        q = q.filter(ms::status.eq(s));
    }
    if let Some(after) = &page.after {
        q = q.filter(ms::id.lt(after[0].clone()));
    }
    let rows: Vec<SeriesRow> =
        q.order(ms::id.desc()).limit(page.limit + 1).select(SeriesRow::as_select()).load(conn)?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut occurrences = occurrences_of(conn, &ids)?;
    rows.into_iter()
        .map(|r| {
            let of = occurrences.remove(&r.id).unwrap_or_default();
            Ok(r.into_model(of.iter().map(summary).collect()))
        })
        .collect()
}

/// What every series event carries: the series, the occurrences the event is about, and the
/// template's partners with their names.
fn series_snapshot(
    conn: &mut DbConn,
    series: &MeetingSeries,
    occurrences: Vec<Occurrence>,
) -> Result<SeriesSnapshot, ApiError> {
    let names = shared::partner_names(conn, &series.template.partner_ids)?;
    Ok(SeriesSnapshot::new(series.clone(), occurrences, &names))
}

fn template_of(input: &MeetingCreate, checked: &CheckedCreate, attendees: Vec<Attendee>) -> SeriesTemplate {
    let local = time::utc_to_local(checked.tz, checked.starts_at);
    SeriesTemplate {
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
        timezone: checked.tz.name().to_string(),
        starts_on: local.date(),
        start_time: time_text(local.time()),
        duration_minutes: (checked.ends_at - checked.starts_at).num_minutes(),
    }
}

/// Checks a new series and computes its occurrences: the checked template, the occurrences'
/// times, and the attendees filled in from their contacts.
fn plan(
    conn: &mut DbConn,
    input: &MeetingSeriesCreate,
) -> Result<(CheckedCreate, Vec<recurrence::Occurrence>, Vec<Attendee>), ApiError> {
    let mut c = Check::new();
    let checked = input.template.check(&mut c, "template.");
    let end = input.rule.check(&mut c);
    let mut occurrences = Vec::new();
    if let (Some(ch), Some(end)) = (&checked, end) {
        if c.is_ok() {
            let (duration, interval) = (ch.ends_at - ch.starts_at, input.rule.interval.unwrap_or(1));
            match recurrence::occurrences(ch.tz, ch.starts_at, duration, input.rule.frequency, interval, end) {
                Ok(o) => occurrences = o,
                Err(e) => c.add(e.field, e.message),
            }
        }
    }
    let attendees = match &checked {
        Some(ch) if c.is_ok() => shared::resolve_refs(
            conn,
            &mut c,
            "template.",
            &ch.partner_ids,
            true,
            ch.key_account_id.as_deref(),
            Some(&input.template.attendees),
        )?
        .unwrap_or_default(),
        _ => Vec::new(),
    };
    c.finish()?;
    let checked = checked.ok_or_else(|| ApiError::field("template.timezone", "is not an IANA timezone name"))?;
    Ok((checked, occurrences, attendees))
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: &MeetingSeriesCreate) -> Result<MeetingSeries, ApiError> {
    let (checked, occurrences, attendees) = plan(conn, input)?;
    let now = db::now().and_utc();
    let mut created = MeetingSeries {
        id: db::new_id(),
        template: template_of(&input.template, &checked, attendees.clone()),
        rule: RecurrenceRule {
            frequency: input.rule.frequency,
            interval: Some(input.rule.interval.unwrap_or(1)),
            until: input.rule.until,
            count: input.rule.count,
        },
        status: SeriesStatus::Active,
        cancel_reason: None,
        cancelled_at: None,
        occurrences: Vec::new(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(ms::table).values(SeriesRow::from_model(&created)).execute(conn)?;
    for occ in occurrences {
        let series_id = Some(created.id.clone());
        let meeting =
            meetings::new_meeting(&input.template, &checked, attendees.clone(), series_id, occ.starts_at, occ.ends_at);
        meetings::insert(conn, actor, &meeting)?;
        created.occurrences.push(summary(&meeting));
    }
    let diff = audit::diff(None::<&MeetingSeries>, Some(&created));
    audit::record(conn, actor, "create", "meeting_series", &created.id, diff)?;
    let snapshot = series_snapshot(conn, &created, created.occurrences.clone())?;
    events::emit(conn, &DomainEvent::MeetingSeriesScheduled(snapshot))?;
    Ok(created)
}

fn save_series(conn: &mut DbConn, current: &SeriesRow, next: &mut MeetingSeries) -> Result<(), ApiError> {
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(ms::table.filter(ms::id.eq(&current.id)).filter(ms::version.eq(current.version)))
        .set(SeriesRow::from_model(next))
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    Ok(())
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &MeetingSeriesUpdate,
    now: DateTime<Utc>,
) -> Result<MeetingSeries, ApiError> {
    let edit = patch.validate()?;
    let loaded = load(conn, id)?;
    etag::check(expected, loaded.row.version)?;
    if loaded.series.status == SeriesStatus::Cancelled {
        return Err(ApiError::conflict(Code::SeriesCancelled, "the series is cancelled and can no longer change"));
    }
    match edit {
        SeriesEdit::Cancel { reason } => cancel(conn, actor, loaded, &reason, now),
        SeriesEdit::Changes { from, start_time, partner_ids } => {
            let Some(changes) = &patch.changes else { return Err(ApiError::field("changes", "is required")) };
            let targets = edit::targets(&loaded.meetings, &from, now)?;
            let resolved = resolve(conn, &loaded.series, changes, start_time, partner_ids)?;
            let plan = Plan { from, changes, resolved, targets };
            edit_occurrences(conn, actor, loaded, plan)
        }
    }
}

fn cancel_meeting(conn: &mut DbConn, actor: &Actor, meeting: &Meeting, reason: &str) -> Result<Meeting, ApiError> {
    let mut next = meeting.clone();
    next.status = MeetingStatus::Cancelled;
    next.cancel_reason = Some(reason.to_string());
    next.cancelled_at = Some(db::now().and_utc());
    meetings::save(conn, meeting, &mut next)?;
    audit::record(conn, actor, "update", "meeting", &meeting.id, audit::diff(Some(meeting), Some(&next)))?;
    Ok(next)
}

/// Cancels the series: every scheduled occurrence that has not started yet is cancelled; held
/// and past ones stay as they are.
fn cancel(
    conn: &mut DbConn,
    actor: &Actor,
    loaded: Loaded,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<MeetingSeries, ApiError> {
    let Loaded { row, series: current, meetings } = loaded;
    let mut cancelled = Vec::new();
    let mut all = Vec::with_capacity(meetings.len());
    for meeting in meetings {
        if meeting.status == MeetingStatus::Scheduled && meeting.starts_at > now {
            let next = cancel_meeting(conn, actor, &meeting, reason)?;
            cancelled.push(summary(&next));
            all.push(summary(&next));
        } else {
            all.push(summary(&meeting));
        }
    }
    let mut next = current.clone();
    next.status = SeriesStatus::Cancelled;
    next.cancel_reason = Some(reason.to_string());
    next.cancelled_at = Some(db::now().and_utc());
    next.occurrences = all;
    save_series(conn, &row, &mut next)?;
    audit::record(conn, actor, "update", "meeting_series", &next.id, audit::diff(Some(&current), Some(&next)))?;
    let snapshot = series_snapshot(conn, &next, cancelled)?;
    let event = SeriesCancelled { snapshot, cancel_reason: reason.to_string() };
    events::emit(conn, &DomainEvent::MeetingSeriesCancelled(event))?;
    Ok(next)
}

/// An edit of occurrences, checked and resolved.
struct Plan<'a> {
    from: EditStart,
    changes: &'a OccurrencesUpdate,
    resolved: Resolved,
    /// Positions of the occurrences it reaches (see `edit::targets`).
    targets: Vec<usize>,
}

/// Looks up what the changes name: the timezone, the partners (when changed), the key account
/// and the attendees' contacts.
fn resolve(
    conn: &mut DbConn,
    current: &MeetingSeries,
    changes: &OccurrencesUpdate,
    start_time: Option<chrono::NaiveTime>,
    partner_ids: Option<Vec<String>>,
) -> Result<Resolved, ApiError> {
    let tz = match &changes.timezone {
        Some(name) => Some(
            time::parse_tz(name).ok_or_else(|| ApiError::field("changes.timezone", "is not an IANA timezone name"))?,
        ),
        None => None,
    };
    let key_account = match &changes.key_account_id {
        Some(Some(k)) => Some(id_or_empty(k)).filter(|id| !id.is_empty()),
        _ => None,
    };
    let mut c = Check::new();
    let partners_after = partner_ids.clone().unwrap_or_else(|| current.template.partner_ids.clone());
    let attendees = shared::resolve_refs(
        conn,
        &mut c,
        "changes.",
        &partners_after,
        partner_ids.is_some(),
        key_account.as_deref(),
        changes.attendees.as_deref(),
    )?;
    c.finish()?;
    Ok(Resolved { partner_ids, start_time, tz, key_account, attendees })
}

fn edit_occurrences(
    conn: &mut DbConn,
    actor: &Actor,
    loaded: Loaded,
    plan: Plan<'_>,
) -> Result<MeetingSeries, ApiError> {
    let Loaded { row, series: current, meetings } = loaded;
    let mut updated = Vec::new();
    let mut by_id: HashMap<String, Occurrence> = HashMap::new();
    for i in plan.targets {
        let meeting = &meetings[i];
        let mut next = plan.changes.apply_to_meeting(meeting, &plan.resolved, db::now().and_utc())?;
        let mut c = Check::new();
        next.check_attendee_partners(&mut c, "changes.");
        c.finish()?;
        meetings::ensure_partners_removable(conn, meeting, &next)?;
        let diff = audit::diff(Some(meeting), Some(&next));
        if diff.as_object().is_some_and(|o| o.is_empty()) {
            continue;
        }
        meetings::save(conn, meeting, &mut next)?;
        audit::record(conn, actor, "update", "meeting", &next.id, diff)?;
        by_id.insert(next.id.clone(), summary(&next));
        updated.push(summary(&next));
    }
    let mut next = current.clone();
    plan.changes.apply_to_template(&mut next.template, plan.resolved);
    next.occurrences =
        current.occurrences.iter().map(|o| by_id.get(&o.id).cloned().unwrap_or_else(|| o.clone())).collect();
    next.occurrences.sort_by(|a, b| (a.starts_at, &a.id).cmp(&(b.starts_at, &b.id)));
    let template_changes = audit::diff(Some(&current.template), Some(&next.template));
    save_series(conn, &row, &mut next)?;
    audit::record(conn, actor, "update", "meeting_series", &next.id, audit::diff(Some(&current), Some(&next)))?;
    let event = SeriesUpdated {
        snapshot: series_snapshot(conn, &next, updated)?,
        from: edit::from_text(plan.from),
        changes: template_changes,
        cancelled: plan.changes.status.is_some(),
        cancel_reason: plan.changes.cancel_reason.clone(),
    };
    events::emit(conn, &DomainEvent::MeetingSeriesUpdated(event))?;
    Ok(next)
}
