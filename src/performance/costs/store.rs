//! Cost records in the database: many per partner and month, listed newest month first.

use diesel::prelude::*;

use super::model::*;
use crate::access::{Actor, Scope};
use crate::audit;
use crate::db::schema::cost_records as cr;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::performance::records::store::writable_partner;

pub fn create(conn: &mut DbConn, actor: &Actor, input: CostRecordCreate) -> Result<CostRecord, ApiError> {
    writable_partner(conn, &input.partner_id)?;
    let record = input.into_record(db::new_id(), db::now().and_utc());
    diesel::insert_into(cr::table).values(record.clone()).execute(conn)?;
    audit::record(conn, actor, "create", "cost_record", &record.id, audit::diff(None::<&CostRecord>, Some(&record)))?;
    Ok(record)
}

pub fn get(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<CostRecord, ApiError> {
    let record: Option<CostRecord> = cr::table.find(id).select(CostRecord::as_select()).first(conn).optional()?;
    record.filter(|r| scope.allows(&r.partner_id)).ok_or_else(|| ApiError::not_found(Code::CostRecordNotFound))
}

/// Newest month first, then newest record; the page key is `(period, id)`.
pub fn list(
    conn: &mut DbConn,
    filter: &CostRecordFilter,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<CostRecord>, ApiError> {
    let mut q = cr::table.into_boxed();
    if let Scope::Partner(own) = scope {
        q = q.filter(cr::partner_id.eq(own.clone()));
    }
    if let Some(v) = &filter.partner_id {
        q = q.filter(cr::partner_id.eq(v.to_lowercase()));
    }
    if let Some(v) = &filter.period_from {
        q = q.filter(cr::period.ge(v.clone()));
    }
    if let Some(v) = &filter.period_to {
        q = q.filter(cr::period.le(v.clone()));
    }
    if let Some(v) = filter.category {
        q = q.filter(cr::category.eq(v));
    }
    if let Some(after) = &page.after {
        let (period, id) = (after[0].clone(), after[1].clone());
        q = q.filter(cr::period.lt(period.clone()).or(cr::period.eq(period).and(cr::id.lt(id))));
    }
    Ok(q.order((cr::period.desc(), cr::id.desc())).limit(page.limit + 1).select(CostRecord::as_select()).load(conn)?)
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &CostRecordUpdate,
) -> Result<CostRecord, ApiError> {
    let current = get(conn, id, &Scope::All)?;
    etag::check(expected, current.version)?;
    let mut next = patch.apply(&current);
    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(current);
    }
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(cr::table.filter(cr::id.eq(id).and(cr::version.eq(current.version))))
        .set(next.clone())
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, "update", "cost_record", id, changes)?;
    Ok(next)
}

pub fn delete(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<(), ApiError> {
    let current = get(conn, id, &Scope::All)?;
    etag::check(expected, current.version)?;
    diesel::delete(cr::table.filter(cr::id.eq(id))).execute(conn)?;
    audit::record(conn, actor, "delete", "cost_record", id, audit::diff(Some(&current), None::<&CostRecord>))?;
    Ok(())
}
