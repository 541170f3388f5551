//! The meetings a calendar feed shows, read in one go with the partner names its events carry.

use std::collections::HashMap;

use super::model::{FeedWindow, MAX_FEED_EVENTS};
use crate::access::Scope;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::meetings::meetings::model::{MeetingFilter, MeetingView};
use crate::meetings::meetings::store as meetings;
use crate::meetings::store as shared;

/// A feed's meetings in start order as the caller may see them, and `id → name` of the partners
/// they show.
pub struct Feed {
    pub meetings: Vec<MeetingView>,
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
    let meetings: Vec<MeetingView> = meetings.into_iter().map(|m| m.view(scope)).collect();
    let mut ids: Vec<String> = meetings.iter().flat_map(|m| m.meeting.partner_ids.iter().cloned()).collect();
    ids.sort();
    ids.dedup();
    let names = shared::partner_names(conn, &ids)?;
    Ok(Feed { meetings, names })
}

/// One meeting as the caller may see it, and `id → name` of the partners it shows.
pub fn one(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<(MeetingView, HashMap<String, String>), ApiError> {
    let view = shared::meeting(conn, id, scope)?.view(scope);
    let names = shared::partner_names(conn, &view.meeting.partner_ids)?;
    Ok((view, names))
}
