//! iCalendar (RFC 5545) export of meetings: one meeting, or a feed calendar apps subscribe to.

pub mod api;
pub mod export;
pub mod ics;
pub mod model;
pub mod store;
