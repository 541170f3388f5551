//! Wire types of bot channels, subscriptions, webhooks and deliveries, and the pure rules that
//! route an event to them: event-type wildcards, subscription filters, outbound URL checks and
//! the masking of write-only credentials.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::partners::model::{nullable, Tier};
use crate::platforms::Platform;
use crate::validation::{Check, MAX_SHORT_TEXT};

crate::record!(BotChannel, Subscription, Webhook, Delivery);

crate::text_enum! {
    /// A bulletin's importance (bulletins issue), lowest first.
    Importance { Normal => "normal", Important => "important", Urgent => "urgent" }
}

crate::text_enum! {
    /// pending: waiting for its turn or a retry; sent; failed: the platform refused it for good;
    /// dead: the attempt limit was reached; cancelled: its channel or webhook was deleted.
    DeliveryStatus { Pending => "pending", Sent => "sent", Failed => "failed", Dead => "dead", Cancelled => "cancelled" }
}

crate::text_enum! {
    /// Where a delivery goes.
    TargetKind { BotChannel => "bot_channel", Webhook => "webhook" }
}

impl Importance {
    pub fn rank(self) -> usize {
        Self::ALL.iter().position(|i| *i == self).unwrap_or(0)
    }
}

pub const MAX_URL: usize = 2048;
pub const MAX_EVENT_TYPES: usize = 50;
pub const EVENT_TYPE_PATTERN: &str = r"^(\*|[a-z0-9_]+)(\.(\*|[a-z0-9_]+))*$";

/// `event_types[]` in the schema: what `check_event_types` enforces.
fn event_types_schema() -> impl Into<RefOr<Schema>> {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(EVENT_TYPE_PATTERN))
                .min_length(Some(1))
                .max_length(Some(100)),
        )
        .min_items(Some(1))
        .max_items(Some(MAX_EVENT_TYPES))
        .unique_items(true)
        .description(Some("Event types, with `*` matching any run of characters: `partner.created`, `meeting.*`, `*`."))
}

/// `partner_ids[]` in the schema.
fn partner_ids_schema() -> impl Into<RefOr<Schema>> {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Uuid))),
        )
        .max_items(Some(100))
        .unique_items(true)
}

fn check_event_types(c: &mut Check, field: &str, types: &[String]) {
    if types.is_empty() || types.len() > MAX_EVENT_TYPES {
        c.add(field, format!("must have 1 to {MAX_EVENT_TYPES} items (got {})", types.len()));
        return;
    }
    for (i, t) in types.iter().enumerate() {
        if !is_event_type_pattern(t) {
            c.add(format!("{field}[{i}]"), "must be a dotted event type such as partner.created, meeting.* or *");
        } else if types[..i].contains(t) {
            c.add(format!("{field}[{i}]"), "is a duplicate");
        }
    }
}

fn is_event_type_pattern(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 100
        && t.split('.').all(|seg| {
            seg == "*"
                || (!seg.is_empty() && seg.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
        })
}

/// True when `event_type` matches `pattern`, where `*` stands for any run of characters
/// (dots included): `meeting.*` matches `meeting.reminder`, `*` matches everything.
pub fn type_matches(pattern: &str, event_type: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    go(pattern.as_bytes(), event_type.as_bytes())
}

// ---- bot channels ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BotChannel {
    pub id: String,
    pub platform: Platform,
    pub name: String,
    /// The robot's URL with its key / access_token masked (`****`): the credential is write-only.
    pub webhook_url: String,
    /// True when a DingTalk signing secret (加签) is set; the secret itself is never shown.
    pub secret_set: bool,
    /// A DingTalk security keyword; every message carries it.
    pub keyword: Option<String>,
    pub enabled: bool,
    /// The partner this chat belongs to: it then receives only that partner's events, and chat
    /// commands from it answer as a partner key would.
    pub partner_id: Option<String>,
    /// The chat's conversation id on the platform (DingTalk `conversationId`, WeCom `chatid`), which
    /// ties inbound commands from that chat to this channel.
    pub chat_id: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BotChannelCreate {
    pub platform: Platform,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// As the platform gave it: WeCom `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`,
    /// DingTalk `https://oapi.dingtalk.com/robot/send?access_token=…`. Its host must be in
    /// `CHANNELDESK_OUTBOUND_ALLOW_HOSTS`. Write-only.
    #[schema(min_length = 1, max_length = 2048)]
    pub webhook_url: String,
    /// DingTalk 加签 secret (`SEC…`). Write-only.
    #[schema(min_length = 1, max_length = 200)]
    pub secret: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub keyword: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
    #[schema(format = Uuid)]
    pub partner_id: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub chat_id: Option<String>,
}

/// A JSON merge patch; the platform cannot change (make a new channel instead).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BotChannelUpdate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(min_length = 1, max_length = 2048)]
    pub webhook_url: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 200)]
    pub secret: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 100)]
    pub keyword: Option<Option<String>>,
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(format = Uuid)]
    pub partner_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 200)]
    pub chat_id: Option<Option<String>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BotChannelFilter {
    pub platform: Option<Platform>,
    pub enabled: Option<bool>,
    #[param(format = Uuid)]
    pub partner_id: Option<String>,
}

