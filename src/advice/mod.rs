//! Channel selection advice (渠道类型与选择依据): which channel type fits a product, its market and
//! the company's resources. A pure function; the endpoint only validates and calls it.

pub mod api;
pub mod model;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::advise);
}
