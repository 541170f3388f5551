//! Targets in the database, and their actuals: one aggregate over the period's whole-business
//! performance records (`line_key = ''`), served by the `(partner_id, period, line_key)` index.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::events::TargetEvent;
use super::model::*;
use crate::access::{Actor, Scope};
use crate::audit;
use crate::db::schema::{meeting_partners as mp, meetings as m, performance_records as pr, targets as t};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::performance::records::store::writable_partner;

fn exists(target: &Target) -> ApiError {
    ApiError::conflict(
        Code::TargetExists,
        format!("the partner already has a {} target for {}", target.metric, target.period),
    )
}

/// The figure the target's metric measures, over its months.
pub fn actual(conn: &mut DbConn, target: &Target) -> Result<i64, ApiError> {
    let column = match target.metric {
        Metric::Revenue => "revenue_minor",
        Metric::Units => "units",
        Metric::NewCustomers => "new_customers",
    };
    let mut q = pr::table
        .filter(pr::partner_id.eq(&target.partner_id))
        .filter(pr::period.ge(&target.first_month).and(pr::period.le(&target.last_month)))
        .filter(pr::line_key.eq(""))
        .into_boxed();
    if target.metric == Metric::Revenue {
        q = q.filter(pr::currency.eq("CNY"));
    }
    // SUM of a BIGINT is NUMERIC on Postgres: cast back so both backends read an i64.
    let total: i64 = q.select(sql::<BigInt>(&format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)"))).first(conn)?;
    Ok(total)
}

pub fn view(conn: &mut DbConn, target: Target) -> Result<TargetView, ApiError> {
    let actual = actual(conn, &target)?;
    Ok(TargetView::new(target, actual))
}

fn partner_name(conn: &mut DbConn, partner_id: &str) -> Result<String, ApiError> {
    use crate::db::schema::partners as p;
    Ok(p::table.find(partner_id).select(p::name).first(conn)?)
}

/// The meeting must exist and have the target's partner among its partners.
fn check_meeting(conn: &mut DbConn, target: &Target) -> Result<(), ApiError> {
    let Some(meeting_id) = &target.meeting_id else { return Ok(()) };
    let found: i64 = m::table.filter(m::id.eq(meeting_id)).count().get_result(conn)?;
    if found == 0 {
        return Err(ApiError::field("meeting_id", "no such meeting"));
    }
    let with_partner: i64 = mp::table
        .filter(mp::meeting_id.eq(meeting_id).and(mp::partner_id.eq(&target.partner_id)))
        .count()
        .get_result(conn)?;
    if with_partner == 0 {
        return Err(ApiError::field("meeting_id", "the partner is not one of the meeting's partners"));
    }
    Ok(())
}

fn ensure_free(conn: &mut DbConn, target: &Target) -> Result<(), ApiError> {
    let taken: i64 = t::table
        .filter(t::partner_id.eq(&target.partner_id).and(t::period.eq(&target.period)))
        .filter(t::metric.eq(target.metric).and(t::id.ne(&target.id)))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(exists(target));
    }
    Ok(())
}

fn announce_agreed(conn: &mut DbConn, target: &TargetView) -> Result<(), ApiError> {
    let partner_name = partner_name(conn, &target.target.partner_id)?;
    let event = TargetEvent { target: target.clone(), partner_name };
    events::emit(conn, &DomainEvent::TargetAgreed(event))?;
    Ok(())
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: TargetCreate) -> Result<TargetView, ApiError> {
    writable_partner(conn, &input.partner_id)?;
    let target = input.into_target(db::new_id(), db::now().and_utc())?;
    check_meeting(conn, &target)?;
    ensure_free(conn, &target)?;
    diesel::insert_into(t::table).values(target.clone()).execute(conn).map_err(|e| {
        if db::is_unique_violation(&e) {
            exists(&target)
        } else {
            e.into()
        }
    })?;
    audit::record(conn, actor, "create", "target", &target.id, audit::diff(None::<&Target>, Some(&target)))?;
    let view = view(conn, target)?;
    if view.target.status == TargetStatus::Agreed {
        announce_agreed(conn, &view)?;
    }
    Ok(view)
}

