//! Contracts (合同) with partners: terms whose parameters are data, amendments of active
//! contracts, renewals, and the risk warnings (风险预警) computed from them.
//!
//! The contract itself is this folder's top (`api`, `model`, `store`, `renewal`, `render`); each
//! sub-resource has its own file set below it. What may use what: `terms` uses the contract
//! store, `amendments` and `renewal` use both, `risks` reads all three; nothing below imports
//! upwards.

pub mod amendments;
pub mod api;
pub mod events;
pub mod model;
pub mod render;
pub mod renewal;
pub mod risks;
pub mod store;
pub mod terms;
pub mod whole;

/// The services of the room, in the order the OpenAPI document lists them.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create_contract)
        .service(api::list_contracts)
        .service(api::get_contract)
        .service(api::update_contract)
        .service(api::delete_contract)
        .service(api::renew_contract);
    terms::routes(cfg);
    amendments::routes(cfg);
    risks::routes(cfg);
}