impl BotChannelFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(id) = &self.partner_id {
            check_uuid(&mut c, "partner_id", id);
        }
        c.finish()
    }
}

fn check_uuid(c: &mut Check, field: &str, value: &str) {
    if uuid::Uuid::parse_str(value).is_err() {
        c.add(field, "must be a UUID");
    }
}

/// The settings a channel has after a create or a patch, checked as a whole.
#[derive(Debug, Clone)]
pub struct ChannelSettings {
    pub platform: Platform,
    pub name: String,
    pub webhook_url: String,
    pub secret: Option<String>,
    pub keyword: Option<String>,
    pub enabled: bool,
    pub partner_id: Option<String>,
    pub chat_id: Option<String>,
}

impl ChannelSettings {
    /// Field checks; `allow_hosts` is `CHANNELDESK_OUTBOUND_ALLOW_HOSTS`.
    pub fn validate(&self, allow_hosts: &[String]) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.text("name", &self.name, 1, MAX_SHORT_TEXT);
        c.opt_text("secret", self.secret.as_deref(), 200);
        c.opt_text("keyword", self.keyword.as_deref(), 100);
        c.opt_text("chat_id", self.chat_id.as_deref(), 200);
        if let Some(id) = &self.partner_id {
            check_uuid(&mut c, "partner_id", id);
        }
        c.text("webhook_url", &self.webhook_url, 1, MAX_URL);
        if c.is_ok() {
            if let Err(msg) = check_robot_url(self.platform, &self.webhook_url, allow_hosts) {
                c.add("webhook_url", msg);
            }
        }
        c.finish()
    }
}

impl BotChannelCreate {
    pub fn settings(&self) -> ChannelSettings {
        ChannelSettings {
            platform: self.platform,
            name: self.name.clone(),
            webhook_url: self.webhook_url.trim().to_string(),
            secret: self.secret.clone(),
            keyword: self.keyword.clone(),
            enabled: self.enabled.unwrap_or(true),
            partner_id: self.partner_id.as_ref().map(|p| p.to_ascii_lowercase()),
            chat_id: self.chat_id.clone(),
        }
    }
}

impl BotChannelUpdate {
    pub fn apply(&self, current: &ChannelSettings) -> ChannelSettings {
        let mut next = current.clone();
        if let Some(v) = &self.name {
            next.name = v.clone();
        }
        if let Some(v) = &self.webhook_url {
            next.webhook_url = v.trim().to_string();
        }
        if let Some(v) = &self.secret {
            next.secret = v.clone();
        }
        if let Some(v) = &self.keyword {
            next.keyword = v.clone();
        }
        if let Some(v) = self.enabled {
            next.enabled = v;
        }
        if let Some(v) = &self.partner_id {
            next.partner_id = v.as_ref().map(|p| p.to_ascii_lowercase());
        }
        if let Some(v) = &self.chat_id {
            next.chat_id = v.clone();
        }
        next
    }
}

/// A parsed outbound URL: http(s), no user info, and its `host[:port]` for the allow list.
fn parse_outbound(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|_| "must be an absolute http(s) URL".to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http(s) URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    Ok(url)
}

/// True when the URL's host (any port) or host:port is listed.
pub fn host_allowed(url: &url::Url, allow_hosts: &[String]) -> bool {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = url.port_or_known_default().unwrap_or(0);
    let with_port = format!("{host}:{port}");
    allow_hosts.iter().any(|a| *a == host || *a == with_port)
}

fn query_value(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).filter(|v| !v.is_empty())
}

