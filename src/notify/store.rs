//! Rows and queries of bot channels, subscriptions, webhooks and deliveries (the worker's own
//! queries are in `worker.rs`).

use diesel::prelude::*;
use serde_json::json;

use super::model::*;
use crate::access::Actor;
use crate::audit;
use crate::db::schema::{bot_channels as bc, bot_subscriptions as bs, deliveries as d, partners, webhooks as wh};
use crate::db::{self, json as dbjson, DbConn};
use crate::error::{ApiError, Code};
use crate::http::pagination::PageRequest;
use crate::partners::model::Tier;
use crate::platforms::Platform;

fn not_found(code: Code) -> ApiError {
    ApiError::not_found(code)
}

/// `partner_id` must name a current partner.
fn ensure_partner(conn: &mut DbConn, field: &str, id: &str) -> Result<(), ApiError> {
    let n: i64 =
        partners::table.filter(partners::id.eq(id).and(partners::archived_at.is_null())).count().get_result(conn)?;
    if n == 0 {
        return Err(ApiError::field(field.to_string(), format!("no such partner: {id}")));
    }
    Ok(())
}

// ---- bot channels ----

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

    /// The channel as the API shows it: credentials masked.
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

pub fn create_channel(conn: &mut DbConn, actor: &Actor, s: &ChannelSettings) -> Result<BotChannel, ApiError> {
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
    diesel::insert_into(bc::table).values(&row).execute(conn).map_err(|e| {
        if db::is_unique_violation(&e) {
            chat_taken()
        } else {
            e.into()
        }
    })?;
    audit::record(conn, actor, "create", "bot_channel", &row.id, channel_changes(None, Some(&row))?)?;
    row.to_model()
}

pub fn channel_row(conn: &mut DbConn, id: &str) -> Result<ChannelRow, ApiError> {
    let row: Option<ChannelRow> = bc::table.find(id).select(ChannelRow::as_select()).first(conn).optional()?;
    row.ok_or_else(|| not_found(Code::BotChannelNotFound))
}

pub fn get_channel(conn: &mut DbConn, id: &str) -> Result<BotChannel, ApiError> {
    channel_row(conn, id)?.to_model()
}

/// Newest first.
pub fn list_channels(conn: &mut DbConn, f: &BotChannelFilter, page: &PageRequest) -> Result<Vec<BotChannel>, ApiError> {
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
    rows.iter().map(ChannelRow::to_model).collect()
}

pub fn update_channel(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &BotChannelUpdate,
    allow_hosts: &[String],
) -> Result<BotChannel, ApiError> {
    let current = channel_row(conn, id)?;
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
        .set(&next)
        .execute(conn)
        .map_err(|e| if db::is_unique_violation(&e) { chat_taken() } else { e.into() })?;
    if n != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, "update", "bot_channel", id, changes)?;
    next.to_model()
}

