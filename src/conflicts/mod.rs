//! Channel conflicts (渠道冲突): cases opened by hand or detected from the data (deal clashes,
//! overlapping exclusive territories, partners on one account with no lead), worked to a
//! resolution with one of the seed's remedies, with a comment timeline and the stats that show
//! whether the remedies work.

pub mod events;
pub mod model;
pub mod store;
