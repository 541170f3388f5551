//! `GET /market-share`: our revenue-weighted share of each region's market, from the partners'
//! performance records, beside each competitor's latest observed share there. The comparison the
//! seed's 渠道竞争分析 asks for, read from data the other rooms already keep.

pub mod api;
pub mod model;
pub mod store;