/// A robot URL: allowed host, and the credential the platform puts in it.
pub fn check_robot_url(platform: Platform, raw: &str, allow_hosts: &[String]) -> Result<(), String> {
    let url = parse_outbound(raw)?;
    if !host_allowed(&url, allow_hosts) {
        return Err(format!(
            "the host {} is not in CHANNELDESK_OUTBOUND_ALLOW_HOSTS",
            url.host_str().unwrap_or_default()
        ));
    }
    let param = robot_credential_param(platform);
    if query_value(&url, param).is_none() {
        return Err(format!("a {platform} robot URL carries its {param}=… query parameter"));
    }
    Ok(())
}

fn robot_credential_param(platform: Platform) -> &'static str {
    match platform {
        Platform::Wecom => "key",
        Platform::Dingtalk => "access_token",
    }
}

/// The URL as it may be shown: the values of `key` and `access_token` replaced by `****`.
pub fn mask_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else { return "****".into() };
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let secret = matches!(k.as_ref(), "key" | "access_token" | "sign" | "secret" | "token");
            (k.into_owned(), if secret { "****".to_string() } else { v.into_owned() })
        })
        .collect();
    if pairs.is_empty() {
        return url.to_string();
    }
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string().replace("%2A%2A%2A%2A", "****")
}

/// A webhook URL: https to any public host, or any http(s) URL on an allowed host. An https URL
/// naming a loopback, private or link-local IP address (or `localhost`) must be allowed
/// explicitly, so a webhook cannot be aimed at the service's own neighbourhood by address.
pub fn check_webhook_url(raw: &str, allow_hosts: &[String]) -> Result<(), String> {
    let url = parse_outbound(raw)?;
    if host_allowed(&url, allow_hosts) {
        return Ok(());
    }
    if url.scheme() != "https" {
        return Err("must be https (plain http only to a host in CHANNELDESK_OUTBOUND_ALLOW_HOSTS)".into());
    }
    let internal = match url.host() {
        Some(url::Host::Ipv4(ip)) => {
            ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast()
        }
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
        }
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        None => true,
    };
    if internal {
        return Err("names an internal address; list it in CHANNELDESK_OUTBOUND_ALLOW_HOSTS to allow it".into());
    }
    Ok(())
}

// ---- subscriptions ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Subscription {
    pub id: String,
    pub channel_id: String,
    pub event_types: Vec<String>,
    /// Only events about partners of these tiers (empty: any).
    pub partner_tiers: Vec<Tier>,
    /// Only events about partners in these regions (empty: any).
    pub regions: Vec<String>,
    /// Only events about these partners (empty: any).
    pub partner_ids: Vec<String>,
    /// Only bulletins at least this important (other events are not filtered by it).
    pub min_importance: Option<Importance>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionCreate {
    #[schema(schema_with = event_types_schema)]
    pub event_types: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 4)]
    pub partner_tiers: Vec<Tier>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub regions: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = partner_ids_schema)]
    pub partner_ids: Vec<String>,
    pub min_importance: Option<Importance>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionUpdate {
    #[schema(schema_with = event_types_schema)]
    pub event_types: Option<Vec<String>>,
    #[schema(max_items = 4)]
    pub partner_tiers: Option<Vec<Tier>>,
    #[schema(max_items = 50)]
    pub regions: Option<Vec<String>>,
    #[schema(schema_with = partner_ids_schema)]
    pub partner_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub min_importance: Option<Option<Importance>>,
}

/// What a subscription says, after a create or a patch.
#[derive(Debug, Clone, PartialEq)]
pub struct Filters {
    pub event_types: Vec<String>,
    pub partner_tiers: Vec<Tier>,
    pub regions: Vec<String>,
    pub partner_ids: Vec<String>,
    pub min_importance: Option<Importance>,
}

