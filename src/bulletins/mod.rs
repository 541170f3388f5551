//! Bulletins (信息共享): market, competitor, product and policy information shared with partners,
//! addressed by audience, resolved into recipients when published, with read receipts.

pub mod model;
