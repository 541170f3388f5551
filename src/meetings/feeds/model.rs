//! Calendar subscriptions (订阅日历): a feed URL that Outlook, Google Calendar and Apple Calendar
//! can poll without an Authorization header. The URL carries an unguessable token, shown once and
//! stored only as its SHA-256; the feed reads with the scope of the API key that made it and the
//! filters given here, and stops when the feed or that key is revoked.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{ApiError, Code};
use crate::meetings::calendar::model::{CalendarFilter, FeedWindow};
use crate::meetings::model::{opt_id, to_second};
use crate::validation::Check;

/// The filters a feed keeps: those `/calendar.ics` takes. A feed without `from` always starts 30
/// days before the moment it is read; without `to` it covers 400 days from `from`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedFilters {
    /// Only meetings that include this partner.
    #[schema(format = Uuid)]
    pub partner_id: Option<String>,
    /// Meetings starting at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Meetings starting before this instant (at most 400 days after `from`).
    pub to: Option<DateTime<Utc>>,
}

crate::json_column!(FeedFilters);

impl FeedFilters {
    /// The filters normalized (ids lowercase, times to the second), checked as `/calendar.ics`
    /// checks them at `now`.
    pub fn validated(&self, now: DateTime<Utc>) -> Result<FeedFilters, ApiError> {
        let mut c = Check::new();
        let out = FeedFilters {
            partner_id: opt_id(&mut c, "partner_id", self.partner_id.as_deref()),
            from: self.from.map(to_second),
            to: self.to.map(to_second),
        };
        c.finish()?;
        out.window(now)?;
        Ok(out)
    }

    /// The window the feed covers when read at `now`.
    pub fn window(&self, now: DateTime<Utc>) -> Result<FeedWindow, ApiError> {
        CalendarFilter { partner_id: self.partner_id.clone(), from: self.from, to: self.to }.window(now)
    }
}

/// A feed as its owner sees it: never with its token.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::calendar_feeds, treat_none_as_default_value = false)]
pub struct CalendarFeed {
    pub id: String,
    #[diesel(serialize_as = crate::db::types::JsonText)]
    pub filters: FeedFilters,
    #[diesel(serialize_as = crate::db::types::UtcTime)]
    pub created_at: DateTime<Utc>,
}

/// A new feed, with the URL to subscribe to.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeedCreated {
    #[serde(flatten)]
    pub feed: CalendarFeed,
    /// The subscription URL (`…/feeds/<token>.ics`). Shown only in this response: the token is
    /// stored hashed and cannot be shown again.
    #[schema(example = "https://channeldesk.example.cn/feeds/cdf_3f9c…e1.ics")]
    pub url: String,
}

pub fn feed_not_found() -> ApiError {
    ApiError::not_found(Code::CalendarFeedNotFound)
}

/// A fresh token (`cdf_` and 256 random bits in hex) and the SHA-256 that is stored of it.
pub fn generate_token() -> (String, String) {
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let token = format!("cdf_{}", hex::encode(secret));
    let hash = token_hash(&token);
    (token, hash)
}

/// What is stored of a token (it has 256 bits of entropy, so a slow hash adds nothing).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The URL a token is served at, under `base` (`https://host`, no trailing slash).
pub fn feed_url(base: &str, token: &str) -> String {
    format!("{base}/feeds/{token}.ics")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unguessable_and_stored_hashed() {
        let (a, hash) = generate_token();
        let (b, _) = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with("cdf_") && a.len() == 68, "{a}");
        assert_eq!(hash, token_hash(&a));
        assert!(!hash.contains(&a[4..]));
        assert_eq!(feed_url("https://x.cn", "cdf_1"), "https://x.cn/feeds/cdf_1.ics");
    }

    #[test]
    fn filters_are_checked_like_the_feed_query() {
        let now: DateTime<Utc> = "2027-01-04T00:00:00Z".parse().unwrap();
        let ok = FeedFilters { partner_id: Some("0192F0C4-3B9E-7C1A-8F00-000000000001".into()), ..Default::default() };
        assert_eq!(ok.validated(now).unwrap().partner_id.as_deref(), Some("0192f0c4-3b9e-7c1a-8f00-000000000001"));
        let bad = FeedFilters { partner_id: None, from: Some(now), to: Some(now) };
        assert_eq!(bad.validated(now).unwrap_err().errors[0].field, "to");
        let bad = FeedFilters { partner_id: Some("x".into()), ..Default::default() };
        assert_eq!(bad.validated(now).unwrap_err().errors[0].field, "partner_id");
    }
}
