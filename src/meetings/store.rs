//! Meetings and action items in the database.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::events::{
    ActionItemOverdue, MeetingCancelled, MeetingHeld, MeetingRef, MeetingSnapshot, MeetingUpdated, PartnerRef,
};
use super::model::*;
use super::series;
use crate::access::Actor;
use crate::access::Scope;
use crate::audit;
use crate::db::schema::{
    action_items as ai, key_accounts as ka, meeting_partners as mp, meetings as m, partner_contacts as pc,
    partners as p,
};
use crate::db::{self, json as dbjson, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::validation::Check;

pub fn meeting_not_found() -> ApiError {
    ApiError::new(actix_web::http::StatusCode::NOT_FOUND, Code::MeetingNotFound, "meeting not found")
}

pub fn action_item_not_found() -> ApiError {
    ApiError::new(actix_web::http::StatusCode::NOT_FOUND, Code::ActionItemNotFound, "action item not found")
}

fn cancelled_conflict() -> ApiError {
    ApiError::conflict(Code::MeetingCancelled, "the meeting is cancelled and can no longer change")
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = m)]
#[diesel(treat_none_as_null = true)]
pub(super) struct MeetingRow {
    id: String,
    series_id: Option<String>,
    title: String,
    kind: String,
    partner_ids: String,
    key_account_id: Option<String>,
    organizer: String,
    organizer_email: Option<String>,
    attendees: String,
    agenda: String,
    location: Option<String>,
    online_url: Option<String>,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    timezone: String,
    status: String,
    minutes: Option<String>,
    decisions: String,
    cancel_reason: Option<String>,
    held_at: Option<NaiveDateTime>,
    cancelled_at: Option<NaiveDateTime>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl MeetingRow {
    pub(super) fn into_model(self) -> Result<Meeting, ApiError> {
        Ok(Meeting {
            id: self.id,
            series_id: self.series_id,
            title: self.title,
            kind: MeetingKind::from_db(&self.kind)?,
            partner_ids: dbjson::decode(&self.partner_ids)?,
            key_account_id: self.key_account_id,
            organizer: self.organizer,
            organizer_email: self.organizer_email,
            attendees: dbjson::decode(&self.attendees)?,
            agenda: dbjson::decode(&self.agenda)?,
            location: self.location,
            online_url: self.online_url,
            starts_at: self.starts_at.and_utc(),
            ends_at: self.ends_at.and_utc(),
            timezone: self.timezone,
            status: MeetingStatus::from_db(&self.status)?,
            minutes: self.minutes,
            decisions: dbjson::decode(&self.decisions)?,
            cancel_reason: self.cancel_reason,
            held_at: self.held_at.map(|t| t.and_utc()),
            cancelled_at: self.cancelled_at.map(|t| t.and_utc()),
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }

    fn from_model(x: &Meeting) -> Self {
        MeetingRow {
            id: x.id.clone(),
            series_id: x.series_id.clone(),
            title: x.title.clone(),
            kind: x.kind.as_str().into(),
            partner_ids: dbjson::encode(&x.partner_ids),
            key_account_id: x.key_account_id.clone(),
            organizer: x.organizer.clone(),
            organizer_email: x.organizer_email.clone(),
            attendees: dbjson::encode(&x.attendees),
            agenda: dbjson::encode(&x.agenda),
            location: x.location.clone(),
            online_url: x.online_url.clone(),
            starts_at: x.starts_at.naive_utc(),
            ends_at: x.ends_at.naive_utc(),
            timezone: x.timezone.clone(),
            status: x.status.as_str().into(),
            minutes: x.minutes.clone(),
            decisions: dbjson::encode(&x.decisions),
            cancel_reason: x.cancel_reason.clone(),
            held_at: x.held_at.map(|t| t.naive_utc()),
            cancelled_at: x.cancelled_at.map(|t| t.naive_utc()),
            version: x.version,
            created_at: x.created_at.naive_utc(),
            updated_at: x.updated_at.naive_utc(),
        }
    }
}

pub(super) fn rows_into_models(rows: Vec<MeetingRow>) -> Result<Vec<Meeting>, ApiError> {
    rows.into_iter().map(MeetingRow::into_model).collect()
}

/// The meeting's timezone (stored names were validated on the way in).
pub fn tz_of(meeting: &Meeting) -> Result<chrono_tz::Tz, ApiError> {
    series::parse_tz(&meeting.timezone)
        .ok_or_else(|| ApiError::internal(format!("unexpected timezone in the database: {:?}", meeting.timezone)))
}

fn visible(meeting: &Meeting, scope: &Scope) -> bool {
    match scope {
        Scope::All => true,
        Scope::Partner(own) => meeting.partner_ids.iter().any(|id| id == own),
    }
}

/// A meeting visible in `scope` (others are "not found").
pub fn get(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<Meeting, ApiError> {
    let row: Option<MeetingRow> = m::table.find(id).select(MeetingRow::as_select()).first(conn).optional()?;
    let meeting = row.ok_or_else(meeting_not_found)?.into_model()?;
    if !visible(&meeting, scope) {
        return Err(meeting_not_found());
    }
    Ok(meeting)
}

/// The partner a partner-scoped read is limited to, combined with a `partner_id` filter: `Err`
/// when the two disagree (nothing can match).
fn partner_constraint(scope: &Scope, filter: Option<&String>) -> Result<Option<String>, ()> {
    match (scope, filter) {
        (Scope::All, f) => Ok(f.cloned()),
        (Scope::Partner(own), None) => Ok(Some(own.clone())),
        (Scope::Partner(own), Some(f)) if f == own => Ok(Some(own.clone())),
        (Scope::Partner(_), Some(_)) => Err(()),
    }
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
    let Ok(partner) = partner_constraint(scope, filter.partner_id.as_ref()) else { return Ok(Vec::new()) };
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
                q = q.filter(m::status.eq(v.as_str()));
            }
            if let Some(v) = filter.kind {
                q = q.filter(m::kind.eq(v.as_str()));
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
            q.order(($start.asc(), $id.asc())).limit(page.limit + 1).select(MeetingRow::as_select()).load(conn)?
        }};
    }
    let rows: Vec<MeetingRow> = match partner {
        Some(pid) => filtered!(
            mp::table.inner_join(m::table).filter(mp::partner_id.eq(pid)).into_boxed(),
            mp::starts_at,
            mp::meeting_id
        ),
        None => filtered!(m::table.into_boxed(), m::starts_at, m::id),
    };
    rows_into_models(rows)
}

/// Scheduled meetings starting in `(from, to]`, for the reminder scan.
pub fn scheduled_between(conn: &mut DbConn, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Meeting>, ApiError> {
    let rows: Vec<MeetingRow> = m::table
        .filter(m::status.eq(MeetingStatus::Scheduled.as_str()))
        .filter(m::starts_at.gt(from.naive_utc()))
        .filter(m::starts_at.le(to.naive_utc()))
        .order((m::starts_at.asc(), m::id.asc()))
        .select(MeetingRow::as_select())
        .load(conn)?;
    rows_into_models(rows)
}

/// Meetings for a calendar feed: starting in the window, in start order, at most `limit`.
pub fn feed(conn: &mut DbConn, window: &FeedWindow, scope: &Scope, limit: usize) -> Result<Vec<Meeting>, ApiError> {
    let filter = MeetingFilter {
        partner_id: window.partner_id.clone(),
        from: Some(window.from),
        to: Some(window.to),
        ..Default::default()
    };
    list(conn, &filter, &PageRequest { limit: limit as i64, after: None }, scope)
}

/// `id → name` of the given partners.
pub fn partner_names(conn: &mut DbConn, ids: &[String]) -> Result<HashMap<String, String>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, String)> =
        p::table.filter(p::id.eq_any(ids.to_vec())).select((p::id, p::name)).load(conn)?;
    Ok(rows.into_iter().collect())
}

