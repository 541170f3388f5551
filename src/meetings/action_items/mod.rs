//! Action items: what a meeting decided someone must do, open until done or cancelled, overdue
//! after their due date, and carried into the next meeting's review until closed.

pub mod api;
pub mod model;
pub mod store;
