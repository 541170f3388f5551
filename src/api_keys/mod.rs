//! API keys: bearer credentials with a role, stored hashed, shown once.

pub mod api;
pub mod model;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create).service(api::list).service(api::get).service(api::revoke);
}
