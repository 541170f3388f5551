//! The meetings a calendar feed shows, read in one go with the partner names its events carry.

use std::collections::HashMap;

use super::model::{FeedWindow, MAX_FEED_EVENTS};
use crate::access::Scope;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::meetings::meetings::model::{Meeting, MeetingFilter};
use crate::meetings::meetings::store as meetings;
use crate::meetings::store as shared;

/// A feed's meetings in start order, and `id → name` of their partners.
pub struct Feed {
    pub meetings: Vec<Meeting>,
    pub names: HashMap<String, String>,
}

/// The meetings starting in the window that `scope` may see; 422 on `from` when there are more
/// than a feed carries.
pub fn feed(conn: &mut DbConn, window: &FeedWindow, scope: &Scope) -> Result<Feed, ApiError> {
    let filter = MeetingFilter {
        partner_id: window.partner_id.clone(),
        from: Some(window.from),
        to: Some(window.to),
        ..Default::default()
    };
    let page = PageRequest { limit: MAX_FEED_EVENTS as i64 + 1, after: None };
    let meetings = meetings::list(conn, &filter, &page, scope)?;
    if meetings.len() > MAX_FEED_EVENTS {
        return Err(ApiError::field(
            "from",
            format!("the window holds more than {MAX_FEED_EVENTS} meetings: narrow it or filter by partner_id"),
        ));
    }
    let mut ids: Vec<String> = meetings.iter().flat_map(|m| m.partner_ids.iter().cloned()).collect();
    ids.sort();
    ids.dedup();
    let names = shared::partner_names(conn, &ids)?;
    Ok(Feed { meetings, names })
}
