//! The `返点` chat command: a partner's latest rebate statements (total, months, status and the
//! program), answered from the statements on a read. A partner's chat sees its own approved and
//! paid statements only, as a partner key does; an internal chat names the partner and also sees
//! drafts.

use diesel::prelude::*;

use super::context::{named_partner, reply, CommandContext};
use crate::contracts::render::money;
use crate::db::schema::incentive_programs as ip;
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::incentives::statements::model::{StatementFilter, StatementKind, StatementStatus};
use crate::notify::render::plain;
use crate::platforms::format::Message;

/// Statements `返点` shows, newest first.
const STATEMENTS: i64 = 5;

fn status_label(status: StatementStatus) -> &'static str {
    match status {
        StatementStatus::Draft => "草稿",
        StatementStatus::Approved => "已批准",
        StatementStatus::Paid => "已支付",
    }
}

/// 返点: the partner's latest statements. Reads only.
pub fn rebates(ctx: &mut CommandContext<'_>, args: &str) -> Result<Message, ApiError> {
    let usage = "用法：返点 〈伙伴名称〉，例如「返点 华东星辰」；绑定伙伴的群里直接发「返点」。";
    let partner = match named_partner(ctx, args, "返点查询", usage)? {
        Ok(p) => p,
        Err(message) => return Ok(message),
    };
    let filter = StatementFilter { partner_id: Some(partner.id.clone()), ..Default::default() };
    let page = PageRequest { limit: STATEMENTS, after: None };
    let mut statements = crate::incentives::statements::store::list(ctx.conn, &filter, &page, &ctx.scope)?;
    statements.truncate(STATEMENTS as usize);
    let title = format!("返点：{}", partner.name);
    if statements.is_empty() {
        return Ok(reply(&title, vec!["还没有返点结算单。".into()]));
    }
    let program_ids: Vec<&str> = statements.iter().map(|s| s.program_id.as_str()).collect();
    let names: std::collections::HashMap<String, String> =
        ip::table.filter(ip::id.eq_any(program_ids)).select((ip::id, ip::name)).load(ctx.conn)?.into_iter().collect();
    let mut lines = vec![format!("**最近 {} 张结算单**", statements.len())];
    for s in &statements {
        let span = if s.from == s.to { s.from.clone() } else { format!("{} 至 {}", s.from, s.to) };
        let kind = if s.kind == StatementKind::Adjustment { "调整单" } else { "结算单" };
        let program = names.get(&s.program_id).map(|n| plain(n)).unwrap_or_default();
        lines.push(format!(
            "- {span} {program}{kind}：{}（{}）",
            money(s.total_minor, &s.currency),
            status_label(s.status)
        ));
    }
    Ok(Message {
        title,
        lines,
        link: Some(format!("/incentive-statements?partner_id={}", partner.id)),
        mentions: Vec::new(),
    })
}
