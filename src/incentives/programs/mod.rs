//! Incentive programs (激励政策): what the channel team offers which partners, when, and by what
//! rules — rebates (返点), discounts (折扣) and marketing support (市场推广支持).

pub mod api;
pub mod model;
pub mod store;
