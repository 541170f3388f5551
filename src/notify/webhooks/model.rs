//! Wire types of signed webhooks (events posted to another system as JSON) and the rules of their
//! settings: a public https URL (or an allowed host), a write-only signing secret, event types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::notify::checks::{check_event_types, check_webhook_url, event_types_schema, MAX_URL};
use crate::validation::{Check, MAX_SHORT_TEXT};

crate::record!(Webhook);

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
