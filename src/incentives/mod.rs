//! Incentives (激励政策): where channel money goes, and where "unfair distribution of benefits"
//! (利益分配不均) starts. Programs say who gets what by which rules; every figure paid is computed
//! from the partners' performance records, targets and contracts' rebate terms, and explained.
//!
//! Rules the room keeps: money is integer fen, rates basis points; an active program's rules are
//! frozen (close it and create another); partner keys see only programs addressed to them.

pub mod discount;
pub mod events;
pub mod mdf;
pub mod programs;
pub mod rebate;
pub mod statements;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(programs::api::create)
        .service(programs::api::list)
        .service(programs::api::get)
        .service(programs::api::update)
        .service(programs::api::delete)
        .service(statements::api::calculate)
        .service(statements::api::list)
        .service(statements::api::get)
        .service(statements::api::approve)
        .service(statements::api::pay)
        .service(discount::api::discount)
        .service(mdf::api::budgets)
        .service(mdf::api::create)
        .service(mdf::api::list)
        .service(mdf::api::get)
        .service(mdf::api::approve)
        .service(mdf::api::reject)
        .service(mdf::api::claim)
        .service(mdf::api::reject_claim)
        .service(mdf::api::pay);
}
