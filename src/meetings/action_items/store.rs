//! Action items in the database. An item's meeting is read through the room's shared queries
//! (never the meetings store, which builds on this one: holding a meeting creates items).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use super::model::*;
use crate::access::{Actor, Scope};
use crate::audit;
use crate::db::schema::{action_items as ai, meetings as m};
use crate::db::types::UtcTime;
use crate::db::{self, json as dbjson, DbConn};
use crate::error::{ApiError, Code};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::meetings::events::{ActionItemOverdue, MeetingRef, PartnerRef};
use crate::meetings::meetings::model::{Meeting, MeetingStatus};
use crate::meetings::meetings::patch::cancelled_conflict;
use crate::meetings::model::{partner_constraint, Attendee, ChatUserid};
use crate::meetings::store as shared;
use crate::meetings::time;

/// An item as stored: beside what the API shows, when it becomes overdue (midnight ending its due
/// date in the meeting's timezone, so `overdue` is one comparison at read time), its sort key, and
/// whether the overdue scan announced it.
#[derive(Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ai, treat_none_as_null = true)]
pub struct ActionItemRow {
    id: String,
    meeting_id: String,
    title: String,
    owner: String,
    partner_id: String,
    due_date: Option<String>,
    due_sort: String,
    #[diesel(serialize_as = UtcTime)]
    overdue_at: Option<DateTime<Utc>>,
    #[diesel(serialize_as = UtcTime)]
    overdue_notified_at: Option<DateTime<Utc>>,
    status: ActionItemStatus,
    #[diesel(serialize_as = UtcTime)]
    done_at: Option<DateTime<Utc>>,
    version: i64,
    #[diesel(serialize_as = UtcTime)]
    created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    updated_at: DateTime<Utc>,
}