impl Filters {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        check_event_types(&mut c, "event_types", &self.event_types);
        if self.partner_tiers.len() > 4 {
            c.add("partner_tiers", "must have at most 4 items");
        }
        c.labels("regions", &self.regions, 0, 50);
        if self.partner_ids.len() > 100 {
            c.add("partner_ids", "must have at most 100 items");
        }
        for (i, id) in self.partner_ids.iter().enumerate() {
            if uuid::Uuid::parse_str(id).is_err() {
                c.add(format!("partner_ids[{i}]"), "must be a UUID");
            } else if self.partner_ids[..i].contains(id) {
                c.add(format!("partner_ids[{i}]"), "is a duplicate");
            }
        }
        c.finish()
    }

    /// Tiers once each, ids in their canonical lowercase form.
    pub fn normalized(mut self) -> Self {
        let mut tiers = Vec::new();
        for t in self.partner_tiers {
            if !tiers.contains(&t) {
                tiers.push(t);
            }
        }
        self.partner_tiers = tiers;
        self.partner_ids = self.partner_ids.iter().map(|p| p.to_ascii_lowercase()).collect();
        self
    }

    /// True when an event of `event_type` with `facts` passes this subscription.
    pub fn matches(&self, event_type: &str, facts: &EventFacts) -> bool {
        if !self.event_types.iter().any(|p| type_matches(p, event_type)) {
            return false;
        }
        let any_partner = |ok: &dyn Fn(&PartnerFacts) -> bool| facts.partners.iter().any(ok);
        if !self.partner_tiers.is_empty() && !any_partner(&|p| p.tier.is_some_and(|t| self.partner_tiers.contains(&t)))
        {
            return false;
        }
        if !self.regions.is_empty() && !any_partner(&|p| p.region.as_ref().is_some_and(|r| self.regions.contains(r))) {
            return false;
        }
        if !self.partner_ids.is_empty() && !any_partner(&|p| self.partner_ids.contains(&p.id)) {
            return false;
        }
        if let (Some(min), Some(importance)) = (self.min_importance, facts.importance) {
            if importance.rank() < min.rank() {
                return false;
            }
        }
        true
    }
}

impl SubscriptionCreate {
    pub fn filters(&self) -> Filters {
        Filters {
            event_types: self.event_types.clone(),
            partner_tiers: self.partner_tiers.clone(),
            regions: self.regions.clone(),
            partner_ids: self.partner_ids.clone(),
            min_importance: self.min_importance,
        }
    }
}

impl SubscriptionUpdate {
    pub fn apply(&self, current: &Filters) -> Filters {
        let mut next = current.clone();
        if let Some(v) = &self.event_types {
            next.event_types = v.clone();
        }
        if let Some(v) = &self.partner_tiers {
            next.partner_tiers = v.clone();
        }
        if let Some(v) = &self.regions {
            next.regions = v.clone();
        }
        if let Some(v) = &self.partner_ids {
            next.partner_ids = v.clone();
        }
        if let Some(v) = self.min_importance {
            next.min_importance = v;
        }
        next
    }
}

/// One partner an event concerns, as routing sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerFacts {
    pub id: String,
    pub tier: Option<Tier>,
    pub region: Option<String>,
}

/// What routing knows about an event (see `notify::route::facts`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFacts {
    /// The partners the event concerns: its own partner, a meeting's partners, a bulletin's
    /// recipients (a bulletin to `all` names every partner it reached), both sides of a risk.
    pub partners: Vec<PartnerFacts>,
    /// A bulletin's importance (other events have none).
    pub importance: Option<Importance>,
}

impl EventFacts {
    /// May a channel bound to `partner_id` see this event? Only if the event concerns that
    /// partner; an event about no partner in particular goes to unbound channels only.
    pub fn visible_to_partner(&self, partner_id: &str) -> bool {
        self.partners.iter().any(|p| p.id == partner_id)
    }
}

// ---- webhooks ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub name: String,
    pub url: String,
    /// The signing secret is write-only; this says one is set.
    pub secret_set: bool,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookCreate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// https (any public host), or http(s) to a host in `CHANNELDESK_OUTBOUND_ALLOW_HOSTS`.
    #[schema(min_length = 1, max_length = 2048)]
    pub url: String,
    /// Signs every request: `X-Channeldesk-Signature` = hex HMAC-SHA256(secret, timestamp + "." + body).
    /// Write-only, 16–200 characters.
    #[schema(min_length = 16, max_length = 200)]
    pub secret: String,
    #[schema(schema_with = event_types_schema)]
    pub event_types: Vec<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookUpdate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(min_length = 1, max_length = 2048)]
    pub url: Option<String>,
    #[schema(min_length = 16, max_length = 200)]
    pub secret: Option<String>,
    #[schema(schema_with = event_types_schema)]
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub name: String,
    pub url: String,
    pub secret: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
}

impl WebhookSettings {
    pub fn validate(&self, allow_hosts: &[String]) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.text("name", &self.name, 1, MAX_SHORT_TEXT);
        c.text("secret", &self.secret, 16, 200);
        check_event_types(&mut c, "event_types", &self.event_types);
        c.text("url", &self.url, 1, MAX_URL);
        if c.is_ok() {
            if let Err(msg) = check_webhook_url(&self.url, allow_hosts) {
                c.add("url", msg);
            }
        }
        c.finish()
    }
}

