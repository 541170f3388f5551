//! Competitors (渠道竞争分析) and the observations of their channels: internal intelligence that
//! every staff role reads and no partner key sees (403). The market-share view compares their
//! latest observed shares with ours.

pub mod api;
pub mod events;
pub mod market_share;
pub mod model;
pub mod observations;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create)
        .service(api::list)
        .service(api::get)
        .service(api::update)
        .service(api::archive)
        .service(observations::api::create)
        .service(observations::api::list)
        .service(observations::api::get)
        .service(observations::api::update)
        .service(observations::api::delete)
        .service(market_share::api::get);
}