/// Deletes a channel with its subscriptions; its undelivered messages are cancelled.
pub fn delete_channel(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<(), ApiError> {
    let current = channel_row(conn, id)?;
    crate::http::etag::check(expected, current.version)?;
    diesel::delete(bs::table.filter(bs::channel_id.eq(id))).execute(conn)?;
    cancel_pending(conn, id, "the bot channel was deleted")?;
    diesel::delete(bc::table.filter(bc::id.eq(id))).execute(conn)?;
    audit::record(conn, actor, "delete", "bot_channel", id, channel_changes(Some(&current), None)?)?;
    Ok(())
}

fn cancel_pending(conn: &mut DbConn, target_id: &str, why: &str) -> Result<(), ApiError> {
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

// ---- subscriptions ----

#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone)]
#[diesel(table_name = bs)]
#[diesel(treat_none_as_null = true)]
pub struct SubscriptionRow {
    pub id: String,
    pub channel_id: String,
    pub event_types: String,
    pub partner_tiers: String,
    pub regions: String,
    pub partner_ids: String,
    pub min_importance: Option<String>,
    pub version: i64,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl SubscriptionRow {
    pub fn filters(&self) -> Result<Filters, ApiError> {
        let tiers: Vec<String> = dbjson::decode(&self.partner_tiers)?;
        Ok(Filters {
            event_types: dbjson::decode(&self.event_types)?,
            partner_tiers: tiers.iter().map(|t| Tier::from_db(t)).collect::<Result<_, _>>()?,
            regions: dbjson::decode(&self.regions)?,
            partner_ids: dbjson::decode(&self.partner_ids)?,
            min_importance: self.min_importance.as_deref().map(Importance::from_db).transpose()?,
        })
    }

    fn to_model(&self) -> Result<Subscription, ApiError> {
        let f = self.filters()?;
        Ok(Subscription {
            id: self.id.clone(),
            channel_id: self.channel_id.clone(),
            event_types: f.event_types,
            partner_tiers: f.partner_tiers,
            regions: f.regions,
            partner_ids: f.partner_ids,
            min_importance: f.min_importance,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }

    fn set_filters(&mut self, f: &Filters) {
        self.event_types = dbjson::encode(&f.event_types);
        self.partner_tiers = dbjson::encode(&f.partner_tiers.iter().map(|t| t.as_str()).collect::<Vec<_>>());
        self.regions = dbjson::encode(&f.regions);
        self.partner_ids = dbjson::encode(&f.partner_ids);
        self.min_importance = f.min_importance.map(|i| i.as_str().to_string());
    }
}

fn ensure_partners(conn: &mut DbConn, ids: &[String]) -> Result<(), ApiError> {
    for (i, id) in ids.iter().enumerate() {
        let n: i64 = partners::table.filter(partners::id.eq(id)).count().get_result(conn)?;
        if n == 0 {
            return Err(ApiError::field("partner_ids", format!("partner_ids[{i}]: no such partner: {id}")));
        }
    }
    Ok(())
}

pub fn create_subscription(
    conn: &mut DbConn,
    actor: &Actor,
    channel_id: &str,
    filters: &Filters,
) -> Result<Subscription, ApiError> {
    channel_row(conn, channel_id)?;
    ensure_partners(conn, &filters.partner_ids)?;
    let now = db::now();
    let mut row = SubscriptionRow {
        id: db::new_id(),
        channel_id: channel_id.into(),
        event_types: String::new(),
        partner_tiers: String::new(),
        regions: String::new(),
        partner_ids: String::new(),
        min_importance: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    row.set_filters(filters);
    diesel::insert_into(bs::table).values(&row).execute(conn)?;
    let model = row.to_model()?;
    audit::record(
        conn,
        actor,
        "create",
        "bot_subscription",
        &row.id,
        audit::diff(None::<&Subscription>, Some(&model)),
    )?;
    Ok(model)
}

fn subscription_row(conn: &mut DbConn, channel_id: &str, id: &str) -> Result<SubscriptionRow, ApiError> {
    channel_row(conn, channel_id)?;
    let row: Option<SubscriptionRow> = bs::table
        .filter(bs::id.eq(id).and(bs::channel_id.eq(channel_id)))
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()?;
    row.ok_or_else(|| not_found(Code::SubscriptionNotFound))
}

pub fn get_subscription(conn: &mut DbConn, channel_id: &str, id: &str) -> Result<Subscription, ApiError> {
    subscription_row(conn, channel_id, id)?.to_model()
}

/// In the order they were made.
pub fn list_subscriptions(
    conn: &mut DbConn,
    channel_id: &str,
    page: &PageRequest,
) -> Result<Vec<Subscription>, ApiError> {
    channel_row(conn, channel_id)?;
    let mut q = bs::table.filter(bs::channel_id.eq(channel_id.to_string())).into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(bs::id.gt(after[0].clone()));
    }
    let rows: Vec<SubscriptionRow> =
        q.order(bs::id.asc()).limit(page.limit + 1).select(SubscriptionRow::as_select()).load(conn)?;
    rows.iter().map(SubscriptionRow::to_model).collect()
}

pub fn update_subscription(
    conn: &mut DbConn,
    actor: &Actor,
    channel_id: &str,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &SubscriptionUpdate,
) -> Result<Subscription, ApiError> {
    let current = subscription_row(conn, channel_id, id)?;
    let next_filters = patch.apply(&current.filters()?);
    next_filters.validate()?;
    let next_filters = next_filters.normalized();
    crate::http::etag::check(expected, current.version)?;
    ensure_partners(conn, &next_filters.partner_ids)?;
    let before = current.to_model()?;
    let mut next = current.clone();
    next.set_filters(&next_filters);
    let after = next.to_model()?;
    let changes = audit::diff(Some(&before), Some(&after));
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(before);
    }
    next.version = current.version + 1;
    next.updated_at = db::now();
    let n = diesel::update(bs::table.filter(bs::id.eq(id).and(bs::version.eq(current.version))))
        .set(&next)
        .execute(conn)?;
    if n != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, "update", "bot_subscription", id, changes)?;
    next.to_model()
}

pub fn delete_subscription(
    conn: &mut DbConn,
    actor: &Actor,
    channel_id: &str,
    id: &str,
    expected: &Option<Vec<i64>>,
) -> Result<(), ApiError> {
    let current = subscription_row(conn, channel_id, id)?;
    crate::http::etag::check(expected, current.version)?;
    diesel::delete(bs::table.filter(bs::id.eq(id))).execute(conn)?;
    audit::record(
        conn,
        actor,
        "delete",
        "bot_subscription",
        id,
        audit::diff(Some(&current.to_model()?), None::<&Subscription>),
    )?;
    Ok(())
}

// ---- webhooks ----

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

pub fn create_webhook(conn: &mut DbConn, actor: &Actor, s: &WebhookSettings) -> Result<Webhook, ApiError> {
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
    diesel::insert_into(wh::table).values(&row).execute(conn)?;
    audit::record(conn, actor, "create", "webhook", &row.id, webhook_changes(None, Some(&row))?)?;
    row.to_model()
}

pub fn webhook_row(conn: &mut DbConn, id: &str) -> Result<WebhookRow, ApiError> {
    let row: Option<WebhookRow> = wh::table.find(id).select(WebhookRow::as_select()).first(conn).optional()?;
    row.ok_or_else(|| not_found(Code::WebhookNotFound))
}

pub fn get_webhook(conn: &mut DbConn, id: &str) -> Result<Webhook, ApiError> {
    webhook_row(conn, id)?.to_model()
}

pub fn list_webhooks(conn: &mut DbConn, page: &PageRequest) -> Result<Vec<Webhook>, ApiError> {
    let mut q = wh::table.into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(wh::id.lt(after[0].clone()));
    }
    let rows: Vec<WebhookRow> =
        q.order(wh::id.desc()).limit(page.limit + 1).select(WebhookRow::as_select()).load(conn)?;
    rows.iter().map(WebhookRow::to_model).collect()
}

pub fn update_webhook(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &WebhookUpdate,
    allow_hosts: &[String],
) -> Result<Webhook, ApiError> {
    let current = webhook_row(conn, id)?;
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
        .set(&next)
        .execute(conn)?;
    if n != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, "update", "webhook", id, changes)?;
    next.to_model()
}

pub fn delete_webhook(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<(), ApiError> {
    let current = webhook_row(conn, id)?;
    crate::http::etag::check(expected, current.version)?;
    cancel_pending(conn, id, "the webhook was deleted")?;
    diesel::delete(wh::table.filter(wh::id.eq(id))).execute(conn)?;
    audit::record(conn, actor, "delete", "webhook", id, webhook_changes(Some(&current), None)?)?;
    Ok(())
}

// ---- deliveries ----

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = d)]
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

pub fn delivery_row(conn: &mut DbConn, id: &str) -> Result<DeliveryRow, ApiError> {
    let row: Option<DeliveryRow> = d::table.find(id).select(DeliveryRow::as_select()).first(conn).optional()?;
    row.ok_or_else(|| not_found(Code::DeliveryNotFound))
}

/// Newest first.
pub fn list_deliveries(conn: &mut DbConn, f: &DeliveryFilter, page: &PageRequest) -> Result<Vec<Delivery>, ApiError> {
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

/// Puts a failed or dead delivery back in its channel's queue with a fresh attempt budget; the
/// parts already sent are not sent again.
pub fn retry_delivery(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
) -> Result<Delivery, ApiError> {
    let current = delivery_row(conn, id)?;
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
    let after = delivery_row(conn, id)?.to_model()?;
    audit::record(conn, actor, "retry", "delivery", id, audit::diff(Some(&current.to_model()?), Some(&after)))?;
    Ok(after)
}
