//! What a calendar feed covers: the filters `/calendar.ics` takes and the window they make
//! (at most 400 days, at most 5,000 meetings), checked without the database.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::meetings::model::{opt_id, to_second};
use crate::validation::Check;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarFilter {
    /// Only meetings that include this partner.
    #[param(value_type = Option<uuid::Uuid>)]
    pub partner_id: Option<String>,
    /// Meetings starting at or after this instant (default: 30 days ago).
    pub from: Option<DateTime<Utc>>,
    /// Meetings starting before this instant (default and maximum: 400 days after `from`).
    pub to: Option<DateTime<Utc>>,
}

pub const MAX_FEED_DAYS: i64 = 400;
pub const MAX_FEED_EVENTS: usize = 5_000;

/// The window a feed covers.
pub struct FeedWindow {
    pub partner_id: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl CalendarFilter {
    pub fn window(&self, now: DateTime<Utc>) -> Result<FeedWindow, ApiError> {
        let mut c = Check::new();
        let partner_id = opt_id(&mut c, "partner_id", self.partner_id.as_deref());
        let from = to_second(self.from.unwrap_or(now - Duration::days(30)));
        let to = self.to.map(to_second).unwrap_or(from + Duration::days(MAX_FEED_DAYS));
        if to <= from {
            c.add("to", "must be after from");
        } else if to - from > Duration::days(MAX_FEED_DAYS) {
            c.add("to", format!("may be at most {MAX_FEED_DAYS} days after from"));
        }
        c.finish()?;
        Ok(FeedWindow { partner_id, from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_windows() {
        let now: DateTime<Utc> = "2027-01-04T00:00:00Z".parse().unwrap();
        let w = CalendarFilter::default().window(now).unwrap();
        assert_eq!(w.to - w.from, Duration::days(MAX_FEED_DAYS));
        let f = CalendarFilter { partner_id: None, from: Some(now), to: Some(now) };
        assert_eq!(f.window(now).err().unwrap().errors[0].field, "to");
        let f = CalendarFilter { partner_id: None, from: Some(now), to: Some(now + Duration::days(401)) };
        assert_eq!(f.window(now).err().unwrap().errors[0].field, "to");
    }
}
