//! Observations of a competitor's channels (`/competitors/{id}/observations`).

pub mod api;
pub mod model;
pub mod store;
