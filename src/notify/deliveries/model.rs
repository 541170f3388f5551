//! Wire types of deliveries: one event on its way to one bot channel or webhook, with its
//! attempts, its parts (long messages are split) and the last answer it got.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::notify::checks::check_uuid;
use crate::validation::Check;

crate::record!(Delivery);

crate::text_enum! {
    /// pending: waiting for its turn or a retry; sent; failed: the platform refused it for good;
    /// dead: it kept failing for `CHANNELDESK_DELIVERY_RETRY_HOURS` after its first attempt
    /// (a `delivery.dead` event says so); cancelled: its channel or webhook was deleted.
    DeliveryStatus { Pending => "pending", Sent => "sent", Failed => "failed", Dead => "dead", Cancelled => "cancelled" }
}

crate::text_enum! {
    /// Where a delivery goes.
    TargetKind { BotChannel => "bot_channel", Webhook => "webhook" }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
    /// When it was first tried: a failing delivery is retried until
    /// `CHANNELDESK_DELIVERY_RETRY_HOURS` after this, then it is dead. A manual retry starts anew.
    pub first_attempt_at: Option<DateTime<Utc>>,
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
