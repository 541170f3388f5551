//! Competitor queries. Names are unique among current competitors by `name_key`
//! (`validation::comparison_key`); the unique index settles two requests racing past the check.

use diesel::prelude::*;

use super::events::{CompetitorSnapshot, CompetitorUpdated};
use super::model::*;
use crate::access::Actor;
use crate::audit;
use crate::db::schema::competitors as c;
use crate::db::{self, like_pattern, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::validation::comparison_key;

fn name_taken(name: &str) -> ApiError {
    ApiError::conflict(
        Code::CompetitorNameTaken,
        format!("a competitor named {name:?} already exists (names are unique ignoring case and width)"),
    )
}

fn ensure_name_free(conn: &mut DbConn, name: &str, except_id: Option<&str>) -> Result<(), ApiError> {
    let mut q = c::table.filter(c::name_key.eq(comparison_key(name)).and(c::archived_at.is_null())).into_boxed();
    if let Some(id) = except_id {
        q = q.filter(c::id.ne(id.to_string()));
    }
    if q.count().get_result::<i64>(conn)? > 0 {
        return Err(name_taken(name));
    }
    Ok(())
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: &CompetitorCreate) -> Result<Competitor, ApiError> {
    ensure_name_free(conn, &input.name, None)?;
    let now = db::now().and_utc();
    let competitor = Competitor {
        id: db::new_id(),
        name: input.name.clone(),
        website: input.website.clone(),
        notes: input.notes.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
        archived_at: None,
    };
    diesel::insert_into(c::table)
        .values((competitor.clone(), c::name_key.eq(comparison_key(&competitor.name))))
        .execute(conn)
        .map_err(|e| if db::is_unique_violation(&e) { name_taken(&competitor.name) } else { e.into() })?;
    audit::record(
        conn,
        actor,
        "create",
        "competitor",
        &competitor.id,
        audit::diff(None::<&Competitor>, Some(&competitor)),
    )?;
    events::emit(conn, &DomainEvent::CompetitorCreated(CompetitorSnapshot { competitor: competitor.clone() }))?;
    Ok(competitor)
}

/// A competitor, archived ones included (their observations stay readable).
pub fn get(conn: &mut DbConn, id: &str) -> Result<Competitor, ApiError> {
    let found: Option<Competitor> = c::table.find(id).select(Competitor::as_select()).first(conn).optional()?;
    found.ok_or_else(|| ApiError::not_found(Code::CompetitorNotFound))
}

/// A competitor that can still change or take observations.
pub fn writable(conn: &mut DbConn, id: &str) -> Result<Competitor, ApiError> {
    let competitor = get(conn, id)?;
    if competitor.archived_at.is_some() {
        return Err(ApiError::conflict(
            Code::CompetitorArchived,
            "the competitor is archived and can no longer change",
        ));
    }
    Ok(competitor)
}

/// Current competitors, newest first.
pub fn list(conn: &mut DbConn, filter: &CompetitorFilter, page: &PageRequest) -> Result<Vec<Competitor>, ApiError> {
    let mut q = c::table.filter(c::archived_at.is_null()).into_boxed();
    if let Some(v) = &filter.q {
        q = q.filter(c::name_key.like(like_pattern(&comparison_key(v))).escape('\\'));
    }
    if let Some(after) = &page.after {
        q = q.filter(c::id.lt(after[0].clone()));
    }
    Ok(q.order(c::id.desc()).limit(page.limit + 1).select(Competitor::as_select()).load(conn)?)
}

fn save(conn: &mut DbConn, current: &Competitor, next: &mut Competitor) -> Result<(), ApiError> {
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(c::table.filter(c::id.eq(&current.id).and(c::version.eq(current.version))))
        .set((next.clone(), c::name_key.eq(comparison_key(&next.name))))
        .execute(conn)
        .map_err(|e| if db::is_unique_violation(&e) { name_taken(&next.name) } else { e.into() })?;
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
    patch: &CompetitorUpdate,
) -> Result<Competitor, ApiError> {
    let current = writable(conn, id)?;
    etag::check(expected, current.version)?;
    let mut next = patch.apply(&current);
    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(current);
    }
    if comparison_key(&next.name) != comparison_key(&current.name) {
        ensure_name_free(conn, &next.name, Some(id))?;
    }
    save(conn, &current, &mut next)?;
    audit::record(conn, actor, "update", "competitor", id, changes.clone())?;
    events::emit(conn, &DomainEvent::CompetitorUpdated(CompetitorUpdated { competitor: next.clone(), changes }))?;
    Ok(next)
}

/// Archives the competitor: it leaves the lists and frees its name; its observations stay.
pub fn archive(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<(), ApiError> {
    let current = get(conn, id)?;
    etag::check(expected, current.version)?;
    if current.archived_at.is_some() {
        return Ok(());
    }
    let mut next = current.clone();
    next.archived_at = Some(db::now().and_utc());
    save(conn, &current, &mut next)?;
    audit::record(conn, actor, "delete", "competitor", id, audit::diff(Some(&current), Some(&next)))?;
    events::emit(conn, &DomainEvent::CompetitorArchived(CompetitorSnapshot { competitor: next }))?;
    Ok(())
}
