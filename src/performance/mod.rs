//! Channel evaluation data (渠道效果/成本评估): each partner's monthly performance and costs, the
//! months they are keyed by, and their bulk import. Targets and scorecards read from here.
//!
//! Record changes are audited but not announced one by one (nobody wants a chat message per
//! month of a partner); a bulk import announces itself once (`performance.imported`).

pub mod costs;
pub mod events;
pub mod import;
pub mod import_api;
pub mod import_file;
pub mod import_partners;
pub mod import_rows;
pub mod period;
pub mod records;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(import_api::import_performance)
        .service(import_api::import_costs)
        .service(records::api::create)
        .service(records::api::list)
        .service(records::api::get)
        .service(records::api::update)
        .service(records::api::delete)
        .service(costs::api::create)
        .service(costs::api::list)
        .service(costs::api::get)
        .service(costs::api::update)
        .service(costs::api::delete);
}
