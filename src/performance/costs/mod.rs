//! Cost records (渠道成本): a partner's cost in a month, by category.

pub mod api;
pub mod model;
pub mod store;
