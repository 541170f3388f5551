//! Scorecards (渠道效果/成本评估): the view that weighs each channel's effect — growth, attainment
//! of joint targets, market share, customer satisfaction — against what it costs, per partner or
//! per channel type, kind, tier or region, over a window of months. Nothing here is stored: the
//! sums come from performance records, cost records and targets by GROUP BY in SQL
//! (`store.rs`), the score from pure arithmetic with its documented normalisation and weights
//! (`model.rs`), and the partner chart from `chart.rs`. No PRM the team compared does this.

pub mod api;
pub mod chart;
pub mod model;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::list).service(api::partner);
}
