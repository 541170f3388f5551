//! Deliveries in the database as the API sees them: listing, reading, re-queueing by hand, and
//! the cancelling of a deleted target's queue. The worker's own queries (claiming, recording an
//! outcome) are in `worker/`.

use diesel::prelude::*;

use super::model::*;
use crate::access::Actor;
use crate::audit;
use crate::db::schema::deliveries as d;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::http::pagination::PageRequest;

/// Cancels what is still waiting to go to `target_id` (its channel or webhook was deleted).
pub fn cancel_pending(conn: &mut DbConn, target_id: &str, why: &str) -> Result<(), ApiError> {
    diesel::update(d::table.filter(d::target_id.eq(target_id).and(d::status.eq(DeliveryStatus::Pending.as_str()))))
        .set((
            d::status.eq(DeliveryStatus::Cancelled.as_str()),
            d::last_error.eq(why),
            d::lease_until.eq(None::<chrono::NaiveDateTime>),
            d::lease_token.eq(None::<String>),
            d::version.eq(d::version + 1),
            d::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = d, treat_none_as_default_value = false)]
pub struct DeliveryRow {
    pub id: String,
    pub seq: i64,
    pub event_id: String,
    pub event_type: String,
    pub target_kind: String,
    pub target_id: String,
    pub status: String,
    pub attempts: i32,
    pub parts_total: i32,
    pub parts_sent: i32,
    pub body: String,
    pub next_attempt_at: chrono::NaiveDateTime,
    pub lease_until: Option<chrono::NaiveDateTime>,
    pub lease_token: Option<String>,
    pub last_attempt_at: Option<chrono::NaiveDateTime>,
    pub last_error: Option<String>,
    pub last_http_status: Option<i32>,
    pub last_errcode: Option<i64>,
    pub sent_at: Option<chrono::NaiveDateTime>,
    pub version: i64,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub first_attempt_at: Option<chrono::NaiveDateTime>,
}

impl DeliveryRow {
    pub fn to_model(&self) -> Result<Delivery, ApiError> {
        let status = DeliveryStatus::from_db(&self.status)?;
        Ok(Delivery {
            id: self.id.clone(),
            event_id: self.event_id.clone(),
            event_type: self.event_type.clone(),
            target_kind: TargetKind::from_db(&self.target_kind)?,
            target_id: self.target_id.clone(),
            status,
            attempts: self.attempts,
            parts_total: self.parts_total,
            parts_sent: self.parts_sent,
            next_attempt_at: (status == DeliveryStatus::Pending).then(|| self.next_attempt_at.and_utc()),
            first_attempt_at: self.first_attempt_at.map(|t| t.and_utc()),
            last_attempt_at: self.last_attempt_at.map(|t| t.and_utc()),
            last_error: self.last_error.clone(),
            last_http_status: self.last_http_status,
            last_errcode: self.last_errcode,
            sent_at: self.sent_at.map(|t| t.and_utc()),
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

pub fn row(conn: &mut DbConn, id: &str) -> Result<DeliveryRow, ApiError> {
    let row: Option<DeliveryRow> = d::table.find(id).select(DeliveryRow::as_select()).first(conn).optional()?;
    row.ok_or_else(|| ApiError::not_found(Code::DeliveryNotFound))
}

/// Newest first.
pub fn list(conn: &mut DbConn, f: &DeliveryFilter, page: &PageRequest) -> Result<Vec<Delivery>, ApiError> {
    let mut q = d::table.into_boxed();
    if let Some(s) = f.status {
        q = q.filter(d::status.eq(s.as_str()));
    }
    if let Some(id) = &f.channel_id {
        q = q.filter(d::target_id.eq(id.to_ascii_lowercase()).and(d::target_kind.eq(TargetKind::BotChannel.as_str())));
    }
    if let Some(id) = &f.webhook_id {
        q = q.filter(d::target_id.eq(id.to_ascii_lowercase()).and(d::target_kind.eq(TargetKind::Webhook.as_str())));
    }
    if let Some(id) = &f.event_id {
        q = q.filter(d::event_id.eq(id.to_ascii_lowercase()));
    }
    if let Some(after) = &page.after {
        q = q.filter(d::id.lt(after[0].clone()));
    }
    let rows: Vec<DeliveryRow> =
        q.order(d::id.desc()).limit(page.limit + 1).select(DeliveryRow::as_select()).load(conn)?;
    rows.iter().map(DeliveryRow::to_model).collect()
}

/// Puts a failed or dead delivery back in its channel's queue with a fresh retry window (it
/// starts at the next attempt); the parts already sent are not sent again.
pub fn retry(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<Delivery, ApiError> {
    let current = row(conn, id)?;
    crate::http::etag::check(expected, current.version)?;
    let status = DeliveryStatus::from_db(&current.status)?;
    if !matches!(status, DeliveryStatus::Failed | DeliveryStatus::Dead) {
        return Err(ApiError::conflict(
            Code::DeliveryNotRetryable,
            format!("a {status} delivery cannot be retried; only failed and dead ones can"),
        ));
    }
    let now = db::now();
    let n = diesel::update(d::table.filter(d::id.eq(id).and(d::version.eq(current.version))))
        .set((
            d::status.eq(DeliveryStatus::Pending.as_str()),
            d::attempts.eq(0),
            d::first_attempt_at.eq(None::<chrono::NaiveDateTime>),
            d::next_attempt_at.eq(now),
            d::lease_until.eq(None::<chrono::NaiveDateTime>),
            d::lease_token.eq(None::<String>),
            d::version.eq(current.version + 1),
            d::updated_at.eq(now),
        ))
        .execute(conn)?;
    if n != 1 {
        return Err(ApiError::version_mismatch());
    }
    let after = row(conn, id)?.to_model()?;
    audit::record(conn, actor, "retry", "delivery", id, audit::diff(Some(&current.to_model()?), Some(&after)))?;
    Ok(after)
}
