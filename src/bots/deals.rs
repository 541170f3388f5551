//! The `报备` chat command: a partner-bound chat registers a deal (a prospect by name, one
//! product line) for its partner and gets the clash answer ("已由其他渠道报备" and nothing about
//! who). An internal chat is told to use a partner's chat or the API.

use super::context::{reply, CommandContext};
use crate::access::{Actor, Scope};
use crate::deals::model::{DealRegistrationCreate, Prospect};
use crate::error::ApiError;
use crate::notify::render::plain;
use crate::platforms::format::Message;

/// How far ahead a chat registration expects to close.
const EXPECTED_CLOSE_DAYS: i64 = 90;

/// 报备 〈客户名〉 〈产品线〉: registers the deal for the chat's partner.
pub fn register(ctx: &mut CommandContext<'_>, args: &str) -> Result<Message, ApiError> {
    let usage = "用法：报备 〈客户名〉 〈产品线〉，例如「报备 杭州西湖储能科技有限公司 储能」。";
    let partner_id = match &ctx.scope {
        Scope::Partner(id) if !id.is_empty() => id.clone(),
        Scope::Partner(_) => return Ok(reply("商机报备", vec!["这个聊天不能代表某一个伙伴报备。".into()])),
        Scope::All => {
            return Ok(reply(
                "商机报备",
                vec!["请在绑定伙伴的群里报备，或使用 API：POST /api/v1/deal-registrations。".into()],
            ))
        }
    };
    let Some((name, line)) = args.trim().rsplit_once(' ') else {
        return Ok(reply("商机报备", vec![usage.into()]));
    };
    let (name, line) = (name.trim().to_string(), line.trim().to_string());
    let input = DealRegistrationCreate {
        partner_id: None,
        key_account_id: None,
        prospect: Some(Prospect { name, credit_code: None, region: None }),
        product_lines: vec![line],
        estimated_value_minor: 0,
        currency: "CNY".into(),
        expected_close_on: (ctx.now + chrono::Duration::days(EXPECTED_CLOSE_DAYS)).date_naive(),
        description: None,
    };
    if input.validate().is_err() {
        return Ok(reply("商机报备", vec![usage.into()]));
    }
    let who = ctx.asker.userid.clone().unwrap_or_default();
    let actor = Actor::system(&format!("chat:{}:{who}", ctx.asker.platform));
    let created = crate::deals::store::create(ctx.conn, &actor, &input, &partner_id, &ctx.scope)?;
    let r = created.registration;
    let mut lines = vec![
        format!("- **客户**：{}", plain(&r.account_name)),
        format!("- **产品线**：{}", plain(&r.product_lines.join("、"))),
        "- **状态**：待审批".to_string(),
    ];
    if r.clash.is_some() {
        lines.push(format!("- **提示**：{}", crate::deals::model::ALREADY_REGISTERED_MESSAGE));
    }
    Ok(Message {
        title: format!("商机报备已提交：{}", r.account_name),
        lines,
        link: Some(format!("/deal-registrations/{}", r.id)),
        mentions: Vec::new(),
    })
}
