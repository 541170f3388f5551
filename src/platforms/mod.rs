//! WeCom (企业微信) and DingTalk (钉钉) wire code, used by both directions of the bots: push
//! (`notify/`) and chat callbacks (`bots/`). Signatures and AES (`crypto`), the callbacks' flat XML
//! (`xml`), and the platforms' message formats with their byte limits (`format`). Known-answer
//! vectors from `tests/fixtures/bot-test-vectors.json` are unit-tested here.

pub mod crypto;
pub mod format;
pub mod xml;

crate::text_enum! {
    /// wecom: 企业微信 group robot; dingtalk: 钉钉 custom robot.
    Platform { Wecom => "wecom", Dingtalk => "dingtalk" }
}