/// What every meeting event carries: the meeting as the API shows it, and its partners with
/// their names (so a message can be written from the event alone).
pub fn meeting_snapshot(conn: &mut DbConn, meeting: &Meeting) -> Result<MeetingSnapshot, ApiError> {
    let names = partner_names(conn, &meeting.partner_ids)?;
    Ok(MeetingSnapshot::new(meeting.clone(), &names))
}

/// The `action_item.overdue` payload: the item, its meeting in brief, and its partner.
pub fn overdue_notice(conn: &mut DbConn, item: &ActionItem) -> Result<ActionItemOverdue, ApiError> {
    let meeting: Option<(String, NaiveDateTime, String)> =
        m::table.find(&item.meeting_id).select((m::title, m::starts_at, m::timezone)).first(conn).optional()?;
    let meeting = meeting.map(|(title, starts_at, timezone)| MeetingRef {
        id: item.meeting_id.clone(),
        title,
        starts_at: starts_at.and_utc(),
        timezone,
    });
    let partner_ids = vec![item.partner_id.clone()];
    let partners = PartnerRef::list(&partner_ids, &partner_names(conn, &partner_ids)?);
    Ok(ActionItemOverdue { action_item: item.clone(), meeting, partner_ids, partners })
}

/// Checks the records a meeting refers to: current partners (when `check_partners`), a current key
/// account, and contacts of the meeting's partners. Problems are added to `c` under `prefix`; returns the attendees with
/// their contacts' details filled in.
pub fn resolve_refs(
    conn: &mut DbConn,
    c: &mut Check,
    prefix: &str,
    partner_ids: &[String],
    check_partners: bool,
    key_account_id: Option<&str>,
    attendees: Option<&[AttendeeRequest]>,
) -> Result<Option<Vec<Attendee>>, ApiError> {
    if check_partners {
        let current: Vec<String> = p::table
            .filter(p::id.eq_any(partner_ids.to_vec()))
            .filter(p::archived_at.is_null())
            .select(p::id)
            .load(conn)?;
        for (i, id) in partner_ids.iter().enumerate() {
            if !current.contains(id) {
                c.add(format!("{prefix}partner_ids[{i}]"), "is not a current partner");
            }
        }
    }
    if let Some(id) = key_account_id {
        let found: i64 = ka::table.filter(ka::id.eq(id)).filter(ka::archived_at.is_null()).count().get_result(conn)?;
        if found == 0 {
            c.add(format!("{prefix}key_account_id"), "is not a current key account");
        }
    }
    let Some(attendees) = attendees else { return Ok(None) };
    let contact_ids: Vec<String> = attendees
        .iter()
        .filter_map(|a| a.contact_id.as_deref().and_then(|id| uuid::Uuid::parse_str(id).ok()))
        .map(|u| u.hyphenated().to_string())
        .collect();
    type ContactInfo = (String, String, String, Option<String>, Option<String>, Option<String>);
    let contacts: Vec<ContactInfo> = if contact_ids.is_empty() {
        Vec::new()
    } else {
        pc::table
            .filter(pc::id.eq_any(contact_ids))
            .select((pc::id, pc::partner_id, pc::name, pc::email, pc::wecom_userid, pc::dingtalk_userid))
            .load(conn)?
    };
    let mut out = Vec::with_capacity(attendees.len());
    for (i, a) in attendees.iter().enumerate() {
        let mut attendee = Attendee {
            name: a.name.clone().unwrap_or_default(),
            contact_id: None,
            partner_id: None,
            email: a.email.clone(),
            wecom_userid: a.wecom_userid.clone(),
            dingtalk_userid: a.dingtalk_userid.clone(),
        };
        if let Some(raw) = &a.contact_id {
            let id = uuid::Uuid::parse_str(raw).map(|u| u.hyphenated().to_string()).unwrap_or_default();
            match contacts.iter().find(|ct| ct.0 == id) {
                None => c.add(format!("{prefix}attendees[{i}].contact_id"), "is not a partner contact"),
                Some((cid, partner_id, name, email, wecom, dingtalk)) => {
                    if !partner_ids.contains(partner_id) {
                        c.add(
                            format!("{prefix}attendees[{i}].contact_id"),
                            "is a contact of a partner that is not in the meeting",
                        );
                    }
                    attendee.contact_id = Some(cid.clone());
                    attendee.partner_id = Some(partner_id.clone());
                    if a.name.is_none() {
                        attendee.name = name.clone();
                    }
                    attendee.email = attendee.email.or_else(|| email.clone());
                    attendee.wecom_userid = attendee.wecom_userid.or_else(|| wecom.clone());
                    attendee.dingtalk_userid = attendee.dingtalk_userid.or_else(|| dingtalk.clone());
                }
            }
        }
        out.push(attendee);
    }
    Ok(Some(out))
}

