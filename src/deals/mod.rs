//! Deal registrations (商机报备): "if I bring this customer, is it mine?" A partner registers a
//! key account or a new prospect for product lines; a manager approves it (protected for
//! `CHANNELDESK_DEAL_PROTECTION_DAYS`) or rejects it; clashing registrations (the duplicate rule
//! in `model.rs`) and clashes with an account's primary partner open conflict cases
//! (`cases.rs`, the conflicts room's API).

pub mod api;
pub mod cases;
pub mod events;
pub mod expiry;
pub mod model;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create)
        .service(api::list)
        .service(api::get)
        .service(api::approve)
        .service(api::reject)
        .service(api::won)
        .service(api::lost)
        .service(api::extend);
}
