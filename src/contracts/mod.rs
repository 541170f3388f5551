//! Contracts (合同) with partners: terms whose parameters are data, amendments of active
//! contracts, renewals, and the risk warnings (风险预警) computed from them.

pub mod api;
pub mod events;
pub mod model;
pub mod render;
pub mod risks;
pub mod scan;
pub mod store;
pub mod terms;
pub mod whole;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create_contract)
        .service(api::list_contracts)
        .service(api::get_contract)
        .service(api::update_contract)
        .service(api::delete_contract)
        .service(api::renew_contract)
        .service(api::create_term)
        .service(api::list_terms)
        .service(api::get_term)
        .service(api::update_term)
        .service(api::delete_term)
        .service(api::create_amendment)
        .service(api::list_amendments)
        .service(api::get_amendment)
        .service(api::list_contract_risks)
        .service(api::list_risks);
}
