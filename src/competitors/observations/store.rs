//! Observation queries. Observations belong to one competitor; an archived competitor keeps its
//! observations readable but takes no new ones or changes. A deletion is real (a wrong
//! observation is removed; the audit trail keeps what it said).

use diesel::prelude::*;

use super::model::*;
use crate::access::Actor;
use crate::audit;
use crate::competitors::events::CompetitorObserved;
use crate::competitors::store as competitors;
use crate::db::schema::competitor_observations as o;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    competitor_id: &str,
    input: &ObservationCreate,
) -> Result<Observation, ApiError> {
    let competitor = competitors::writable(conn, competitor_id)?;
    let observation = input.to_observation(db::new_id(), competitor_id, db::now().and_utc())?;
    diesel::insert_into(o::table).values(observation.clone()).execute(conn)?;
    audit::record(
        conn,
        actor,
        "create",
        "competitor_observation",
        &observation.id,
        audit::diff(None::<&Observation>, Some(&observation)),
    )?;
    let observed = CompetitorObserved { competitor, observation: observation.clone() };
    events::emit(conn, &DomainEvent::CompetitorObserved(observed))?;
    Ok(observation)
}

pub fn get(conn: &mut DbConn, competitor_id: &str, id: &str) -> Result<Observation, ApiError> {
    competitors::get(conn, competitor_id)?;
    let found: Option<Observation> = o::table
        .filter(o::id.eq(id).and(o::competitor_id.eq(competitor_id)))
        .select(Observation::as_select())
        .first(conn)
        .optional()?;
    found.ok_or_else(|| ApiError::not_found(Code::ObservationNotFound))
}

/// A competitor's observations, newest first.
pub fn list(
    conn: &mut DbConn,
    competitor_id: &str,
    filter: &ObservationFilter,
    page: &PageRequest,
) -> Result<Vec<Observation>, ApiError> {
    competitors::get(conn, competitor_id)?;
    let mut q = o::table.filter(o::competitor_id.eq(competitor_id.to_string())).into_boxed();
    if let Some(v) = &filter.region {
        q = q.filter(o::region.eq(v.clone()));
    }
    if let Some(v) = filter.channel_type {
        q = q.filter(o::channel_type.eq(v));
    }
    if let Some(v) = filter.kind {
        q = q.filter(o::kind.eq(v));
    }
    if let Some(v) = filter.price_position {
        q = q.filter(o::price_position.eq(v));
    }
    if let Some(v) = filter.observed_from {
        q = q.filter(o::observed_on.ge(v.to_string()));
    }
    if let Some(v) = filter.observed_to {
        q = q.filter(o::observed_on.le(v.to_string()));
    }
    if let Some(after) = &page.after {
        q = q.filter(o::id.lt(after[0].clone()));
    }
    Ok(q.order(o::id.desc()).limit(page.limit + 1).select(Observation::as_select()).load(conn)?)
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    competitor_id: &str,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &ObservationUpdate,
) -> Result<Observation, ApiError> {
    let current = get(conn, competitor_id, id)?;
    // An invalid request is answered as such whatever its preconditions (RFC 9110 §13.2.2).
    let mut next = patch.apply(&current)?;
    etag::check(expected, current.version)?;
    competitors::writable(conn, competitor_id)?;
    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(current);
    }
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(o::table.filter(o::id.eq(id).and(o::version.eq(current.version))))
        .set(next.clone())
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, "update", "competitor_observation", id, changes)?;
    Ok(next)
}

pub fn delete(
    conn: &mut DbConn,
    actor: &Actor,
    competitor_id: &str,
    id: &str,
    expected: &Option<Vec<i64>>,
) -> Result<(), ApiError> {
    let current = get(conn, competitor_id, id)?;
    etag::check(expected, current.version)?;
    diesel::delete(o::table.filter(o::id.eq(id))).execute(conn)?;
    audit::record(
        conn,
        actor,
        "delete",
        "competitor_observation",
        id,
        audit::diff(Some(&current), None::<&Observation>),
    )?;
    Ok(())
}
