//! Bulletins (信息共享): market, competitor, product and policy information shared with partners,
//! addressed by audience, resolved into recipients when published, with read receipts.

pub mod api;
pub mod events;
pub mod model;
pub mod receipts;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create)
        .service(api::list)
        .service(api::get)
        .service(api::update)
        .service(api::delete)
        .service(api::publish)
        .service(api::archive);
    receipts::routes(cfg);
}
