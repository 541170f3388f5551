//! Deliveries: one event on its way to one bot channel or webhook. The worker makes and sends
//! them; people read them to see what reached whom and re-queue the ones that gave up.
//!
//! - `model.rs`: wire types (status, target, the last answer)
//! - `events.rs`: the payload of `delivery.dead`
//! - `store.rs`: the API's queries and the manual retry
//! - `api.rs`: the `/deliveries` handlers

pub mod api;
pub mod events;
pub mod model;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::list_deliveries).service(api::get_delivery).service(api::retry_delivery);
}
