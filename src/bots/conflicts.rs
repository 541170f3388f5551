//! The `冲突` chat command: the open and investigating conflict cases the chat may see, most
//! severe first. A partner's chat sees the cases its partner is party to, with the other parties
//! as "another partner", as a partner key does.

use super::context::{reply, CommandContext};
use crate::error::ApiError;
use crate::notify::render::plain;
use crate::platforms::format::Message;

/// Cases `冲突` lists; the rest are counted.
const CASES: i64 = 8;

/// 冲突: open cases of the chat's scope. Reads only.
pub fn conflicts(ctx: &mut CommandContext<'_>, _args: &str) -> Result<Message, ApiError> {
    let (cases, total) = crate::conflicts::store::live(ctx.conn, &ctx.scope, CASES)?;
    let title = "渠道冲突：待处理";
    if cases.is_empty() {
        return Ok(reply(title, vec!["当前没有待处理的渠道冲突。".into()]));
    }
    let mut lines = vec![format!("**共 {total} 件，按严重程度排列**")];
    for view in &cases {
        let c = &view.conflict;
        let parties: Vec<String> = view.parties.iter().map(|p| plain(&p.name)).collect();
        let mut parties = parties.join("、");
        if c.involves_direct {
            parties.push_str("、直销渠道");
        }
        lines.push(format!(
            "- 【{}】{}（{}）{}：{}",
            c.severity.label_zh(),
            c.kind.label_zh(),
            c.status.label_zh(),
            if parties.is_empty() { String::new() } else { format!(" {parties}") },
            plain(&crate::notify::render::clip_chars(&c.summary, 80))
        ));
    }
    if total > cases.len() as i64 {
        lines.push(format!("- 另有 {} 件，详见冲突列表", total - cases.len() as i64));
    }
    Ok(Message { title: title.into(), lines, link: Some("/conflicts?status=open".into()), mentions: Vec::new() })
}
