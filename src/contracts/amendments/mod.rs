//! Amendments (补充协议) of active contracts: several term and contract changes applied in one
//! go, all or none, and kept as history that never changes.

pub mod api;
pub mod model;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create_amendment).service(api::list_amendments).service(api::get_amendment);
}
