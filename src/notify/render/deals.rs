//! `deal.submitted`, `deal.decided` and `deal.expiring`: a deal registration (商机报备), what was
//! decided, and that its protection ends soon. A registration is one partner's: a chat bound to
//! another partner is never shown it (the renderer refuses; the reader gets the headline only),
//! and the partner's own chat gets the redacted view: a clash is "已由其他渠道报备" and never
//! names the other registrations.

use super::{plain, Message, RenderContext};
use crate::contracts::render::money;
use crate::deals::events::{DealDecided, DealExpiring, DealSubmitted};
use crate::deals::model::{DealRegistration, DealStatus, ALREADY_REGISTERED_MESSAGE};
use crate::error::ApiError;

fn refuse_others(ctx: &RenderContext<'_>, r: &DealRegistration) -> Result<(), ApiError> {
    if ctx.viewer.is_some_and(|viewer| viewer != r.partner_id) {
        return Err(ApiError::internal("a deal registration is not shown to another partner's chat"));
    }
    Ok(())
}

fn lines(ctx: &RenderContext<'_>, partner: &str, r: &DealRegistration) -> Vec<String> {
    let mut lines = vec![
        format!("- **伙伴**：{}", plain(partner)),
        format!("- **客户**：{}", plain(&r.account_name)),
        format!("- **产品线**：{}", plain(&r.product_lines.join("、"))),
        format!("- **预计金额**：{}", money(r.estimated_value_minor, &r.currency)),
        format!("- **预计成交**：{}", r.expected_close_on),
    ];
    if !r.conflicts_with.is_empty() {
        match ctx.viewer {
            Some(_) => lines.push(format!("- **冲突**：{ALREADY_REGISTERED_MESSAGE}")),
            None => lines.push(format!(
                "- **冲突**：与 {} 个其他渠道的报备冲突（{}）",
                r.conflicts_with.len(),
                plain(&r.conflicts_with.join(", "))
            )),
        }
    }
    lines
}

fn link(r: &DealRegistration) -> Option<String> {
    Some(format!("/deal-registrations/{}", r.id))
}

pub fn submitted(event: &DealSubmitted, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let r = &event.registration;
    refuse_others(ctx, r)?;
    let mut lines = lines(ctx, &event.partner_name, r);
    lines.push(format!("- **提交人**：{}", plain(&r.submitted_by)));
    Ok(Message {
        title: format!("商机报备待审批：{} {}", event.partner_name, r.account_name),
        lines,
        link: link(r),
        mentions: Vec::new(),
    })
}

pub fn decided(event: &DealDecided, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let r = &event.registration;
    refuse_others(ctx, r)?;
    let mut lines = lines(ctx, &event.partner_name, r);
    lines.push(format!("- **结果**：{}", r.status.label_zh()));
    if let Some(reason) = &r.decision_reason {
        let label = if r.status == DealStatus::Rejected { "驳回原因" } else { "审批意见" };
        lines.push(format!("- **{label}**：{}", plain(reason)));
    }
    if r.status == DealStatus::Approved {
        if let Some(until) = r.protected_until {
            lines.push(format!("- **保护期至**：{}", until.format("%Y-%m-%d")));
        }
    }
    Ok(Message {
        title: format!("商机报备{}：{} {}", r.status.label_zh(), event.partner_name, r.account_name),
        lines,
        link: link(r),
        mentions: Vec::new(),
    })
}

pub fn expiring(event: &DealExpiring, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let r = &event.registration;
    refuse_others(ctx, r)?;
    let mut lines = lines(ctx, &event.partner_name, r);
    if let Some(until) = r.protected_until {
        lines.push(format!("- **保护期至**：{}（还剩 {} 天）", until.format("%Y-%m-%d"), event.days_left));
    }
    Ok(Message {
        title: format!("商机报备保护期即将结束：{} {}", event.partner_name, r.account_name),
        lines,
        link: link(r),
        mentions: Vec::new(),
    })
}
