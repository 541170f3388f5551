//! Pushing events out: WeCom / DingTalk group robots ("bot channels") with their subscriptions,
//! signed webhooks for other systems, and the deliveries the worker makes to them.
//!
//! - `model.rs`: wire types and routing rules (wildcards, filters, URL checks, masking)
//! - `store.rs`: channels, subscriptions, webhooks, deliveries in the database
//! - `route.rs`: what routing reads from an event (partners, tiers, regions, importance)
//! - `render/`: the renderer registry (event type → message) and the platforms' formats
//! - `send.rs`: one HTTP attempt and the meaning of its answer
//! - `worker.rs`: fan-out and the sender that `serve` runs

pub mod api;
pub mod model;
pub mod render;
pub mod route;
pub mod send;
pub mod store;
pub mod worker;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create_channel)
        .service(api::list_channels)
        .service(api::get_channel)
        .service(api::update_channel)
        .service(api::delete_channel)
        .service(api::test_channel)
        .service(api::create_subscription)
        .service(api::list_subscriptions)
        .service(api::get_subscription)
        .service(api::update_subscription)
        .service(api::delete_subscription)
        .service(api::create_webhook)
        .service(api::list_webhooks)
        .service(api::get_webhook)
        .service(api::update_webhook)
        .service(api::delete_webhook)
        .service(api::list_deliveries)
        .service(api::get_delivery)
        .service(api::retry_delivery);
}
