//! Bot channels in the database. A channel's robot URL and DingTalk secret are credentials: the
//! row keeps them encrypted, every view of it (API, audit) masks them. Deleting a channel takes its
//! subscriptions with it and cancels what was still waiting to be sent to it.

use diesel::prelude::*;
use serde_json::json;

use super::model::*;
use crate::access::Actor;
use crate::audit;
use crate::db::schema::{bot_channels as bc, bot_send_log as sl, bot_subscriptions as bs, partners};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::http::pagination::PageRequest;
use crate::notify::checks::mask_url;
use crate::notify::deliveries;
use crate::notify::secrets::SecretColumn;
use crate::platforms::Platform;
use crate::secrets::Sealer;

/// `partner_id` must name a current partner.
fn ensure_partner(conn: &mut DbConn, field: &str, id: &str) -> Result<(), ApiError> {
    let n: i64 =
        partners::table.filter(partners::id.eq(id).and(partners::archived_at.is_null())).count().get_result(conn)?;
    if n == 0 {
        return Err(ApiError::field(field.to_string(), format!("no such partner: {id}")));
    }
    Ok(())
}

/// A channel as stored: `webhook_url` and `secret` sealed for their row (`notify::secrets`).
/// [`open`](Self::open) gives the plaintext copy the rest of this file works with, and
/// [`sealed`](Self::sealed) turns such a copy back into what is written.
#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone)]
#[diesel(table_name = bc)]
#[diesel(treat_none_as_null = true)]
pub struct ChannelRow {
    pub id: String,
    pub platform: String,
    pub name: String,
    pub webhook_url: String,
    pub secret: Option<String>,
    pub keyword: Option<String>,
    pub enabled: bool,
    pub partner_id: Option<String>,
    pub chat_id: Option<String>,
    pub version: i64,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl ChannelRow {
    pub fn platform(&self) -> Result<Platform, ApiError> {
        Platform::from_db(&self.platform)
    }

    /// The row with its credentials in plaintext.
    pub fn open(mut self, sealer: &Sealer) -> Result<Self, ApiError> {
        self.webhook_url = SecretColumn::ChannelUrl.open(sealer, &self.id, &self.webhook_url)?;
        self.secret = self.secret.map(|s| SecretColumn::ChannelSecret.open(sealer, &self.id, &s)).transpose()?;
        Ok(self)
    }

    /// An opened row as it is written: credentials sealed, each under a fresh nonce.
    fn sealed(&self, sealer: &Sealer) -> Self {
        let mut row = self.clone();
        row.webhook_url = SecretColumn::ChannelUrl.seal(sealer, &self.id, &self.webhook_url);
        row.secret = self.secret.as_ref().map(|s| SecretColumn::ChannelSecret.seal(sealer, &self.id, s));
        row
    }

    /// The channel as the API shows it (from an opened row): credentials masked.
    pub fn to_model(&self) -> Result<BotChannel, ApiError> {
        Ok(BotChannel {
            id: self.id.clone(),
            platform: self.platform()?,
            name: self.name.clone(),
            webhook_url: mask_url(&self.webhook_url),
            secret_set: self.secret.is_some(),
            keyword: self.keyword.clone(),
            enabled: self.enabled,
            partner_id: self.partner_id.clone(),
            chat_id: self.chat_id.clone(),
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }

    fn settings(&self) -> Result<ChannelSettings, ApiError> {
        Ok(ChannelSettings {
            platform: self.platform()?,
            name: self.name.clone(),
            webhook_url: self.webhook_url.clone(),
            secret: self.secret.clone(),
            keyword: self.keyword.clone(),
            enabled: self.enabled,
            partner_id: self.partner_id.clone(),
            chat_id: self.chat_id.clone(),
        })
    }
}

/// The audit changes of a channel: the masked view's differences, plus a note (never the value)
/// when a credential changed behind the mask.
fn channel_changes(old: Option<&ChannelRow>, new: Option<&ChannelRow>) -> Result<serde_json::Value, ApiError> {
    let old_m = old.map(ChannelRow::to_model).transpose()?;
    let new_m = new.map(ChannelRow::to_model).transpose()?;
    let mut changes = audit::diff(old_m.as_ref(), new_m.as_ref());
    if let (Some(map), Some(o), Some(n)) = (changes.as_object_mut(), old, new) {
        let mask = |v: &Option<String>| v.as_ref().map(|_| "****");
        if o.secret != n.secret {
            map.insert("secret".into(), json!({"old": mask(&o.secret), "new": mask(&n.secret)}));
        }
        if o.webhook_url != n.webhook_url && !map.contains_key("webhook_url") {
            map.insert("webhook_url".into(), json!({"old": "****", "new": "****"}));
        }
    }
    Ok(changes)
}

fn chat_taken() -> ApiError {
    ApiError::conflict(Code::ChatIdTaken, "another bot channel of this platform already has this chat_id")
}

fn ensure_chat_free(conn: &mut DbConn, s: &ChannelSettings, except: Option<&str>) -> Result<(), ApiError> {
    let Some(chat) = &s.chat_id else { return Ok(()) };
    let mut q = bc::table.filter(bc::platform.eq(s.platform.as_str()).and(bc::chat_id.eq(chat))).into_boxed();
    if let Some(id) = except {
        q = q.filter(bc::id.ne(id.to_string()));
    }
    let n: i64 = q.count().get_result(conn)?;
    if n > 0 {
        return Err(chat_taken());
    }
    Ok(())
}

pub fn create(conn: &mut DbConn, actor: &Actor, s: &ChannelSettings, sealer: &Sealer) -> Result<BotChannel, ApiError> {
    if let Some(pid) = &s.partner_id {
        ensure_partner(conn, "partner_id", pid)?;
    }
    ensure_chat_free(conn, s, None)?;
    let now = db::now();
    let row = ChannelRow {
        id: db::new_id(),
        platform: s.platform.as_str().into(),
        name: s.name.clone(),
        webhook_url: s.webhook_url.clone(),
        secret: s.secret.clone(),
        keyword: s.keyword.clone(),
        enabled: s.enabled,
        partner_id: s.partner_id.clone(),
        chat_id: s.chat_id.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(bc::table).values(row.sealed(sealer)).execute(conn).map_err(|e| {
        if db::is_unique_violation(&e) {
            chat_taken()
        } else {
            e.into()
        }
    })?;
    audit::record(conn, actor, "create", "bot_channel", &row.id, channel_changes(None, Some(&row))?)?;
    row.to_model()
}

/// The channel as stored (credentials sealed).
pub fn row(conn: &mut DbConn, id: &str) -> Result<ChannelRow, ApiError> {
    let row: Option<ChannelRow> = bc::table.find(id).select(ChannelRow::as_select()).first(conn).optional()?;
    row.ok_or_else(|| ApiError::not_found(Code::BotChannelNotFound))
}

pub fn get(conn: &mut DbConn, id: &str, sealer: &Sealer) -> Result<BotChannel, ApiError> {
    row(conn, id)?.open(sealer)?.to_model()
}

/// Newest first.
pub fn list(
    conn: &mut DbConn,
    f: &BotChannelFilter,
    page: &PageRequest,
    sealer: &Sealer,
) -> Result<Vec<BotChannel>, ApiError> {
    let mut q = bc::table.into_boxed();
    if let Some(p) = f.platform {
        q = q.filter(bc::platform.eq(p.as_str()));
    }
    if let Some(e) = f.enabled {
        q = q.filter(bc::enabled.eq(e));
    }
    if let Some(pid) = &f.partner_id {
        q = q.filter(bc::partner_id.eq(pid.to_ascii_lowercase()));
    }
    if let Some(after) = &page.after {
        q = q.filter(bc::id.lt(after[0].clone()));
    }
    let rows: Vec<ChannelRow> =
        q.order(bc::id.desc()).limit(page.limit + 1).select(ChannelRow::as_select()).load(conn)?;
    rows.into_iter().map(|r| r.open(sealer)?.to_model()).collect()
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &BotChannelUpdate,
    allow_hosts: &[String],
    sealer: &Sealer,
) -> Result<BotChannel, ApiError> {
    let current = row(conn, id)?.open(sealer)?;
    let next_settings = patch.apply(&current.settings()?);
    next_settings.validate(allow_hosts)?;
    crate::http::etag::check(expected, current.version)?;
    if let Some(pid) = &next_settings.partner_id {
        if current.partner_id.as_ref() != Some(pid) {
            ensure_partner(conn, "partner_id", pid)?;
        }
    }
    ensure_chat_free(conn, &next_settings, Some(id))?;
    let mut next = current.clone();
    next.name = next_settings.name;
    next.webhook_url = next_settings.webhook_url;
    next.secret = next_settings.secret;
    next.keyword = next_settings.keyword;
    next.enabled = next_settings.enabled;
    next.partner_id = next_settings.partner_id;
    next.chat_id = next_settings.chat_id;
    let changes = channel_changes(Some(&current), Some(&next))?;
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return current.to_model();
    }
    next.version = current.version + 1;
    next.updated_at = db::now();
    let n = diesel::update(bc::table.filter(bc::id.eq(id).and(bc::version.eq(current.version))))
        .set(next.sealed(sealer))
        .execute(conn)
        .map_err(|e| if db::is_unique_violation(&e) { chat_taken() } else { e.into() })?;
    if n != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, "update", "bot_channel", id, changes)?;
    next.to_model()
}

/// Deletes a channel with its subscriptions; its undelivered messages are cancelled.
pub fn delete(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    sealer: &Sealer,
) -> Result<(), ApiError> {
    let current = row(conn, id)?.open(sealer)?;
    crate::http::etag::check(expected, current.version)?;
    diesel::delete(bs::table.filter(bs::channel_id.eq(id))).execute(conn)?;
    deliveries::store::cancel_pending(conn, id, "the bot channel was deleted")?;
    diesel::delete(bc::table.filter(bc::id.eq(id))).execute(conn)?;
    audit::record(conn, actor, "delete", "bot_channel", id, channel_changes(Some(&current), None)?)?;
    Ok(())
}

/// Reserves a place in the robot's per-minute budget for a test message (`POST
/// /bot-channels/{id}/test`), which counts toward the limit like any other message; returns the
/// channel (as stored) to send to, or 429 when the robot had its `rate` messages in the last minute.
pub fn reserve_test_send(conn: &mut DbConn, id: &str, rate: i64) -> Result<ChannelRow, ApiError> {
    let channel = row(conn, id)?;
    let now = db::now();
    let since = now - chrono::Duration::seconds(60);
    let recent: i64 = sl::table.filter(sl::target_id.eq(id).and(sl::sent_at.gt(since))).count().get_result(conn)?;
    if recent >= rate {
        return Err(ApiError::new(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            Code::RateLimited,
            format!("this robot already had {rate} messages in the last minute; try again shortly"),
        )
        .with_header(actix_web::http::header::RETRY_AFTER, "60"));
    }
    diesel::insert_into(sl::table)
        .values((sl::id.eq(db::new_id()), sl::target_id.eq(id), sl::sent_at.eq(now)))
        .execute(conn)?;
    Ok(channel)
}
