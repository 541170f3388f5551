//! Chat commands coming back from WeCom and DingTalk: the callbacks (signature checks,
//! decryption, replay protection) and the command framework. The wire code both directions share
//! (signing, AES, XML, message formats) lives in `platforms/`.
//!
//! - `api.rs`: `POST /integrations/dingtalk/callback`, `GET|POST /integrations/wecom/callback`
//! - `commands.rs`: parsing, scoping and the command registry
//! - `context.rs`: what commands run with and share (asker, context, reply, partner lookup)
//! - `performance.rs`: the `业绩` command
//! - `incentives.rs`: the `返点` command
//! - `conflicts.rs`: the `冲突` command
//! - `store.rs`: chat → channel, sender → partner, answered messages

pub mod api;
pub mod commands;
pub mod conflicts;
pub mod context;
pub mod deals;
pub mod incentives;
pub mod performance;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::dingtalk_callback).service(api::wecom_verify).service(api::wecom_message);
}
