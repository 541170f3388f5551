//! Wire types of bot channels (a WeCom or DingTalk group robot and its chat) and the rules of
//! their settings: the robot URL on an allowed host with its credential, write-only secrets.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::notify::checks::{check_robot_url, check_uuid, MAX_URL};
use crate::partners::model::nullable;
use crate::platforms::Platform;
use crate::validation::{Check, MAX_SHORT_TEXT};

crate::record!(BotChannel);

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
