//! The outbox: domain events written in the same transaction as the change that caused them, so
//! an event exists exactly when its change committed. Delivery reads from here.
//!
//! Events go in typed ([`DomainEvent`]): the stored row — type, subject, partner, payload — is
//! derived from the event, never restated by the emitter. They come out as rows ([`Event`], the
//! payload as JSON) that [`Event::domain`] turns back into the type.

use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::{events as ev, outbox_pending as op};
use crate::db::{self, DbConn};
use crate::error::ApiError;

mod domain;

pub use domain::{DomainEvent, Subject};

/// Appends `event` to the outbox; call inside the change's transaction. Returns the event id.
pub fn emit(conn: &mut DbConn, event: &DomainEvent) -> Result<String, ApiError> {
    let id = db::new_id();
    insert(conn, &id, event)?;
    Ok(id)
}

/// Writes the row: its type, subject and payload all come from `event`.
fn insert(conn: &mut DbConn, id: &str, event: &DomainEvent) -> Result<(), ApiError> {
    let subject = event.subject();
    let payload = event.payload()?.to_string();
    diesel::insert_into(ev::table)
        .values((
            ev::id.eq(id),
            ev::event_type.eq(event.event_type()),
            ev::occurred_at.eq(db::now()),
            ev::resource_type.eq(subject.resource_type),
            ev::resource_id.eq(subject.resource_id),
            ev::partner_id.eq(subject.partner_id),
            ev::payload.eq(payload),
        ))
        .execute(conn)?;
    diesel::insert_into(op::table).values(op::event_id.eq(id)).execute(conn)?;
    Ok(())
}

/// The oldest events not yet handed to delivery (see `outbox_pending`), in outbox order.
pub fn pending(conn: &mut DbConn, limit: i64) -> Result<Vec<Event>, ApiError> {
    let rows: Vec<EventRow> = ev::table
        .inner_join(op::table.on(op::event_id.eq(ev::id)))
        .order(ev::id.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?;
    rows.into_iter().map(EventRow::into_event).collect()
}

/// Marks events as handed to delivery; call in the transaction that acted on them.
pub fn mark_handled(conn: &mut DbConn, ids: &[String]) -> Result<(), ApiError> {
    for chunk in ids.chunks(db::INSERT_MANY_CHUNK) {
        diesel::delete(op::table.filter(op::event_id.eq_any(chunk))).execute(conn)?;
    }
    Ok(())
}

/// Emits `event` unless an event with `key` was emitted before (by this or any other replica):
/// the key is claimed with `INSERT … ON CONFLICT DO NOTHING` in the caller's transaction, so of
/// two concurrent scanners one claims it and the other, blocked until the first commits, skips.
/// Returns the new event's id, or `None` when the key was already taken.
pub fn emit_once(conn: &mut DbConn, key: &str, event: &DomainEvent) -> Result<Option<String>, ApiError> {
    let id = db::new_id();
    let sql = match conn.backend() {
        db::Backend::Sqlite => {
            "INSERT INTO event_keys (event_key, event_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
        }
        db::Backend::Postgres => {
            "INSERT INTO event_keys (event_key, event_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        }
    };
    let claimed = diesel::sql_query(sql)
        .bind::<diesel::sql_types::Text, _>(key)
        .bind::<diesel::sql_types::Text, _>(&id)
        .bind::<diesel::sql_types::Timestamp, _>(db::now())
        .execute(conn)?;
    if claimed == 0 {
        return Ok(None);
    }
    insert(conn, &id, event)?;
    Ok(Some(id))
}

/// Forgets a key so that the same condition, should it return, is emitted again (a risk that
/// clears and comes back is a new risk).
pub fn release_key(conn: &mut DbConn, key: &str) -> Result<(), ApiError> {
    use crate::db::schema::event_keys as ek;
    diesel::delete(ek::table.filter(ek::event_key.eq(key))).execute(conn)?;
    Ok(())
}

/// A stored event, as delivery and tests read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    pub occurred_at: chrono::NaiveDateTime,
    pub resource_type: String,
    pub resource_id: String,
    pub partner_id: Option<String>,
    pub payload: Value,
}

impl Event {
    /// The typed event; an error when the row holds a type or a shape this version does not know.
    pub fn domain(&self) -> Result<DomainEvent, ApiError> {
        DomainEvent::from_value(&self.event_type, self.payload.clone())
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = ev)]
struct EventRow {
    id: String,
    event_type: String,
    occurred_at: chrono::NaiveDateTime,
    resource_type: String,
    resource_id: String,
    partner_id: Option<String>,
    payload: String,
}

/// Events after `after` (an event id) in outbox order.
pub fn since(conn: &mut DbConn, after: Option<&str>, limit: i64) -> Result<Vec<Event>, ApiError> {
    let mut q = ev::table.into_boxed();
    if let Some(after) = after {
        q = q.filter(ev::id.gt(after.to_string()));
    }
    let rows: Vec<EventRow> = q.order(ev::id.asc()).limit(limit).select(EventRow::as_select()).load(conn)?;
    rows.into_iter().map(EventRow::into_event).collect()
}

impl EventRow {
    fn into_event(self) -> Result<Event, ApiError> {
        Ok(Event {
            id: self.id,
            event_type: self.event_type,
            occurred_at: self.occurred_at,
            resource_type: self.resource_type,
            resource_id: self.resource_id,
            partner_id: self.partner_id,
            payload: db::json::decode(&self.payload)?,
        })
    }
}
