//! `incentive.statement_approved`: a partner's rebate statement, now final — the total and, line
//! by line, the arithmetic in Chinese (the statement's own explanations). `mdf.request_submitted`
//! and `mdf.request_decided`: a marketing support request, and what was decided and why. A
//! statement or request is one partner's: a chat bound to another partner is never shown it
//! (routing does not send it there; were it asked, the renderer refuses and the reader gets the
//! headline only).

use super::{plain, Message, RenderContext};
use crate::contracts::render::money;
use crate::error::ApiError;
use crate::incentives::events::{MdfRequestDecided, MdfRequestSubmitted, StatementApproved};
use crate::incentives::mdf::model::{MdfRequest, MdfStatus};
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

fn request_lines(event_partner: &str, program: &str, r: &MdfRequest) -> Vec<String> {
    vec![
        format!("- **伙伴**：{}", plain(event_partner)),
        format!("- **方案**：{}", plain(program)),
        format!("- **活动**：{}（{}）", plain(&r.title), r.activity.label_zh()),
        format!("- **计划日期**：{}", r.planned_on),
        format!("- **申请金额**：{}", money(r.amount_minor, &r.currency)),
    ]
}

/// A request is one partner's: another partner's chat is never shown it.
fn refuse_others(ctx: &RenderContext<'_>, r: &MdfRequest) -> Result<(), ApiError> {
    if ctx.viewer.is_some_and(|viewer| viewer != r.partner_id) {
        return Err(ApiError::internal("a marketing support request is not shown to another partner's chat"));
    }
    Ok(())
}

pub fn mdf_submitted(event: &MdfRequestSubmitted, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let r = &event.request;
    refuse_others(ctx, r)?;
    let mut lines = request_lines(&event.partner_name, &event.program_name, r);
    lines.push(format!("- **提交人**：{}", plain(&r.submitted_by)));
    Ok(Message {
        title: format!("市场推广支持申请待审批：{} {}", event.partner_name, r.title),
        lines,
        link: Some(format!("/mdf-requests/{}", r.id)),
        mentions: Vec::new(),
    })
}

pub fn mdf_decided(event: &MdfRequestDecided, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let r = &event.request;
    refuse_others(ctx, r)?;
    let mut lines = request_lines(&event.partner_name, &event.program_name, r);
    lines.push(format!("- **结果**：{}", r.status.label_zh()));
    if let Some(reason) = &r.decision_reason {
        let label = if r.status == MdfStatus::Rejected { "驳回原因" } else { "审批意见" };
        lines.push(format!("- **{label}**：{}", plain(reason)));
    }
    Ok(Message {
        title: format!("市场推广支持申请{}：{} {}", r.status.label_zh(), event.partner_name, r.title),
        lines,
        link: Some(format!("/mdf-requests/{}", r.id)),
        mentions: Vec::new(),
    })
}
