//! Partners (渠道成员/合作伙伴) and their contacts.

pub mod api;
pub mod events;
pub mod model;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create)
        .service(api::list)
        .service(api::get)
        .service(api::update)
        .service(api::archive)
        .service(api::create_contact)
        .service(api::list_contacts)
        .service(api::get_contact)
        .service(api::update_contact)
        .service(api::delete_contact);
}
