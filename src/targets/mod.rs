//! Joint targets (共同目标): a partner's agreed goals for a month, quarter or year, their actuals
//! from the performance records, and the scan that announces missed ones.

pub mod api;
pub mod events;
pub mod missed;
pub mod model;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create).service(api::list).service(api::get).service(api::update).service(api::delete);
}
