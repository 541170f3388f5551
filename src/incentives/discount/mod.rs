//! The discount that applies to a partner on a day (折扣): the best of the active discount
//! programs addressed to it and the discount terms of its active contracts, with which one won.

pub mod api;
pub mod model;
pub mod store;