impl WebhookCreate {
    pub fn settings(&self) -> WebhookSettings {
        WebhookSettings {
            name: self.name.clone(),
            url: self.url.trim().to_string(),
            secret: self.secret.clone(),
            event_types: self.event_types.clone(),
            enabled: self.enabled.unwrap_or(true),
        }
    }
}

impl WebhookUpdate {
    pub fn apply(&self, current: &WebhookSettings) -> WebhookSettings {
        let mut next = current.clone();
        if let Some(v) = &self.name {
            next.name = v.clone();
        }
        if let Some(v) = &self.url {
            next.url = v.trim().to_string();
        }
        if let Some(v) = &self.secret {
            next.secret = v.clone();
        }
        if let Some(v) = &self.event_types {
            next.event_types = v.clone();
        }
        if let Some(v) = self.enabled {
            next.enabled = v;
        }
        next
    }
}

// ---- deliveries ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub target_kind: TargetKind,
    /// The bot channel's or webhook's id.
    pub target_id: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// Messages this delivery is made of (long content is split into numbered parts).
    pub parts_total: i32,
    pub parts_sent: i32,
    /// When a pending delivery is tried next.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The last failure: the platform's errmsg, the HTTP status, or a timeout.
    pub last_error: Option<String>,
    pub last_http_status: Option<i32>,
    /// The platform's errcode of the last answer (WeCom / DingTalk).
    pub last_errcode: Option<i64>,
    pub sent_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    /// Deliveries to this bot channel.
    #[param(format = Uuid)]
    pub channel_id: Option<String>,
    /// Deliveries to this webhook.
    #[param(format = Uuid)]
    pub webhook_id: Option<String>,
    /// Deliveries of this event.
    #[param(format = Uuid)]
    pub event_id: Option<String>,
}

impl DeliveryFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        for (field, value) in
            [("channel_id", &self.channel_id), ("webhook_id", &self.webhook_id), ("event_id", &self.event_id)]
        {
            if let Some(v) = value {
                check_uuid(&mut c, field, v);
            }
        }
        c.finish()
    }
}

