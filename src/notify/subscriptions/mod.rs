//! Subscriptions: the event types a bot channel receives, narrowed by partner tier, region,
//! partner and bulletin importance. A channel gets an event when any of its subscriptions passes it.
//!
//! - `model.rs`: wire types and the filter rules (pure, unit-tested)
//! - `store.rs`: subscriptions in the database, always under their channel
//! - `api.rs`: the `/bot-channels/{id}/subscriptions` handlers

pub mod api;
pub mod model;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create_subscription)
        .service(api::list_subscriptions)
        .service(api::get_subscription)
        .service(api::update_subscription)
        .service(api::delete_subscription);
}
