//! The evaluation rooms' events: `performance.imported` (a bulk import of performance or cost
//! records), `target.agreed` and `target.missed` (a partner's target, with its actual and
//! attainment when the event was written).
//!
//! An import names no partner and goes to internal chats only; a target is one partner's, and a
//! chat bound to another partner is never shown it (routing does not send it there; were it
//! asked, the renderer refuses and the reader gets the headline only). Nobody is mentioned:
//! imports and targets have no owner.

use super::{local_time, plain, Message, RenderContext};
use crate::contracts::render::{money, percent};
use crate::error::ApiError;
use crate::performance::events::{ImportMode, PerformanceImported};
use crate::targets::events::TargetEvent;
use crate::targets::model::{Metric, TargetView};

/// Months listed in one message.
const MAX_PERIODS: usize = 12;

pub fn metric_label(m: Metric) -> &'static str {
    match m {
        Metric::Revenue => "销售额",
        Metric::Units => "销量",
        Metric::NewCustomers => "新客户数",
    }
}

/// A figure of `metric` in words: revenue is in fen (CNY records).
pub fn figure(metric: Metric, value: i64) -> String {
    match metric {
        Metric::Revenue => money(value, "CNY"),
        Metric::Units => format!("{value} 件"),
        Metric::NewCustomers => format!("{value} 家"),
    }
}

fn kind_label(kind: &str) -> &str {
    match kind {
        "performance" => "业绩",
        "costs" => "费用",
        other => other,
    }
}

fn mode_label(mode: ImportMode) -> &'static str {
    match mode {
        ImportMode::Insert => "仅新增",
        ImportMode::Upsert => "新增或覆盖",
    }
}

/// `2027-01、2027-02、2027-03`, at most [`MAX_PERIODS`] of them.
fn periods_text(periods: &[String]) -> String {
    let shown: Vec<String> = periods.iter().take(MAX_PERIODS).map(|p| plain(p)).collect();
    if periods.len() > MAX_PERIODS {
        format!("{} 等 {} 个月", shown.join("、"), periods.len())
    } else {
        shown.join("、")
    }
}

pub fn performance_imported(event: &PerformanceImported, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    if ctx.viewer.is_some() {
        // An import spans many partners' figures: not for one partner's chat.
        return Err(ApiError::internal("performance.imported is not shown to a partner's chat"));
    }
    let kind = kind_label(&event.kind);
    let span = match (event.periods.first(), event.periods.last()) {
        (Some(first), Some(last)) if first != last => format!("：{first} 至 {last}"),
        (Some(only), _) => format!("：{only}"),
        _ => String::new(),
    };
    let mut lines = vec![
        format!("- **类型**：{kind}数据"),
        format!("- **方式**：{}", mode_label(event.mode)),
        format!("- **新增**：{} 条", event.created),
        format!("- **更新**：{} 条", event.updated),
    ];
    if !event.periods.is_empty() {
        lines.push(format!("- **月份**：{}", periods_text(&event.periods)));
    }
    let link = match event.kind.as_str() {
        "costs" => "/cost-records",
        _ => "/performance-records",
    };
    Ok(Message {
        title: format!("{kind}数据导入{span}"), lines, link: Some(link.to_string()), mentions: Vec::new()
    })
}

/// The target's own partner's chat and internal chats only.
fn check_viewer(event: &TargetEvent, ctx: &RenderContext<'_>) -> Result<(), ApiError> {
    match ctx.viewer {
        Some(viewer) if viewer != event.target.target.partner_id => {
            Err(ApiError::internal("a target event is not shown to another partner's chat"))
        }
        _ => Ok(()),
    }
}

/// `华东星辰 2027-Q1 销售额`.
fn name_of(event: &TargetEvent) -> String {
    let t = &event.target.target;
    format!("{} {} {}", event.partner_name, t.period, metric_label(t.metric))
}

/// Partner, period, metric and target.
fn basics(event: &TargetEvent) -> Vec<String> {
    let t = &event.target.target;
    vec![
        format!("- **伙伴**：{}", plain(&event.partner_name)),
        format!("- **周期**：{}", plain(&t.period)),
        format!("- **指标**：{}", metric_label(t.metric)),
        format!("- **目标**：{}", figure(t.metric, t.target_value)),
    ]
}

fn link(view: &TargetView) -> Option<String> {
    Some(format!("/targets/{}", view.target.id))
}

pub fn target_agreed(event: &TargetEvent, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    check_viewer(event, ctx)?;
    let view = &event.target;
    let t = &view.target;
    let mut lines = basics(event);
    lines.push(format!("- **当前完成**：{}（{}）", figure(t.metric, view.actual), percent(view.attainment_bp)));
    if let Some(at) = t.agreed_at {
        lines.push(format!("- **确认时间**：{}", local_time(&at)));
    }
    Ok(Message {
        title: format!("目标已确认：{}", name_of(event)), lines, link: link(view), mentions: Vec::new()
    })
}

pub fn target_missed(event: &TargetEvent, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    check_viewer(event, ctx)?;
    let view = &event.target;
    let t = &view.target;
    let mut lines = basics(event);
    lines.push(format!("- **实际完成**：{}", figure(t.metric, view.actual)));
    lines.push(format!("- **完成率**：{}", percent(view.attainment_bp)));
    lines.push(format!("- **差距**：{}", figure(t.metric, t.target_value.saturating_sub(view.actual))));
    if let Some(at) = t.settled_at {
        lines.push(format!("- **结算时间**：{}", local_time(&at)));
    }
    Ok(Message {
        title: format!("目标未达成：{}", name_of(event)), lines, link: link(view), mentions: Vec::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_well() {
        assert_eq!(figure(Metric::Units, 12), "12 件");
        assert_eq!(figure(Metric::NewCustomers, 3), "3 家");
        assert_eq!(figure(Metric::Revenue, 1_000_000), money(1_000_000, "CNY"));
        let months: Vec<String> = (1..=14).map(|m| format!("2027-{m:02}")).collect();
        assert!(periods_text(&months).ends_with("2027-12 等 14 个月"));
        assert_eq!(periods_text(&months[..2]), "2027-01、2027-02");
    }
}