/// The platform's answer to `POST /bot-channels/{id}/test`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestResult {
    /// True when the platform accepted the message (errcode 0).
    pub ok: bool,
    pub http_status: Option<u16>,
    pub errcode: Option<i64>,
    pub errmsg: Option<String>,
    /// Why no answer came (timeout, connection refused), when none did.
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        vec!["qyapi.weixin.qq.com".into(), "oapi.dingtalk.com".into(), "127.0.0.1:9000".into()]
    }

    #[test]
    fn wildcards() {
        assert!(type_matches("*", "partner.created"));
        assert!(type_matches("meeting.*", "meeting.reminder"));
        assert!(type_matches("meeting.*", "meeting.x.y"));
        assert!(!type_matches("meeting.*", "meetings.reminder"));
        assert!(!type_matches("meeting.*", "meeting"));
        assert!(type_matches("*.overdue", "action_item.overdue"));
        assert!(type_matches("partner.created", "partner.created"));
        assert!(!type_matches("partner.created", "partner.created2"));
        for ok in ["*", "meeting.*", "a.b.c", "action_item.overdue", "*.overdue"] {
            assert!(is_event_type_pattern(ok), "{ok}");
        }
        for bad in ["", "Meeting.x", "a..b", "a.", " a", "a*b.c", "a.b*"] {
            assert!(!is_event_type_pattern(bad), "{bad}");
        }
    }

    #[test]
    fn robot_urls_must_be_allowed_and_carry_their_credential() {
        let h = hosts();
        assert!(
            check_robot_url(Platform::Wecom, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", &h).is_ok()
        );
        assert!(check_robot_url(Platform::Dingtalk, "https://oapi.dingtalk.com/robot/send?access_token=t", &h).is_ok());
        assert!(check_robot_url(Platform::Dingtalk, "https://oapi.dingtalk.com/robot/send?key=t", &h).is_err());
        assert!(check_robot_url(Platform::Wecom, "https://evil.example.com/send?key=abc", &h).is_err());
        assert!(check_robot_url(Platform::Wecom, "http://127.0.0.1:9000/send?key=abc", &h).is_ok());
        assert!(check_robot_url(Platform::Wecom, "http://127.0.0.1:9001/send?key=abc", &h).is_err(), "other port");
        assert!(check_robot_url(Platform::Wecom, "https://u:p@qyapi.weixin.qq.com/?key=a", &h).is_err());
        assert!(check_robot_url(Platform::Wecom, "ftp://qyapi.weixin.qq.com/?key=a", &h).is_err());
        assert!(check_robot_url(Platform::Wecom, "https://qyapi.weixin.qq.com.evil.cn/?key=a", &h).is_err());
        let any_port = vec!["127.0.0.1".to_string()];
        assert!(check_robot_url(Platform::Wecom, "http://127.0.0.1:41234/x?key=k", &any_port).is_ok());
    }

    #[test]
    fn webhook_urls() {
        let h = hosts();
        assert!(check_webhook_url("https://hooks.example.com/in", &h).is_ok());
        assert!(check_webhook_url("http://hooks.example.com/in", &h).is_err());
        assert!(check_webhook_url("https://127.0.0.1/in", &h).is_err());
        assert!(check_webhook_url("https://10.1.2.3/in", &h).is_err());
        assert!(check_webhook_url("https://[::1]/in", &h).is_err());
        assert!(check_webhook_url("https://localhost/in", &h).is_err());
        assert!(check_webhook_url("http://127.0.0.1:9000/in", &h).is_ok(), "allowed explicitly");
    }

    #[test]
    fn masking_hides_credentials_only() {
        assert_eq!(
            mask_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx"),
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****"
        );
        let m = mask_url("https://oapi.dingtalk.com/robot/send?access_token=SECRET123&x=1");
        assert_eq!(m, "https://oapi.dingtalk.com/robot/send?access_token=****&x=1");
        assert!(!mask_url("not a url SECRET").contains("SECRET"));
    }

    fn filters(types: &[&str]) -> Filters {
        Filters {
            event_types: types.iter().map(|s| s.to_string()).collect(),
            partner_tiers: vec![],
            regions: vec![],
            partner_ids: vec![],
            min_importance: None,
        }
    }

    #[test]
    fn subscription_filters() {
        let p = |id: &str, tier, region: &str| PartnerFacts {
            id: id.into(),
            tier: Some(tier),
            region: Some(region.into()),
        };
        let facts = EventFacts { partners: vec![p("a", Tier::Key, "华东")], importance: None };
        assert!(filters(&["partner.*"]).matches("partner.created", &facts));
        assert!(!filters(&["meeting.*"]).matches("partner.created", &facts));
        let mut f = filters(&["*"]);
        f.partner_tiers = vec![Tier::Strategic];
        assert!(!f.matches("partner.created", &facts));
        f.partner_tiers.push(Tier::Key);
        assert!(f.matches("partner.created", &facts));
        f.regions = vec!["华北".into()];
        assert!(!f.matches("partner.created", &facts));
        f.regions = vec!["华东".into()];
        f.partner_ids = vec!["b".into()];
        assert!(!f.matches("partner.created", &facts));
        assert!(!f.matches("partner.created", &EventFacts::default()), "partner filters need a partner");
        let many = EventFacts {
            partners: vec![p("x", Tier::Standard, "华南"), p("b", Tier::Key, "华东")],
            importance: None,
        };
        assert!(f.matches("bulletin.published", &many), "one of several recipients passing is enough");
        assert!(many.visible_to_partner("b") && !many.visible_to_partner("a"));
        let mut imp = filters(&["bulletin.*"]);
        imp.min_importance = Some(Importance::Important);
        let urgent = EventFacts { importance: Some(Importance::Urgent), ..Default::default() };
        let normal = EventFacts { importance: Some(Importance::Normal), ..Default::default() };
        assert!(imp.matches("bulletin.published", &urgent));
        assert!(!imp.matches("bulletin.published", &normal));
        assert!(imp.matches("bulletin.archived", &EventFacts::default()), "no importance, no filter");
        assert!(facts.visible_to_partner("a") && !facts.visible_to_partner("b"));
        assert!(!EventFacts::default().visible_to_partner("a"));
    }

    #[test]
    fn subscription_validation_names_fields() {
        let mut f = filters(&["partner.*", "partner.*", "Bad"]);
        f.partner_ids = vec!["nope".into()];
        let err = f.validate().unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["event_types[1]", "event_types[2]", "partner_ids[0]"]);
        assert_eq!(filters(&[]).validate().unwrap_err().errors[0].field, "event_types");
    }
}
