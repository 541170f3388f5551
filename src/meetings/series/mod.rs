//! Recurring meeting series: a template and a rule whose occurrences are real meetings.

pub mod api;
pub mod edit;
pub mod model;
pub mod recurrence;
pub mod store;
