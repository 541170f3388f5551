//! Pushing events out: WeCom / DingTalk group robots ("bot channels") with their subscriptions,
//! signed webhooks for other systems, and the deliveries the worker makes to them.
//!
//! One file set per sub-resource, each `mod.rs` / `api.rs` / `model.rs` / `store.rs`:
//! - `channels/`: the robots and their chats (`/bot-channels`, the test message)
//! - `subscriptions/`: which events a channel gets (`/bot-channels/{id}/subscriptions`)
//! - `webhooks/`: signed HTTP callbacks (`/webhooks`)
//! - `deliveries/`: one event on its way to one target (`/deliveries`, the manual retry)
//!
//! and what they share:
//! - `checks.rs`: event-type patterns, outbound URL rules, credential masking
//! - `route.rs`: what routing reads from an event (partners, tiers, regions, importance)
//! - `render/`: from a typed event to a message (one renderer per event type, a generic one for the rest)
//! - `secrets.rs`: which columns are encrypted, the key at start-up, the upgrade and rotation
//! - `send.rs`: one HTTP attempt and the meaning of its answer
//! - `worker/`: fan-out, claiming and recording, which `serve` runs
//!
//! Imports go one way: subscriptions → channels → deliveries, webhooks → deliveries; the
//! worker reads them all; none of them imports the worker.

pub mod channels;
pub mod checks;
pub mod deliveries;
pub mod render;
pub mod route;
pub mod secrets;
pub mod send;
pub mod subscriptions;
pub mod webhooks;
pub mod worker;

/// Registered in this order, which is the order of the paths in the OpenAPI document.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(channels::routes)
        .configure(subscriptions::routes)
        .configure(webhooks::routes)
        .configure(deliveries::routes);
}
