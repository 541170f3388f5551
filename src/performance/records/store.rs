//! Performance records in the database: one per (partner, month, product line), enforced by the
//! unique index on `line_key` as well as checked first, so a race ends in the same 409.

use diesel::prelude::*;

use super::model::*;
use crate::access::{Actor, Scope};
use crate::audit;
use crate::db::schema::{partners as p, performance_records as pr};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::http::etag;
use crate::http::pagination::PageRequest;

pub fn exists_error(record: &PerformanceRecord) -> ApiError {
    let line = match &record.product_line {
        Some(line) => format!("product line {line:?}"),
        None => "the whole business".to_string(),
    };
    ApiError::conflict(
        Code::PerformanceRecordExists,
        format!("the partner already has a record for {} and {line}", record.period),
    )
}

/// The partner a record is written for: it must exist and not be archived (as 422 / 409 on the
/// body's `partner_id`).
pub fn writable_partner(conn: &mut DbConn, partner_id: &str) -> Result<(), ApiError> {
    let archived: Option<Option<chrono::NaiveDateTime>> =
        p::table.find(partner_id).select(p::archived_at).first(conn).optional()?;
    match archived {
        None => Err(ApiError::field("partner_id", "no such partner")),
        Some(Some(_)) => {
            Err(ApiError::conflict(Code::PartnerArchived, "the partner is archived and can no longer change"))
        }
        Some(None) => Ok(()),
    }
}

/// The id of the record holding (partner, month, product line), if any.
pub fn find_key(conn: &mut DbConn, partner_id: &str, period: &str, line_key: &str) -> Result<Option<String>, ApiError> {
    Ok(pr::table
        .filter(pr::partner_id.eq(partner_id).and(pr::period.eq(period)).and(pr::line_key.eq(line_key)))
        .select(pr::id)
        .first(conn)
        .optional()?)
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: PerformanceRecordCreate) -> Result<PerformanceRecord, ApiError> {
    writable_partner(conn, &input.partner_id)?;
    let record = input.into_record(db::new_id(), db::now().and_utc());
    if find_key(conn, &record.partner_id, &record.period, &record.line_key)?.is_some() {
        return Err(exists_error(&record));
    }
    diesel::insert_into(pr::table).values(record.clone()).execute(conn).map_err(|e| {
        if db::is_unique_violation(&e) {
            exists_error(&record)
        } else {
            e.into()
        }
    })?;
    audit::record(
        conn,
        actor,
        "create",
        "performance_record",
        &record.id,
        audit::diff(None::<&PerformanceRecord>, Some(&record)),
    )?;
    Ok(record)
}

pub fn get(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<PerformanceRecord, ApiError> {
    let record: Option<PerformanceRecord> =
        pr::table.find(id).select(PerformanceRecord::as_select()).first(conn).optional()?;
    record.filter(|r| scope.allows(&r.partner_id)).ok_or_else(|| ApiError::not_found(Code::PerformanceRecordNotFound))
}

/// Newest month first, then newest record; the page key is `(period, id)`.
pub fn list(
    conn: &mut DbConn,
    filter: &PerformanceRecordFilter,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<PerformanceRecord>, ApiError> {
    let mut q = pr::table.into_boxed();
    if let Scope::Partner(own) = scope {
        q = q.filter(pr::partner_id.eq(own.clone()));
    }
    if let Some(v) = &filter.partner_id {
        q = q.filter(pr::partner_id.eq(v.to_lowercase()));
    }
    if let Some(v) = &filter.period_from {
        q = q.filter(pr::period.ge(v.clone()));
    }
    if let Some(v) = &filter.period_to {
        q = q.filter(pr::period.le(v.clone()));
    }
    if let Some(v) = &filter.product_line {
        q = q.filter(pr::line_key.eq(line_key(Some(v))));
    }
    if let Some(after) = &page.after {
        let (period, id) = (after[0].clone(), after[1].clone());
        q = q.filter(pr::period.lt(period.clone()).or(pr::period.eq(period).and(pr::id.lt(id))));
    }
    Ok(q.order((pr::period.desc(), pr::id.desc()))
        .limit(page.limit + 1)
        .select(PerformanceRecord::as_select())
        .load(conn)?)
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &PerformanceRecordUpdate,
) -> Result<PerformanceRecord, ApiError> {
    let current = get(conn, id, &Scope::All)?;
    etag::check(expected, current.version)?;
    let mut next = patch.apply(&current);
    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(current);
    }
    if (next.period != current.period || next.line_key != current.line_key)
        && find_key(conn, &next.partner_id, &next.period, &next.line_key)?.is_some()
    {
        return Err(exists_error(&next));
    }
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(pr::table.filter(pr::id.eq(id).and(pr::version.eq(current.version))))
        .set(next.clone())
        .execute(conn)
        .map_err(|e| if db::is_unique_violation(&e) { exists_error(&next) } else { e.into() })?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, "update", "performance_record", id, changes)?;
    Ok(next)
}

pub fn delete(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<(), ApiError> {
    let current = get(conn, id, &Scope::All)?;
    etag::check(expected, current.version)?;
    diesel::delete(pr::table.filter(pr::id.eq(id))).execute(conn)?;
    audit::record(
        conn,
        actor,
        "delete",
        "performance_record",
        id,
        audit::diff(Some(&current), None::<&PerformanceRecord>),
    )?;
    Ok(())
}