impl ActionItemRow {
    pub fn into_model(self, now: DateTime<Utc>) -> Result<ActionItem, ApiError> {
        let due_date = match &self.due_date {
            None => None,
            Some(d) => Some(
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| ApiError::internal(format!("unexpected due date in the database: {d:?}")))?,
            ),
        };
        Ok(ActionItem {
            overdue: self.status == ActionItemStatus::Open && self.overdue_at.is_some_and(|t| t <= now),
            id: self.id,
            meeting_id: self.meeting_id,
            title: self.title,
            owner: self.owner,
            partner_id: self.partner_id,
            due_date,
            status: self.status,
            done_at: self.done_at,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn into_models(rows: Vec<ActionItemRow>, now: DateTime<Utc>) -> Result<Vec<ActionItem>, ApiError> {
    rows.into_iter().map(|r| r.into_model(now)).collect()
}

/// When an item due on `due` in `tz` becomes overdue.
fn overdue_at(tz: Tz, due: Option<NaiveDate>) -> Option<DateTime<Utc>> {
    due.and_then(|d| time::end_of_day(tz, d))
}

/// Adds an item to `meeting` (its partner already checked) with its audit record.
pub fn insert(
    conn: &mut DbConn,
    actor: &Actor,
    meeting: &Meeting,
    tz: Tz,
    input: &ActionItemCreate,
    partner_id: String,
) -> Result<ActionItemRow, ApiError> {
    let now = db::now().and_utc();
    let row = ActionItemRow {
        id: db::new_id(),
        meeting_id: meeting.id.clone(),
        title: input.title.clone(),
        owner: input.owner.clone(),
        partner_id,
        due_date: input.due_date.map(due_text),
        due_sort: due_sort(input.due_date),
        overdue_at: overdue_at(tz, input.due_date),
        overdue_notified_at: None,
        status: ActionItemStatus::Open,
        done_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(ai::table).values(row.clone()).execute(conn)?;
    let model = row.clone().into_model(now)?;
    audit::record(conn, actor, "create", "action_item", &row.id, audit::diff(None::<&ActionItem>, Some(&model)))?;
    Ok(row)
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    meeting_id: &str,
    input: &ActionItemCreate,
    now: DateTime<Utc>,
) -> Result<ActionItem, ApiError> {
    input.validate()?;
    let meeting = shared::meeting(conn, meeting_id, &Scope::All)?;
    if meeting.status == MeetingStatus::Cancelled {
        return Err(cancelled_conflict());
    }
    let pid = item_partner(&meeting.partner_ids, input.partner_id.as_deref())
        .map_err(|msg| ApiError::field("partner_id", msg))?;
    let row = insert(conn, actor, &meeting, meeting.tz()?, input, pid)?;
    row.into_model(now)
}

/// A meeting's items in the order they were added (`after` is the previous page's last id);
/// partner keys get their partner's.
pub fn of_meeting(
    conn: &mut DbConn,
    meeting_id: &str,
    scope: &Scope,
    after: Option<&str>,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<ActionItem>, ApiError> {
    let mut q = ai::table.filter(ai::meeting_id.eq(meeting_id.to_string())).into_boxed();
    if let Scope::Partner(own) = scope {
        q = q.filter(ai::partner_id.eq(own.clone()));
    }
    if let Some(after) = after {
        q = q.filter(ai::id.gt(after.to_string()));
    }
    into_models(q.order(ai::id.asc()).limit(limit).select(ActionItemRow::as_select()).load(conn)?, now)
}

/// A page of a meeting's items (404 when the meeting is not visible).
pub fn list_for_meeting(
    conn: &mut DbConn,
    meeting_id: &str,
    page: &PageRequest,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<ActionItem>, ApiError> {
    shared::meeting(conn, meeting_id, scope)?;
    let after = page.after.as_ref().map(|a| a[0].as_str());
    of_meeting(conn, meeting_id, scope, after, page.limit + 1, now)
}

/// Open items from meetings that started before `meeting`, assigned to one of its partners (a
/// partner key: its own), soonest due first, at most 200: the progress review.
pub fn carried_over(
    conn: &mut DbConn,
    meeting: &Meeting,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<ActionItem>, ApiError> {
    let partners: Vec<String> = match scope {
        Scope::All => meeting.partner_ids.clone(),
        Scope::Partner(own) => vec![own.clone()],
    };
    let rows: Vec<ActionItemRow> = ai::table
        .inner_join(m::table)
        .filter(ai::status.eq(ActionItemStatus::Open))
        .filter(ai::partner_id.eq_any(partners))
        .filter(m::starts_at.lt(meeting.starts_at.naive_utc()))
        .filter(ai::meeting_id.ne(&meeting.id))
        .order((ai::due_sort.asc(), ai::id.asc()))
        .limit(200)
        .select(ActionItemRow::as_select())
        .load(conn)?;
    into_models(rows, now)
}

/// How many of a meeting's items are assigned to one of `partners`.
pub fn count_for_partners(conn: &mut DbConn, meeting_id: &str, partners: &[String]) -> Result<i64, ApiError> {
    Ok(ai::table
        .filter(ai::meeting_id.eq(meeting_id))
        .filter(ai::partner_id.eq_any(partners.to_vec()))
        .count()
        .get_result(conn)?)
}

fn get_item_row(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<ActionItemRow, ApiError> {
    let row: Option<ActionItemRow> = ai::table.find(id).select(ActionItemRow::as_select()).first(conn).optional()?;
    let row = row.ok_or_else(action_item_not_found)?;
    if !scope.allows(&row.partner_id) {
        return Err(action_item_not_found());
    }
    Ok(row)
}

pub fn get(conn: &mut DbConn, id: &str, scope: &Scope, now: DateTime<Utc>) -> Result<ActionItem, ApiError> {
    get_item_row(conn, id, scope)?.into_model(now)
}

/// Items across meetings, soonest due first (undated last), then by id.
pub fn list(
    conn: &mut DbConn,
    filter: &ActionItemFilter,
    page: &PageRequest,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<ActionItem>, ApiError> {
    let Some(partner) = partner_constraint(scope, filter.partner_id.as_ref()) else { return Ok(Vec::new()) };
    let mut q = ai::table.into_boxed();
    if let Some(pid) = partner {
        q = q.filter(ai::partner_id.eq(pid));
    }
    if let Some(v) = &filter.owner {
        q = q.filter(ai::owner.eq(v.clone()));
    }
    if let Some(v) = filter.status {
        q = q.filter(ai::status.eq(v));
    }
    if let Some(v) = &filter.meeting_id {
        q = q.filter(ai::meeting_id.eq(v.clone()));
    }
    match filter.overdue {
        Some(true) => {
            q = q.filter(ai::status.eq(ActionItemStatus::Open)).filter(ai::overdue_at.le(now.naive_utc()));
        }
        Some(false) => {
            q = q.filter(
                ai::status
                    .ne(ActionItemStatus::Open)
                    .or(ai::overdue_at.is_null())
                    .or(ai::overdue_at.gt(now.naive_utc())),
            );
        }
        None => {}
    }
    if let Some(after) = &page.after {
        let (due, id) = (after[0].clone(), after[1].clone());
        q = q.filter(ai::due_sort.gt(due.clone()).or(ai::due_sort.eq(due).and(ai::id.gt(id))));
    }
    let rows = q.order((ai::due_sort.asc(), ai::id.asc())).limit(page.limit + 1).select(ActionItemRow::as_select());
    into_models(rows.load(conn)?, now)
}

pub fn cursor_of(item: &ActionItem) -> Vec<String> {
    vec![due_sort(item.due_date), item.id.clone()]
}

pub fn update(
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
    let meeting = shared::meeting(conn, &current.meeting_id, &Scope::All)?;
    let mut next = row.clone();
    if let Some(v) = &patch.title {
        next.title = v.clone();
    }
    if let Some(v) = &patch.owner {
        next.owner = v.clone();
    }
    if let Some(v) = &patch.partner_id {
        next.partner_id =
            item_partner(&meeting.partner_ids, Some(v)).map_err(|msg| ApiError::field("partner_id", msg))?;
    }
    if let Some(v) = patch.due_date {
        next.due_date = v.map(due_text);
        next.due_sort = due_sort(v);
        next.overdue_at = overdue_at(meeting.tz()?, v);
        if next.due_date != row.due_date {
            next.overdue_notified_at = None;
        }
    }
    if let Some(v) = patch.status {
        next.status = v;
        if v == ActionItemStatus::Done {
            next.done_at = Some(db::now().and_utc());
        }
    }
    let next_model = next.clone().into_model(now)?;
    let changes = audit::diff(Some(&current), Some(&next_model));
    if changes.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(current);
    }
    next.version = row.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(ai::table.filter(ai::id.eq(id)).filter(ai::version.eq(row.version)))
        .set(next.clone())
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, "update", "action_item", id, changes)?;
    next.into_model(now)
}

/// Recomputes when a meeting's items become overdue after its timezone changed.
pub fn refresh_overdue_at(conn: &mut DbConn, meeting: &Meeting) -> Result<(), ApiError> {
    let tz = meeting.tz()?;
    let items: Vec<(String, Option<String>)> =
        ai::table.filter(ai::meeting_id.eq(&meeting.id)).select((ai::id, ai::due_date)).load(conn)?;
    for (id, due) in items {
        let at = overdue_at(tz, due.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()));
        diesel::update(ai::table.filter(ai::id.eq(id))).set(ai::overdue_at.eq(UtcTime::from(at))).execute(conn)?;
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
        .filter(ai::status.eq(ActionItemStatus::Open))
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
    let open = ai::table.filter(ai::partner_id.eq(partner_id)).filter(ai::status.eq(ActionItemStatus::Open));
    let total: i64 = open.count().get_result(conn)?;
    let overdue: i64 = open.filter(ai::overdue_at.le(now.naive_utc())).count().get_result(conn)?;
    Ok((total, overdue))
}

/// Open items past their due date that the overdue scan has not announced yet.
pub fn newly_overdue(conn: &mut DbConn, now: DateTime<Utc>, limit: i64) -> Result<Vec<ActionItem>, ApiError> {
    let rows: Vec<ActionItemRow> = ai::table
        .filter(ai::status.eq(ActionItemStatus::Open))
        .filter(ai::overdue_notified_at.is_null())
        .filter(ai::overdue_at.le(now.naive_utc()))
        .order(ai::overdue_at.asc())
        .limit(limit)
        .select(ActionItemRow::as_select())
        .load(conn)?;
    into_models(rows, now)
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
    let partners = PartnerRef::list(&partner_ids, &shared::partner_names(conn, &partner_ids)?);
    Ok(ActionItemOverdue { action_item: item.clone(), meeting, partner_ids, partners })
}
