//! Key accounts (大客户) and the partners assigned to serve them.

pub mod api;
pub mod model;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create)
        .service(api::list)
        .service(api::get)
        .service(api::update)
        .service(api::archive)
        .service(api::create_assignment)
        .service(api::list_assignments)
        .service(api::get_assignment)
        .service(api::update_assignment)
        .service(api::delete_assignment);
}