fn write_partners(conn: &mut DbConn, meeting: &Meeting) -> Result<(), ApiError> {
    diesel::delete(mp::table.filter(mp::meeting_id.eq(&meeting.id))).execute(conn)?;
    // One row at a time: multi-row VALUES is not available through the multi-backend connection.
    for pid in &meeting.partner_ids {
        diesel::insert_into(mp::table)
            .values((
                mp::meeting_id.eq(&meeting.id),
                mp::partner_id.eq(pid),
                mp::starts_at.eq(meeting.starts_at.naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Inserts a new meeting with its partner rows and audit record (no event: callers choose).
pub fn insert(conn: &mut DbConn, actor: &Actor, meeting: &Meeting) -> Result<(), ApiError> {
    diesel::insert_into(m::table).values(MeetingRow::from_model(meeting)).execute(conn)?;
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
    let attendees = resolve_refs(
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
pub(super) fn save(conn: &mut DbConn, current: &Meeting, next: &mut Meeting) -> Result<(), ApiError> {
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(m::table.filter(m::id.eq(&current.id).and(m::version.eq(current.version))))
        .set(MeetingRow::from_model(next))
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    if next.partner_ids != current.partner_ids || next.starts_at != current.starts_at {
        write_partners(conn, next)?;
    }
    if next.timezone != current.timezone {
        refresh_overdue_at(conn, next)?;
    }
    Ok(())
}

/// Partners dropped from a meeting must not leave its action items behind.
pub(super) fn ensure_partners_removable(conn: &mut DbConn, current: &Meeting, next: &Meeting) -> Result<(), ApiError> {
    let removed: Vec<String> =
        current.partner_ids.iter().filter(|id| !next.partner_ids.contains(id)).cloned().collect();
    if removed.is_empty() {
        return Ok(());
    }
    let n: i64 = ai::table
        .filter(ai::meeting_id.eq(&current.id))
        .filter(ai::partner_id.eq_any(removed))
        .count()
        .get_result(conn)?;
    if n > 0 {
        return Err(ApiError::conflict(
            Code::PartnerHasActionItems,
            "a partner with action items from this meeting cannot be removed from it",
        ));
    }
    Ok(())
}

/// Attendees linked to contacts must belong to the meeting's partners.
pub(super) fn check_attendee_partners(c: &mut Check, prefix: &str, meeting: &Meeting) {
    for (i, a) in meeting.attendees.iter().enumerate() {
        if let Some(pid) = &a.partner_id {
            if !meeting.partner_ids.contains(pid) {
                c.add(
                    format!("{prefix}attendees[{i}].contact_id"),
                    "is a contact of a partner that is not in the meeting",
                );
            }
        }
    }
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
    if current.status == MeetingStatus::Cancelled {
        return Err(cancelled_conflict());
    }
    let target = patch.status.unwrap_or(current.status);
    if !current.status.can_move_to(target) {
        return Err(ApiError::conflict(
            Code::InvalidStatusTransition,
            format!("a meeting cannot move from {} to {target}", current.status),
        ));
    }
    if current.status == MeetingStatus::Held && patch.touches_schedule() {
        return Err(ApiError::conflict(
            Code::MeetingHeld,
            "a held meeting keeps its time, timezone and partners; only its record can change",
        ));
    }
    let holding = current.status == MeetingStatus::Scheduled && target == MeetingStatus::Held;
    let cancelling = current.status == MeetingStatus::Scheduled && target == MeetingStatus::Cancelled;

    let mut next = current.clone();
    if let Some(v) = &patch.title {
        next.title = v.clone();
    }
    if let Some(v) = patch.kind {
        next.kind = v;
    }
    if let Some(v) = partner_ids {
        next.partner_ids = v;
    }
    if let Some(v) = &patch.key_account_id {
        next.key_account_id = v.as_deref().and_then(|s| uuid::Uuid::parse_str(s).ok()).map(|u| u.to_string());
    }
    if let Some(v) = &patch.organizer {
        next.organizer = v.clone();
    }
    if let Some(v) = &patch.organizer_email {
        next.organizer_email = v.clone();
    }
    if let Some(v) = &patch.agenda {
        next.agenda = v.clone();
    }
    if let Some(v) = &patch.location {
        next.location = v.clone();
    }
    if let Some(v) = &patch.online_url {
        next.online_url = v.clone();
    }
    if let Some(v) = patch.starts_at {
        next.starts_at = to_second(v);
    }
    if let Some(v) = patch.ends_at {
        next.ends_at = to_second(v);
    }
    if let Some(v) = &patch.timezone {
        if let Some(tz) = series::parse_tz(v) {
            next.timezone = tz.name().to_string();
        }
    }
    if let Some(v) = &patch.minutes {
        next.minutes = v.clone();
    }
    if let Some(v) = &patch.decisions {
        next.decisions = v.clone();
    }
    next.status = target;

    // Rules across fields, on the meeting as it would be.
    let mut c = Check::new();
    if patch.starts_at.is_some() || patch.ends_at.is_some() {
        check_times(&mut c, "ends_at", next.starts_at, next.ends_at);
    }
    if target == MeetingStatus::Held {
        if next.minutes.is_none() {
            c.add("minutes", "is required to mark a meeting held");
        }
    } else {
        if patch.minutes.as_ref().is_some_and(Option::is_some) {
            c.add("minutes", "only a held meeting has minutes: send it with \"status\": \"held\"");
        }
        if patch.decisions.as_ref().is_some_and(|d| !d.is_empty()) {
            c.add("decisions", "only a held meeting has decisions: send them with \"status\": \"held\"");
        }
    }
    if cancelling {
        match &patch.cancel_reason {
            None => c.add("cancel_reason", "is required to cancel a meeting"),
            Some(r) => {
                next.cancel_reason = Some(r.clone());
                next.cancelled_at = Some(db::now().and_utc());
            }
        }
    } else if patch.cancel_reason.is_some() {
        c.add("cancel_reason", "is only accepted with \"status\": \"cancelled\"");
    }
    if patch.action_items.is_some() && !holding {
        c.add(
            "action_items",
            "can only come with \"status\": \"held\"; add others through /meetings/{id}/action-items",
        );
    }
    let refs_changed = patch.partner_ids.is_some() || patch.attendees.is_some() || patch.key_account_id.is_some();
    if refs_changed {
        let key_account = if patch.key_account_id.is_some() { next.key_account_id.clone() } else { None };
        let resolved = resolve_refs(
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
            None => check_attendee_partners(&mut c, "", &next),
        }
    }
    let mut new_items = Vec::new();
    if let Some(items) = patch.action_items.as_ref().filter(|_| holding) {
        for (i, item) in items.iter().enumerate() {
            match item_partner(&next, item.partner_id.as_deref()) {
                Ok(pid) => new_items.push((item, pid)),
                Err(msg) => c.add(format!("action_items[{i}].partner_id"), msg),
            }
        }
    }
    c.finish()?;
    ensure_partners_removable(conn, &current, &next)?;
    if holding {
        next.held_at = Some(db::now().and_utc());
    }

    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|o| o.is_empty()) && new_items.is_empty() {
        return Ok(current);
    }
    save(conn, &current, &mut next)?;
    audit::record(conn, actor, "update", "meeting", id, changes.clone())?;
    let tz = tz_of(&next)?;
    for (item, pid) in new_items {
        insert_action_item(conn, actor, &next, tz, item, pid)?;
    }
    let snapshot = meeting_snapshot(conn, &next)?;
    let event = if holding {
        let now = db::now().and_utc();
        let action_items = meeting_items(conn, id, &Scope::All, None, i64::MAX)?
            .into_iter()
            .map(|r| r.into_model(now))
            .collect::<Result<Vec<_>, _>>()?;
        DomainEvent::MeetingHeld(MeetingHeld { snapshot, decisions: next.decisions.clone(), action_items, changes })
    } else if cancelling {
        DomainEvent::MeetingCancelled(MeetingCancelled { snapshot, cancel_reason: next.cancel_reason.clone() })
    } else {
        DomainEvent::MeetingUpdated(MeetingUpdated { snapshot, changes })
    };
    events::emit(conn, &event)?;
    Ok(next)
}

/// The meeting with its action items and the open items carried over from earlier meetings with
/// any of its partners (partner keys see only their own partner's items).
pub fn detail(conn: &mut DbConn, id: &str, scope: &Scope, now: DateTime<Utc>) -> Result<MeetingDetail, ApiError> {
    let meeting = get(conn, id, scope)?;
    let own = meeting_items(conn, id, scope, None, i64::MAX)?
        .into_iter()
        .map(|r| r.into_model(now))
        .collect::<Result<Vec<_>, _>>()?;
    let partners: Vec<String> = match scope {
        Scope::All => meeting.partner_ids.clone(),
        Scope::Partner(own) => vec![own.clone()],
    };
    let rows: Vec<ActionItemRow> = ai::table
        .inner_join(m::table)
        .filter(ai::status.eq(ActionItemStatus::Open.as_str()))
        .filter(ai::partner_id.eq_any(partners))
        .filter(m::starts_at.lt(meeting.starts_at.naive_utc()))
        .filter(ai::meeting_id.ne(&meeting.id))
        .order((ai::due_sort.asc(), ai::id.asc()))
        .limit(200)
        .select(ActionItemRow::as_select())
        .load(conn)?;
    let carried = rows.into_iter().map(|r| r.into_model(now)).collect::<Result<_, _>>()?;
    Ok(MeetingDetail { meeting, action_items: own, carried_over_action_items: carried })
}

// ---- action items ----

#[derive(Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ai)]
#[diesel(treat_none_as_null = true)]
pub struct ActionItemRow {
    id: String,
    meeting_id: String,
    title: String,
    owner: String,
    partner_id: String,
    due_date: Option<String>,
    due_sort: String,
    overdue_at: Option<NaiveDateTime>,
    overdue_notified_at: Option<NaiveDateTime>,
    status: String,
    done_at: Option<NaiveDateTime>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl ActionItemRow {
    pub fn into_model(self, now: DateTime<Utc>) -> Result<ActionItem, ApiError> {
        let status = ActionItemStatus::from_db(&self.status)?;
        let due_date = match &self.due_date {
            None => None,
            Some(d) => Some(
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| ApiError::internal(format!("unexpected due date in the database: {d:?}")))?,
            ),
        };
        Ok(ActionItem {
            overdue: status == ActionItemStatus::Open && self.overdue_at.is_some_and(|t| t.and_utc() <= now),
            id: self.id,
            meeting_id: self.meeting_id,
            title: self.title,
            owner: self.owner,
            partner_id: self.partner_id,
            due_date,
            status,
            done_at: self.done_at.map(|t| t.and_utc()),
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

fn due_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The partner an item goes to: the given one if it is in the meeting, else the meeting's only
/// partner.
fn item_partner(meeting: &Meeting, given: Option<&str>) -> Result<String, &'static str> {
    match given {
        Some(raw) => {
            let id = uuid::Uuid::parse_str(raw).map(|u| u.hyphenated().to_string()).unwrap_or_default();
            if meeting.partner_ids.contains(&id) {
                Ok(id)
            } else {
                Err("must be one of the meeting's partners")
            }
        }
        None => match meeting.partner_ids.as_slice() {
            [only] => Ok(only.clone()),
            _ => Err("is required when the meeting has several partners"),
        },
    }
}

fn insert_action_item(
    conn: &mut DbConn,
    actor: &Actor,
    meeting: &Meeting,
    tz: chrono_tz::Tz,
    input: &ActionItemCreate,
    partner_id: String,
) -> Result<ActionItemRow, ApiError> {
    let now = db::now();
    let row = ActionItemRow {
        id: db::new_id(),
        meeting_id: meeting.id.clone(),
        title: input.title.clone(),
        owner: input.owner.clone(),
        partner_id,
        due_date: input.due_date.map(due_text),
        due_sort: due_sort(input.due_date),
        overdue_at: input.due_date.and_then(|d| series::end_of_day(tz, d)).map(|t| t.naive_utc()),
        overdue_notified_at: None,
        status: ActionItemStatus::Open.as_str().into(),
        done_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(ai::table).values(&row).execute(conn)?;
    let model = row.clone().into_model(now.and_utc())?;
    audit::record(conn, actor, "create", "action_item", &row.id, audit::diff(None::<&ActionItem>, Some(&model)))?;
    Ok(row)
}

pub fn create_action_item(
    conn: &mut DbConn,
    actor: &Actor,
    meeting_id: &str,
    input: &ActionItemCreate,
    now: DateTime<Utc>,
) -> Result<ActionItem, ApiError> {
    input.validate()?;
    let meeting = get(conn, meeting_id, &Scope::All)?;
    if meeting.status == MeetingStatus::Cancelled {
        return Err(cancelled_conflict());
    }
    let pid = item_partner(&meeting, input.partner_id.as_deref()).map_err(|msg| ApiError::field("partner_id", msg))?;
    let row = insert_action_item(conn, actor, &meeting, tz_of(&meeting)?, input, pid)?;
    row.into_model(now)
}

/// A meeting's items in the order they were added (`after` is the previous page's last id).
fn meeting_items(
    conn: &mut DbConn,
    meeting_id: &str,
    scope: &Scope,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ActionItemRow>, ApiError> {
    let mut q = ai::table.filter(ai::meeting_id.eq(meeting_id.to_string())).into_boxed();
    if let Scope::Partner(own) = scope {
        q = q.filter(ai::partner_id.eq(own.clone()));
    }
    if let Some(after) = after {
        q = q.filter(ai::id.gt(after.to_string()));
    }
    Ok(q.order(ai::id.asc()).limit(limit).select(ActionItemRow::as_select()).load(conn)?)
}

pub fn list_meeting_items(
    conn: &mut DbConn,
    meeting_id: &str,
    page: &PageRequest,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<ActionItem>, ApiError> {
    get(conn, meeting_id, scope)?;
    let after = page.after.as_ref().map(|a| a[0].as_str());
    meeting_items(conn, meeting_id, scope, after, page.limit + 1)?.into_iter().map(|r| r.into_model(now)).collect()
}

fn get_item_row(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<ActionItemRow, ApiError> {
    let row: Option<ActionItemRow> = ai::table.find(id).select(ActionItemRow::as_select()).first(conn).optional()?;
    let row = row.ok_or_else(action_item_not_found)?;
    if !scope.allows(&row.partner_id) {
        return Err(action_item_not_found());
    }
    Ok(row)
}

pub fn get_action_item(conn: &mut DbConn, id: &str, scope: &Scope, now: DateTime<Utc>) -> Result<ActionItem, ApiError> {
    get_item_row(conn, id, scope)?.into_model(now)
}

/// Items across meetings, soonest due first (undated last), then by id.
pub fn list_action_items(
    conn: &mut DbConn,
    filter: &ActionItemFilter,
    page: &PageRequest,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<ActionItem>, ApiError> {
    let Ok(partner) = partner_constraint(scope, filter.partner_id.as_ref()) else { return Ok(Vec::new()) };
    let mut q = ai::table.into_boxed();
    if let Some(pid) = partner {
        q = q.filter(ai::partner_id.eq(pid));
    }
    if let Some(v) = &filter.owner {
        q = q.filter(ai::owner.eq(v.clone()));
    }
    if let Some(v) = filter.status {
        q = q.filter(ai::status.eq(v.as_str()));
    }
    if let Some(v) = &filter.meeting_id {
        q = q.filter(ai::meeting_id.eq(v.clone()));
    }
    let now_naive = now.naive_utc();
    match filter.overdue {
        Some(true) => {
            q = q.filter(ai::status.eq(ActionItemStatus::Open.as_str())).filter(ai::overdue_at.le(now_naive));
        }
        Some(false) => {
            q = q.filter(
                ai::status
                    .ne(ActionItemStatus::Open.as_str())
                    .or(ai::overdue_at.is_null())
                    .or(ai::overdue_at.gt(now_naive)),
            );
        }
        None => {}
    }
    if let Some(after) = &page.after {
        let (due, id) = (after[0].clone(), after[1].clone());
        q = q.filter(ai::due_sort.gt(due.clone()).or(ai::due_sort.eq(due).and(ai::id.gt(id))));
    }
    let rows: Vec<ActionItemRow> = q
        .order((ai::due_sort.asc(), ai::id.asc()))
        .limit(page.limit + 1)
        .select(ActionItemRow::as_select())
        .load(conn)?;
    rows.into_iter().map(|r| r.into_model(now)).collect()
}

pub fn item_cursor(item: &ActionItem) -> Vec<String> {
    vec![due_sort(item.due_date), item.id.clone()]
}

pub fn update_action_item(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &ActionItemUpdate,
    now: DateTime<Utc>,
) -> Result<ActionItem, ApiError> {
    patch.validate()?;
    let row = get_item_row(conn, id, &Scope::All)?;
    let current = row.clone().into_model(now)?;
    etag::check(expected, current.version)?;
    if current.status != ActionItemStatus::Open {
        return Err(ApiError::conflict(
            Code::ActionItemClosed,
            format!("the action item is {} and can no longer change", current.status),
        ));
    }
    let meeting = get(conn, &current.meeting_id, &Scope::All)?;
    let mut next = row.clone();
    if let Some(v) = &patch.title {
        next.title = v.clone();
    }
    if let Some(v) = &patch.owner {
        next.owner = v.clone();
    }
    if let Some(v) = &patch.partner_id {
        next.partner_id = item_partner(&meeting, Some(v)).map_err(|msg| ApiError::field("partner_id", msg))?;
    }
    if let Some(v) = patch.due_date {
        next.due_date = v.map(due_text);
        next.due_sort = due_sort(v);
        next.overdue_at = v.and_then(|d| series::end_of_day(tz_of(&meeting).ok()?, d)).map(|t| t.naive_utc());
        if next.due_date != row.due_date {
            next.overdue_notified_at = None;
        }
    }
    if let Some(v) = patch.status {
        next.status = v.as_str().into();
        if v == ActionItemStatus::Done {
            next.done_at = Some(db::now());
        }
    }
    let next_model = next.clone().into_model(now)?;
    let changes = audit::diff(Some(&current), Some(&next_model));
    if changes.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(current);
    }
    next.version = row.version + 1;
    next.updated_at = db::now();
    let updated =
        diesel::update(ai::table.filter(ai::id.eq(id)).filter(ai::version.eq(row.version))).set(&next).execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, "update", "action_item", id, changes)?;
    next.into_model(now)
}

/// Recomputes when a meeting's items become overdue after its timezone changed.
fn refresh_overdue_at(conn: &mut DbConn, meeting: &Meeting) -> Result<(), ApiError> {
    let tz = tz_of(meeting)?;
    let items: Vec<(String, Option<String>)> =
        ai::table.filter(ai::meeting_id.eq(&meeting.id)).select((ai::id, ai::due_date)).load(conn)?;
    for (id, due) in items {
        let at = due
            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
            .and_then(|d| series::end_of_day(tz, d))
            .map(|t| t.naive_utc());
        diesel::update(ai::table.filter(ai::id.eq(id))).set(ai::overdue_at.eq(at)).execute(conn)?;
    }
    Ok(())
}

/// Open items looked at to find one person's (the attendee match is checked in Rust).
const MAX_OWNER_SCAN: i64 = 1000;

/// One person's open action items, soonest due first (undated last), at most `limit`, within
/// `scope`, each with its meeting's title. An item is theirs when its owner (free text) is exactly
/// one of `names` (their userid and the names they go by, e.g. as a partner contact), or exactly the
/// name of an attendee of the item's meeting who carries `userid`.
pub fn open_items_of(
    conn: &mut DbConn,
    names: &[String],
    userid: ChatUserid<'_>,
    scope: &Scope,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<(ActionItem, String)>, ApiError> {
    // Meetings whose stored attendees (compact JSON) carry the userid; verified below, since LIKE
    // ignores case on SQLite.
    let needle = format!("\"{}\":{}", userid.field(), dbjson::encode(userid.value()));
    let attended = m::attendees.like(crate::db::like_pattern(&needle)).escape('\\');
    let mut q = ai::table
        .inner_join(m::table)
        .filter(ai::status.eq(ActionItemStatus::Open.as_str()))
        .filter(ai::owner.eq_any(names.to_vec()).or(attended))
        .into_boxed();
    if let Scope::Partner(own) = scope {
        q = q.filter(ai::partner_id.eq(own.clone()));
    }
    let rows: Vec<(ActionItemRow, String, String)> = q
        .order((ai::due_sort.asc(), ai::id.asc()))
        .limit(MAX_OWNER_SCAN)
        .select((ActionItemRow::as_select(), m::title, m::attendees))
        .load(conn)?;
    let mut out = Vec::new();
    for (row, title, attendees) in rows {
        let mine = names.contains(&row.owner) || {
            let attendees: Vec<Attendee> = dbjson::decode(&attendees)?;
            attendees.iter().any(|a| userid.is(a) && a.name == row.owner)
        };
        if mine {
            out.push((row.into_model(now)?, title));
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

/// How many open action items `partner_id` has, and how many of them are overdue at `now`
/// (none when `scope` does not allow the partner).
pub fn open_item_counts(
    conn: &mut DbConn,
    partner_id: &str,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<(i64, i64), ApiError> {
    if !scope.allows(partner_id) {
        return Ok((0, 0));
    }
    let open = ai::table.filter(ai::partner_id.eq(partner_id)).filter(ai::status.eq(ActionItemStatus::Open.as_str()));
    let total: i64 = open.count().get_result(conn)?;
    let overdue: i64 = open.filter(ai::overdue_at.le(now.naive_utc())).count().get_result(conn)?;
    Ok((total, overdue))
}

/// Open items past their due date that the overdue scan has not announced yet.
pub fn newly_overdue(conn: &mut DbConn, now: DateTime<Utc>, limit: i64) -> Result<Vec<ActionItem>, ApiError> {
    let rows: Vec<ActionItemRow> = ai::table
        .filter(ai::status.eq(ActionItemStatus::Open.as_str()))
        .filter(ai::overdue_notified_at.is_null())
        .filter(ai::overdue_at.le(now.naive_utc()))
        .order(ai::overdue_at.asc())
        .limit(limit)
        .select(ActionItemRow::as_select())
        .load(conn)?;
    rows.into_iter().map(|r| r.into_model(now)).collect()
}
