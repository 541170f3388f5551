//! Calendar subscription URLs: per-key feed URLs with an unguessable token, for calendar apps
//! that cannot send a bearer header.

pub mod api;
pub mod model;
pub mod store;
