//! Chat commands coming back from WeCom and DingTalk: the callbacks (signature checks,
//! decryption, replay protection), the command framework, and the platforms' cryptography.
//!
//! - `api.rs`: `POST /integrations/dingtalk/callback`, `GET|POST /integrations/wecom/callback`
//! - `commands.rs`: parsing, scoping and the command registry
//! - `crypto.rs`: WeCom AES/SHA-1, DingTalk HMAC signing, webhook signatures (with the vectors)
//! - `xml.rs`: the flat XML WeCom speaks
//! - `store.rs`: chat → channel, sender → partner, answered messages

pub mod api;
pub mod commands;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::dingtalk_callback).service(api::wecom_verify).service(api::wecom_message);
}
