//! Recruitment (新渠道拓展): the campaigns that bring in new partners and each campaign's funnel.
//! Partners say how they came (`source`) and which campaign brought them (`campaign_id`).

pub mod api;
pub mod events;
pub mod model;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create)
        .service(api::list)
        .service(api::get)
        .service(api::update)
        .service(api::archive)
        .service(api::funnel);
}
