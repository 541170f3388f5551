//! Meetings with partners: scheduled, then held (with minutes, decisions and action items) or
//! cancelled.

pub mod api;
pub mod model;
pub mod patch;
pub mod store;
