//! `incentive.statement_approved`: a partner's rebate statement, now final — the total and, line
//! by line, the arithmetic in Chinese (the statement's own explanations). A statement is one
//! partner's: a chat bound to another partner is never shown it (routing does not send it there;
//! were it asked, the renderer refuses and the reader gets the headline only).

use super::{plain, Message, RenderContext};
use crate::contracts::render::money;
use crate::error::ApiError;
use crate::incentives::events::StatementApproved;
use crate::incentives::statements::model::{LineSource, StatementKind};

/// Lines of a statement shown in one message; the rest are counted.
const MAX_LINES: usize = 8;

fn source_label(source: LineSource) -> &'static str {
    match source {
        LineSource::Program => "激励方案",
        LineSource::ContractTerm => "合同返点条款",
        LineSource::PreviouslyApproved => "此前已批准",
    }
}

pub fn statement_approved(event: &StatementApproved, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let s = &event.statement;
    if ctx.viewer.is_some_and(|viewer| viewer != s.partner_id) {
        return Err(ApiError::internal("a statement is not shown to another partner's chat"));
    }
    let what = match s.kind {
        StatementKind::Statement => "返点结算单",
        StatementKind::Adjustment => "返点调整单",
    };
    let span = if s.from == s.to { s.from.clone() } else { format!("{} 至 {}", s.from, s.to) };
    let mut lines = vec![
        format!("- **伙伴**：{}", plain(&event.partner_name)),
        format!("- **方案**：{}", plain(&event.program_name)),
        format!("- **周期**：{}", plain(&span)),
        format!("- **合计**：{}", money(s.total_minor, &s.currency)),
    ];
    for line in s.lines.iter().take(MAX_LINES) {
        lines.push(format!(
            "- {}：{}（{}）",
            source_label(line.source),
            money(line.amount_minor, &s.currency),
            plain(&line.explanation.zh)
        ));
    }
    if s.lines.len() > MAX_LINES {
        lines.push(format!("- 另有 {} 行，详见结算单", s.lines.len() - MAX_LINES));
    }
    Ok(Message {
        title: format!("{what}已批准：{} {span}", event.partner_name),
        lines,
        link: Some(format!("/incentive-statements/{}", s.id)),
        mentions: Vec::new(),
    })
}
