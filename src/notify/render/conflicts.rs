//! `conflict.opened` and `conflict.resolved`: the case's kind, cause, severity, parties, account,
//! territories and product lines, and for a resolution the remedy and what was decided. A chat
//! bound to one of the parties sees the redacted view (the other parties as "another partner");
//! a chat bound to a partner that is no party is never shown the case.

use super::{plain, Message, RenderContext};
use crate::conflicts::events::ConflictEvent;
use crate::conflicts::model::{ConflictView, Party, ANOTHER_PARTNER};
use crate::error::ApiError;

/// The event as the viewer may see it.
fn seen_by(event: &ConflictEvent, ctx: &RenderContext<'_>) -> Result<ConflictView, ApiError> {
    let view = ConflictView { conflict: event.conflict.clone(), parties: event.parties.clone(), links: Vec::new() };
    match ctx.viewer {
        None => Ok(view),
        Some(own) if view.conflict.party_partner_ids.iter().any(|id| id == own) => Ok(view.redacted(own)),
        Some(_) => {
            Err(ApiError::internal("a conflict case is not shown to a chat of a partner that is no party to it"))
        }
    }
}

fn party_names(parties: &[Party], direct: bool) -> String {
    let mut names: Vec<String> = parties.iter().map(|p| plain(&p.name)).collect();
    names.dedup_by(|a, b| a == b && a.as_str() == ANOTHER_PARTNER);
    if direct {
        names.push("直销渠道 (our direct channel)".into());
    }
    names.join("、")
}

fn case_lines(view: &ConflictView, key_account_name: Option<&str>) -> Vec<String> {
    let c = &view.conflict;
    let mut lines = vec![
        format!("- **类型**：{}（{}）", c.kind.label_zh(), c.kind),
        format!("- **严重程度**：{}", c.severity.label_zh()),
        format!("- **涉及方**：{}", party_names(&view.parties, c.involves_direct)),
    ];
    if let Some(name) = key_account_name {
        lines.push(format!("- **大客户**：{}", plain(name)));
    }
    if !c.territories.is_empty() {
        lines.push(format!("- **区域**：{}", plain(&c.territories.join("、"))));
    }
    if !c.product_lines.is_empty() {
        lines.push(format!("- **产品线**：{}", plain(&c.product_lines.join("、"))));
    }
    lines.push(format!("- **概述**：{}", plain(&c.summary)));
    lines
}

pub fn opened(event: &ConflictEvent, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let view = seen_by(event, ctx)?;
    let lines = case_lines(&view, event.key_account_name.as_deref());
    Ok(Message {
        title: format!("渠道冲突待处理：{}（{}）", view.conflict.kind.label_zh(), view.conflict.severity.label_zh()),
        lines,
        link: Some(format!("/conflicts/{}", view.conflict.id)),
        mentions: Vec::new(),
    })
}

pub fn resolved(event: &ConflictEvent, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let view = seen_by(event, ctx)?;
    let mut lines = case_lines(&view, event.key_account_name.as_deref());
    if let Some(r) = &view.conflict.resolution {
        lines.push(format!("- **解决措施**：{}（{}）", r.remedy.label_zh(), r.remedy));
        lines.push(format!("- **决定**：{}", plain(&r.notes)));
    }
    Ok(Message {
        title: format!("渠道冲突已解决：{}", view.conflict.kind.label_zh()),
        lines,
        link: Some(format!("/conflicts/{}", view.conflict.id)),
        mentions: Vec::new(),
    })
}
