//! Webhooks in the database. The signing secret is stored encrypted; the API and the audit trail
//! only say that one is set. Deleting a webhook cancels what was still waiting to be sent to it.

use diesel::prelude::*;
use serde_json::json;

use super::model::*;
use crate::access::Actor;
use crate::audit;
use crate::db::schema::webhooks as wh;
use crate::db::{self, json as dbjson, DbConn};
use crate::error::{ApiError, Code};
use crate::http::pagination::PageRequest;
use crate::notify::deliveries;
use crate::notify::secrets::SecretColumn;
use crate::secrets::Sealer;

/// A webhook as stored: `secret` sealed for its row (`notify::secrets`); [`open`](Self::open)
/// gives the plaintext copy, [`sealed`](Self::sealed) what is written.
#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone)]
#[diesel(table_name = wh)]
pub struct WebhookRow {
    pub id: String,
    pub name: String,
    pub url: String,
    pub secret: String,
    pub event_types: String,
    pub enabled: bool,
    pub version: i64,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl WebhookRow {
    /// The row with its signing secret in plaintext.
    pub fn open(mut self, sealer: &Sealer) -> Result<Self, ApiError> {
        self.secret = SecretColumn::WebhookSecret.open(sealer, &self.id, &self.secret)?;
        Ok(self)
    }

    /// An opened row as it is written: the secret sealed under a fresh nonce.
    fn sealed(&self, sealer: &Sealer) -> Self {
        let mut row = self.clone();
        row.secret = SecretColumn::WebhookSecret.seal(sealer, &self.id, &self.secret);
        row
    }

    pub fn event_types(&self) -> Result<Vec<String>, ApiError> {
        dbjson::decode(&self.event_types)
    }

    fn to_model(&self) -> Result<Webhook, ApiError> {
        Ok(Webhook {
            id: self.id.clone(),
            name: self.name.clone(),
            url: self.url.clone(),
            secret_set: !self.secret.is_empty(),
            event_types: self.event_types()?,
            enabled: self.enabled,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }

    fn settings(&self) -> Result<WebhookSettings, ApiError> {
        Ok(WebhookSettings {
            name: self.name.clone(),
            url: self.url.clone(),
            secret: self.secret.clone(),
            event_types: self.event_types()?,
            enabled: self.enabled,
        })
    }
}

fn webhook_changes(old: Option<&WebhookRow>, new: Option<&WebhookRow>) -> Result<serde_json::Value, ApiError> {
    let o = old.map(WebhookRow::to_model).transpose()?;
    let n = new.map(WebhookRow::to_model).transpose()?;
    let mut changes = audit::diff(o.as_ref(), n.as_ref());
    if let (Some(map), Some(o), Some(n)) = (changes.as_object_mut(), old, new) {
        if o.secret != n.secret {
            map.insert("secret".into(), json!({"old": "****", "new": "****"}));
        }
    }
    Ok(changes)
}

pub fn create(conn: &mut DbConn, actor: &Actor, s: &WebhookSettings, sealer: &Sealer) -> Result<Webhook, ApiError> {
    let now = db::now();
    let row = WebhookRow {
        id: db::new_id(),
        name: s.name.clone(),
        url: s.url.clone(),
        secret: s.secret.clone(),
        event_types: dbjson::encode(&s.event_types),
        enabled: s.enabled,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(wh::table).values(row.sealed(sealer)).execute(conn)?;
    audit::record(conn, actor, "create", "webhook", &row.id, webhook_changes(None, Some(&row))?)?;
    row.to_model()
}

pub fn row(conn: &mut DbConn, id: &str) -> Result<WebhookRow, ApiError> {
    let row: Option<WebhookRow> = wh::table.find(id).select(WebhookRow::as_select()).first(conn).optional()?;
    row.ok_or_else(|| ApiError::not_found(Code::WebhookNotFound))
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<Webhook, ApiError> {
    row(conn, id)?.to_model()
}

pub fn list(conn: &mut DbConn, page: &PageRequest) -> Result<Vec<Webhook>, ApiError> {
    let mut q = wh::table.into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(wh::id.lt(after[0].clone()));
    }
    let rows: Vec<WebhookRow> =
        q.order(wh::id.desc()).limit(page.limit + 1).select(WebhookRow::as_select()).load(conn)?;
    rows.iter().map(WebhookRow::to_model).collect()
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &WebhookUpdate,
    allow_hosts: &[String],
    sealer: &Sealer,
) -> Result<Webhook, ApiError> {
    let current = row(conn, id)?.open(sealer)?;
    let s = patch.apply(&current.settings()?);
    s.validate(allow_hosts)?;
    crate::http::etag::check(expected, current.version)?;
    let mut next = current.clone();
    next.name = s.name;
    next.url = s.url;
    next.secret = s.secret;
    next.event_types = dbjson::encode(&s.event_types);
    next.enabled = s.enabled;
    let changes = webhook_changes(Some(&current), Some(&next))?;
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return current.to_model();
    }
    next.version = current.version + 1;
    next.updated_at = db::now();
    let n = diesel::update(wh::table.filter(wh::id.eq(id).and(wh::version.eq(current.version))))
        .set(next.sealed(sealer))
        .execute(conn)?;
    if n != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, "update", "webhook", id, changes)?;
    next.to_model()
}

pub fn delete(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<(), ApiError> {
    let current = row(conn, id)?;
    crate::http::etag::check(expected, current.version)?;
    deliveries::store::cancel_pending(conn, id, "the webhook was deleted")?;
    diesel::delete(wh::table.filter(wh::id.eq(id))).execute(conn)?;
    audit::record(conn, actor, "delete", "webhook", id, webhook_changes(Some(&current), None)?)?;
    Ok(())
}
