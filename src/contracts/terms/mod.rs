//! Contract terms (合同条款): the clauses of a contract, written directly while it is a draft
//! (afterwards only through amendments). The term types are re-exported here because the rest of
//! the room, the renderers and the risk rules name them as `contracts::terms::…`.

pub mod api;
pub mod model;
pub mod store;

pub use model::*;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create_term)
        .service(api::list_terms)
        .service(api::get_term)
        .service(api::update_term)
        .service(api::delete_term);
}
