//! Risk early warning (风险预警) over active contracts: what a risk is (`model`), the pure rules
//! (`rules`, `overlaps`), what they read from the database (`store`), the endpoints (`api`) and
//! the periodic scan that announces each risk once (`scan`). The risk types are re-exported here,
//! where the bots, the renderers and the events name them.

pub mod api;
pub mod model;
mod overlaps;
pub mod rules;
pub mod scan;
pub mod store;

pub use model::{business_date, list_order, visible, Risk, RiskCode, Severity, Subject, TermFact};
pub use rules::assess;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::list_contract_risks).service(api::list_risks);
}
