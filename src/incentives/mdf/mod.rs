//! Marketing support (MDF, 市场推广支持): per-partner budgets of marketing_support programs and
//! the requests that spend them, from submission to payment.

pub mod api;
pub mod model;
pub mod store;