fn find(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<Target, ApiError> {
    let target: Option<Target> = t::table.find(id).select(Target::as_select()).first(conn).optional()?;
    target.filter(|t| scope.allows(&t.partner_id)).ok_or_else(|| ApiError::not_found(Code::TargetNotFound))
}

pub fn get(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<TargetView, ApiError> {
    let target = find(conn, id, scope)?;
    view(conn, target)
}

/// Newest first.
pub fn list(
    conn: &mut DbConn,
    filter: &TargetFilter,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<TargetView>, ApiError> {
    let mut q = t::table.into_boxed();
    if let Scope::Partner(own) = scope {
        q = q.filter(t::partner_id.eq(own.clone()));
    }
    if let Some(v) = &filter.partner_id {
        q = q.filter(t::partner_id.eq(v.to_lowercase()));
    }
    if let Some(v) = filter.period.as_deref().and_then(crate::performance::period::Period::parse) {
        q = q.filter(t::period.eq(v.to_string()));
    }
    if let Some(v) = filter.metric {
        q = q.filter(t::metric.eq(v));
    }
    if let Some(v) = filter.status {
        q = q.filter(t::status.eq(v));
    }
    if let Some(after) = &page.after {
        q = q.filter(t::id.lt(after[0].clone()));
    }
    let rows: Vec<Target> = q.order(t::id.desc()).limit(page.limit + 1).select(Target::as_select()).load(conn)?;
    rows.into_iter().map(|target| view(conn, target)).collect()
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &TargetUpdate,
) -> Result<TargetView, ApiError> {
    let current = find(conn, id, &Scope::All)?;
    etag::check(expected, current.version)?;
    let now = db::now().and_utc();
    let mut next = patch.apply(&current, now);
    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return view(conn, current);
    }
    if current.status == TargetStatus::Agreed {
        return Err(ApiError::conflict(
            Code::TargetAgreed,
            "an agreed target is a joint commitment and no longer changes; agree a new one instead",
        ));
    }
    check_meeting(conn, &next)?;
    ensure_free(conn, &next)?;
    next.version = current.version + 1;
    next.updated_at = now;
    let updated = diesel::update(t::table.filter(t::id.eq(id).and(t::version.eq(current.version))))
        .set(next.clone())
        .execute(conn)
        .map_err(|e| if db::is_unique_violation(&e) { exists(&next) } else { e.into() })?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, "update", "target", id, changes)?;
    let view = view(conn, next)?;
    if view.target.status == TargetStatus::Agreed {
        announce_agreed(conn, &view)?;
    }
    Ok(view)
}

pub fn delete(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<(), ApiError> {
    let current = find(conn, id, &Scope::All)?;
    etag::check(expected, current.version)?;
    diesel::delete(t::table.filter(t::id.eq(id))).execute(conn)?;
    audit::record(conn, actor, "delete", "target", id, audit::diff(Some(&current), None::<&Target>))?;
    Ok(())
}

/// Agreed targets whose last month is before `cutoff` (`YYYY-MM`) and that no scan judged yet.
pub fn unsettled(conn: &mut DbConn, cutoff: &str, limit: i64) -> Result<Vec<Target>, ApiError> {
    Ok(t::table
        .filter(t::status.eq(TargetStatus::Agreed).and(t::settled_at.is_null()).and(t::last_month.lt(cutoff)))
        .order(t::id.asc())
        .limit(limit)
        .select(Target::as_select())
        .load(conn)?)
}

/// Records the scan's judgement of a target (a change clients see: the version grows).
pub fn settle(conn: &mut DbConn, id: &str, missed: bool) -> Result<(), ApiError> {
    let now = db::now();
    diesel::update(t::table.find(id))
        .set((t::settled_at.eq(Some(now)), t::missed.eq(missed), t::version.eq(t::version + 1), t::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

pub fn partner_of(conn: &mut DbConn, target: &Target) -> Result<String, ApiError> {
    partner_name(conn, &target.partner_id)
}
