//! Read receipts (已读回执): who a published bulletin went to, and who has read it.

pub mod api;
pub mod model;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::acknowledge).service(api::list_receipts).service(api::get_receipt);
}
