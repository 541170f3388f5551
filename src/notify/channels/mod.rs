//! Bot channels: the WeCom (企业微信) and DingTalk (钉钉) group robots events are pushed to, each
//! optionally bound to one partner's chat (it then sees only that partner's events).
//!
//! - `model.rs`: wire types and the rules of a channel's settings
//! - `store.rs`: channels in the database, credentials masked in every view
//! - `api.rs`: the `/bot-channels` handlers and the test message

pub mod api;
pub mod model;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::create_channel)
        .service(api::list_channels)
        .service(api::get_channel)
        .service(api::update_channel)
        .service(api::delete_channel)
        .service(api::test_channel);
}
