//! Performance records (渠道效果): one partner's month, for the whole business or per product line.

pub mod api;
pub mod model;
pub mod store;
