//! Channel conflicts (渠道冲突): cases opened by hand or detected from the data (deal clashes,
//! overlapping exclusive territories, partners on one account with no lead), worked to a
//! resolution with one of the seed's remedies, with a comment timeline and the stats that show
//! whether the remedies work.

pub mod api;
pub mod events;
pub mod model;
pub mod scan;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // `stats` and `scan` before `{id}`, which would take them for an id.
    cfg.service(api::create)
        .service(api::list)
        .service(api::stats)
        .service(api::scan_now)
        .service(api::get)
        .service(api::update)
        .service(api::investigate)
        .service(api::resolve)
        .service(api::dismiss)
        .service(api::comment)
        .service(api::comments);
}
