//! Webhooks: events posted as `{id, type, occurred_at, data}` to another system's URL, signed
//! with HMAC-SHA256 so the receiver can tell them from forgeries.
//!
//! - `model.rs`: wire types and the rules of a webhook's settings
//! - `store.rs`: webhooks in the database, the secret never shown
//! - `api.rs`: the `/webhooks` handlers

pub mod api;
pub mod model;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create_webhook)
        .service(api::list_webhooks)
        .service(api::get_webhook)
        .service(api::update_webhook)
        .service(api::delete_webhook);
}
