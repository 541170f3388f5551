//! Recurring series in the database: made up front as real meetings, edited from a point on,
//! cancelled for the future only.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::events::{SeriesCancelled, SeriesSnapshot, SeriesUpdated};
use super::model::*;
use super::series;
use super::store::{self, MeetingRow};
use crate::access::Actor;
use crate::audit;
use crate::db::schema::{meeting_series as ms, meetings as m};
use crate::db::{self, json as dbjson, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::validation::Check;

pub fn series_not_found() -> ApiError {
    ApiError::new(actix_web::http::StatusCode::NOT_FOUND, Code::MeetingSeriesNotFound, "meeting series not found")
}

#[derive(Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ms)]
#[diesel(treat_none_as_null = true)]
struct SeriesRow {
    id: String,
    template: String,
    rule: String,
    status: String,
    cancel_reason: Option<String>,
    cancelled_at: Option<NaiveDateTime>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl SeriesRow {
    fn into_model(self, occurrences: Vec<Occurrence>) -> Result<MeetingSeries, ApiError> {
        Ok(MeetingSeries {
            id: self.id,
            template: dbjson::decode(&self.template)?,
            rule: dbjson::decode(&self.rule)?,
            status: SeriesStatus::from_db(&self.status)?,
            cancel_reason: self.cancel_reason,
            cancelled_at: self.cancelled_at.map(|t| t.and_utc()),
            occurrences,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }

    fn from_model(s: &MeetingSeries) -> Self {
        SeriesRow {
            id: s.id.clone(),
            template: dbjson::encode(&s.template),
            rule: dbjson::encode(&s.rule),
            status: s.status.as_str().into(),
            cancel_reason: s.cancel_reason.clone(),
            cancelled_at: s.cancelled_at.map(|t| t.naive_utc()),
            version: s.version,
            created_at: s.created_at.naive_utc(),
            updated_at: s.updated_at.naive_utc(),
        }
    }
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
    let rows: Vec<MeetingRow> = m::table
        .filter(m::series_id.eq_any(series_ids.to_vec()))
        .order((m::starts_at.asc(), m::id.asc()))
        .select(MeetingRow::as_select())
        .load(conn)?;
    let mut out: HashMap<String, Vec<Meeting>> = HashMap::new();
    for meeting in store::rows_into_models(rows)? {
        if let Some(sid) = meeting.series_id.clone() {
            out.entry(sid).or_default().push(meeting);
        }
    }
    Ok(out)
}

fn load(conn: &mut DbConn, id: &str) -> Result<(SeriesRow, Vec<Meeting>), ApiError> {
    let row: Option<SeriesRow> = ms::table.find(id).select(SeriesRow::as_select()).first(conn).optional()?;
    let row = row.ok_or_else(series_not_found)?;
    let meetings = occurrences_of(conn, std::slice::from_ref(&row.id))?.remove(&row.id).unwrap_or_default();
    Ok((row, meetings))
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<MeetingSeries, ApiError> {
    let (row, meetings) = load(conn, id)?;
    row.into_model(meetings.iter().map(summary).collect())
}

/// Series, newest first.
pub fn list(
    conn: &mut DbConn,
    status: Option<SeriesStatus>,
    page: &PageRequest,
) -> Result<Vec<MeetingSeries>, ApiError> {
    let mut q = ms::table.into_boxed();
    if let Some(s) = status {
        q = q.filter(ms::status.eq(s.as_str()));
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
            r.into_model(of.iter().map(summary).collect())
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
    let names = store::partner_names(conn, &series.template.partner_ids)?;
    Ok(SeriesSnapshot::new(series.clone(), occurrences, &names))
}

fn template_of(input: &MeetingCreate, checked: &CheckedCreate, attendees: Vec<Attendee>) -> SeriesTemplate {
    let local = series::utc_to_local(checked.tz, checked.starts_at);
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

pub fn create(conn: &mut DbConn, actor: &Actor, input: &MeetingSeriesCreate) -> Result<MeetingSeries, ApiError> {
    let mut c = Check::new();
    let checked = input.template.check(&mut c, "template.");
    let end = input.rule.check(&mut c);
    let interval = input.rule.interval.unwrap_or(1);
    let mut occurrences = Vec::new();
    if let (Some(ch), Some(end)) = (&checked, end) {
        if c.is_ok() {
            match series::occurrences(
                ch.tz,
                ch.starts_at,
                ch.ends_at - ch.starts_at,
                input.rule.frequency,
                interval,
                end,
            ) {
                Ok(o) => occurrences = o,
                Err(e) => c.add(e.field, e.message),
            }
        }
    }
    let attendees = match &checked {
        Some(ch) if c.is_ok() => store::resolve_refs(
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
    let now = db::now().and_utc();
    let mut created = MeetingSeries {
        id: db::new_id(),
        template: template_of(&input.template, &checked, attendees.clone()),
        rule: RecurrenceRule {
            frequency: input.rule.frequency,
            interval: Some(interval),
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
        let meeting = store::new_meeting(
            &input.template,
            &checked,
            attendees.clone(),
            Some(created.id.clone()),
            occ.starts_at,
            occ.ends_at,
        );
        store::insert(conn, actor, &meeting)?;
        created.occurrences.push(summary(&meeting));
    }
    audit::record(
        conn,
        actor,
        "create",
        "meeting_series",
        &created.id,
        audit::diff(None::<&MeetingSeries>, Some(&created)),
    )?;
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
    let (row, meetings) = load(conn, id)?;
    etag::check(expected, row.version)?;
    let current = row.clone().into_model(meetings.iter().map(summary).collect())?;
    if current.status == SeriesStatus::Cancelled {
        return Err(ApiError::conflict(Code::SeriesCancelled, "the series is cancelled and can no longer change"));
    }
    match edit {
        SeriesEdit::Cancel { reason } => cancel(conn, actor, &row, current, meetings, &reason, now),
        SeriesEdit::Changes { from, start_time, partner_ids } => {
            let Some(changes) = &patch.changes else { return Err(ApiError::field("changes", "is required")) };
            edit_occurrences(conn, actor, &row, current, meetings, changes, from, start_time, partner_ids, now)
        }
    }
}

fn cancel_meeting(conn: &mut DbConn, actor: &Actor, meeting: &Meeting, reason: &str) -> Result<Meeting, ApiError> {
    let mut next = meeting.clone();
    next.status = MeetingStatus::Cancelled;
    next.cancel_reason = Some(reason.to_string());
    next.cancelled_at = Some(db::now().and_utc());
    store::save(conn, meeting, &mut next)?;
    audit::record(conn, actor, "update", "meeting", &meeting.id, audit::diff(Some(meeting), Some(&next)))?;
    Ok(next)
}

/// Cancels the series: every scheduled occurrence that has not started yet is cancelled; held
/// and past ones stay as they are.
fn cancel(
    conn: &mut DbConn,
    actor: &Actor,
    row: &SeriesRow,
    current: MeetingSeries,
    meetings: Vec<Meeting>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<MeetingSeries, ApiError> {
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
    save_series(conn, row, &mut next)?;
    audit::record(conn, actor, "update", "meeting_series", &next.id, audit::diff(Some(&current), Some(&next)))?;
    let snapshot = series_snapshot(conn, &next, cancelled)?;
    let event = SeriesCancelled { snapshot, cancel_reason: reason.to_string() };
    events::emit(conn, &DomainEvent::MeetingSeriesCancelled(event))?;
    Ok(next)
}

#[allow(clippy::too_many_arguments)]
fn edit_occurrences(
    conn: &mut DbConn,
    actor: &Actor,
    row: &SeriesRow,
    current: MeetingSeries,
    meetings: Vec<Meeting>,
    changes: &OccurrencesUpdate,
    from: EditStart,
    start_time: Option<chrono::NaiveTime>,
    partner_ids: Option<Vec<String>>,
    now: DateTime<Utc>,
) -> Result<MeetingSeries, ApiError> {
    // Which occurrences the edit reaches.
    let first_index = match &from {
        EditStart::Now => meetings.iter().position(|x| x.starts_at > now),
        EditStart::Date(d) => {
            let mut found = None;
            for (i, x) in meetings.iter().enumerate() {
                if series::utc_to_local(store::tz_of(x)?, x.starts_at).date() >= *d {
                    found = Some(i);
                    break;
                }
            }
            found
        }
        EditStart::Occurrence(oid) => match meetings.iter().position(|x| &x.id == oid) {
            Some(i) => Some(i),
            None => return Err(ApiError::field("from", "is not an occurrence of this series")),
        },
    };
    let targets: Vec<usize> = match first_index {
        Some(start) => (start..meetings.len()).filter(|&i| meetings[i].status == MeetingStatus::Scheduled).collect(),
        None => Vec::new(),
    };
    if targets.is_empty() {
        return Err(ApiError::conflict(
            Code::NoScheduledOccurrences,
            "no scheduled occurrence of the series is in range of the edit",
        ));
    }

    let new_tz = match &changes.timezone {
        Some(name) => Some(
            series::parse_tz(name)
                .ok_or_else(|| ApiError::field("changes.timezone", "is not an IANA timezone name"))?,
        ),
        None => None,
    };
    let mut c = Check::new();
    let partners_after = partner_ids.clone().unwrap_or_else(|| current.template.partner_ids.clone());
    let key_account = match &changes.key_account_id {
        Some(Some(k)) => uuid::Uuid::parse_str(k).ok().map(|u| u.hyphenated().to_string()),
        _ => None,
    };
    let attendees = store::resolve_refs(
        conn,
        &mut c,
        "changes.",
        &partners_after,
        partner_ids.is_some(),
        key_account.as_deref(),
        changes.attendees.as_deref(),
    )?;
    c.finish()?;

    let mut updated = Vec::new();
    let mut by_id: HashMap<String, Occurrence> = HashMap::new();
    for i in targets {
        let meeting = &meetings[i];
        let mut next = meeting.clone();
        if let Some(v) = &changes.title {
            next.title = v.clone();
        }
        if let Some(v) = changes.kind {
            next.kind = v;
        }
        if let Some(v) = &partner_ids {
            next.partner_ids = v.clone();
        }
        if changes.key_account_id.is_some() {
            next.key_account_id = key_account.clone();
        }
        if let Some(v) = &changes.organizer {
            next.organizer = v.clone();
        }
        if let Some(v) = &changes.organizer_email {
            next.organizer_email = v.clone();
        }
        if let Some(v) = &attendees {
            next.attendees = v.clone();
        }
        if let Some(v) = &changes.agenda {
            next.agenda = v.clone();
        }
        if let Some(v) = &changes.location {
            next.location = v.clone();
        }
        if let Some(v) = &changes.online_url {
            next.online_url = v.clone();
        }
        if new_tz.is_some() || start_time.is_some() || changes.duration_minutes.is_some() {
            let old_tz = store::tz_of(meeting)?;
            let tz = new_tz.unwrap_or(old_tz);
            let duration =
                changes.duration_minutes.map(Duration::minutes).unwrap_or(meeting.ends_at - meeting.starts_at);
            next.starts_at = series::move_local(old_tz, tz, meeting.starts_at, start_time);
            next.ends_at = next.starts_at + duration;
            next.timezone = tz.name().to_string();
        }
        if changes.status.is_some() {
            next.status = MeetingStatus::Cancelled;
            next.cancel_reason = changes.cancel_reason.clone();
            next.cancelled_at = Some(db::now().and_utc());
        }
        let mut c = Check::new();
        store::check_attendee_partners(&mut c, "changes.", &next);
        c.finish()?;
        store::ensure_partners_removable(conn, meeting, &next)?;
        let diff = audit::diff(Some(meeting), Some(&next));
        if diff.as_object().is_some_and(|o| o.is_empty()) {
            continue;
        }
        store::save(conn, meeting, &mut next)?;
        audit::record(conn, actor, "update", "meeting", &next.id, diff)?;
        by_id.insert(next.id.clone(), summary(&next));
        updated.push(summary(&next));
    }

    let mut next = current.clone();
    let t = &mut next.template;
    if let Some(v) = &changes.title {
        t.title = v.clone();
    }
    if let Some(v) = changes.kind {
        t.kind = v;
    }
    if let Some(v) = &partner_ids {
        t.partner_ids = v.clone();
    }
    if changes.key_account_id.is_some() {
        t.key_account_id = key_account;
    }
    if let Some(v) = &changes.organizer {
        t.organizer = v.clone();
    }
    if let Some(v) = &changes.organizer_email {
        t.organizer_email = v.clone();
    }
    if let Some(v) = attendees {
        t.attendees = v;
    }
    if let Some(v) = &changes.agenda {
        t.agenda = v.clone();
    }
    if let Some(v) = &changes.location {
        t.location = v.clone();
    }
    if let Some(v) = &changes.online_url {
        t.online_url = v.clone();
    }
    if let Some(tz) = new_tz {
        t.timezone = tz.name().to_string();
    }
    if let Some(st) = start_time {
        t.start_time = time_text(st);
    }
    if let Some(d) = changes.duration_minutes {
        t.duration_minutes = d;
    }
    next.occurrences =
        current.occurrences.iter().map(|o| by_id.get(&o.id).cloned().unwrap_or_else(|| o.clone())).collect();
    next.occurrences.sort_by(|a, b| (a.starts_at, &a.id).cmp(&(b.starts_at, &b.id)));
    let template_changes = audit::diff(Some(&current.template), Some(&next.template));
    save_series(conn, row, &mut next)?;
    audit::record(conn, actor, "update", "meeting_series", &next.id, audit::diff(Some(&current), Some(&next)))?;
    let from = match from {
        EditStart::Now => None,
        EditStart::Date(d) => Some(d.to_string()),
        EditStart::Occurrence(o) => Some(o),
    };
    let event = SeriesUpdated {
        snapshot: series_snapshot(conn, &next, updated)?,
        from,
        changes: template_changes,
        cancelled: changes.status.is_some(),
        cancel_reason: changes.cancel_reason.clone(),
    };
    events::emit(conn, &DomainEvent::MeetingSeriesUpdated(event))?;
    Ok(next)
}
