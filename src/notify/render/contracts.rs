//! Contract events (`contract.created`, `.updated`, `.activated`, `.expired`, `.terminated`,
//! `.amended`, `.renewed`, `.deleted`), the scan's `contract.expiring` and `risk.raised`.
//!
//! Mentions: the contract's owner when a contact of its partner has that name or userid.
//! `risk.raised` between two partners goes to both partners' chats; each gets its own side as the
//! contracts room redacts it for a partner key (`Risk::redacted`, carried in the payload as
//! `partner_views`): no other partner's name, contract or terms.

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use super::{changes, people, plain, Message, Person, RenderContext};
use crate::contracts::amendments::model::ChangeOp;
use crate::contracts::events::{
    ContractAmended, ContractExpiring, ContractRenewed, ContractSnapshot, ContractStatusChange, ContractUpdated,
    RiskRaised,
};
use crate::contracts::model::{Contract, ContractKind, ContractStatus};
use crate::contracts::render::{money, term_kind_zh};
use crate::contracts::risks::{Risk, RiskCode, Severity};
use crate::contracts::terms::TermKind;
use crate::error::ApiError;

pub fn kind_label(k: ContractKind) -> &'static str {
    match k {
        ContractKind::Agency => "代理",
        ContractKind::Distribution => "经销",
        ContractKind::Reseller => "转售",
        ContractKind::Service => "服务",
        ContractKind::Framework => "框架",
        ContractKind::Other => "其他",
    }
}

pub fn status_label(s: ContractStatus) -> &'static str {
    match s {
        ContractStatus::Draft => "草稿",
        ContractStatus::Active => "生效",
        ContractStatus::Expired => "已到期",
        ContractStatus::Terminated => "已终止",
    }
}

pub fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Low => "低",
        Severity::Medium => "中",
        Severity::High => "高",
        Severity::Critical => "严重",
    }
}

pub fn risk_label(c: RiskCode) -> &'static str {
    match c {
        RiskCode::MissingRequiredTerms => "缺少必备条款",
        RiskCode::Expiring => "合同即将到期",
        RiskCode::ExpiredButActive => "合同过期未终止",
        RiskCode::ExclusivityOverlap => "独家授权重叠",
        RiskCode::TerritoryConflict => "销售区域冲突",
    }
}

/// The Chinese sentence of a bilingual risk message (`中文。English.` → `中文。`).
pub fn chinese_part(message: &str) -> &str {
    match message.find('。') {
        Some(i) => &message[..i + '。'.len_utf8()],
        None => message,
    }
}

/// `2026-01-01 至 2026-12-31`, `长期` for open-ended.
pub fn term_text(from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    match (from, to) {
        (Some(f), Some(t)) => format!("{f} 至 {t}"),
        (Some(f), None) => format!("{f} 起，长期"),
        (None, Some(t)) => format!("至 {t}"),
        (None, None) => "未定".into(),
    }
}

fn link(id: &str) -> Option<String> {
    Some(format!("/contracts/{id}"))
}

/// `HT-001 渠道代理协议`.
fn name_of(c: &Contract) -> String {
    format!("{} {}", c.number, c.title)
}

/// The contract's lines; `partner_name` is the payload's name of its partner.
fn lines_of(partner_name: &str, c: &Contract) -> Vec<String> {
    let mut lines = vec![format!("- **合同编号**：{}", plain(&c.number))];
    lines.push(format!("- **伙伴**：{}", plain(partner_name)));
    lines.push(format!("- **类型**：{}", kind_label(c.kind)));
    lines.push(format!("- **状态**：{}", status_label(c.status)));
    lines.push(format!("- **有效期**：{}", term_text(c.effective_from, c.effective_to)));
    if let Some(v) = c.total_value {
        lines.push(format!("- **金额**：{}", money(v, &c.currency)));
    }
    if c.auto_renew {
        lines.push("- **自动续约**：是".into());
    }
    lines.push(format!("- **负责人**：{}", c.owner.as_deref().map(plain).unwrap_or_else(|| "未指定".into())));
    lines
}

fn owner_mentions(ctx: &mut RenderContext<'_>, c: &Contract) -> Result<Vec<Person>, ApiError> {
    let who: Vec<&str> = c.owner.as_deref().into_iter().collect();
    people(ctx, Some(&c.partner_id), &who)
}

fn simple(event: &ContractSnapshot, ctx: &mut RenderContext<'_>, headline: &str) -> Result<Message, ApiError> {
    let c = &event.contract;
    Ok(Message {
        title: format!("{headline}：{}", name_of(c)),
        lines: lines_of(&event.partner_name, c),
        link: link(&c.id),
        mentions: owner_mentions(ctx, c)?,
    })
}

/// The status move of an activated / expired / terminated contract, then its lines.
fn moved(event: &ContractStatusChange, ctx: &mut RenderContext<'_>, headline: &str) -> Result<Message, ApiError> {
    let mut message = simple(&event.snapshot, ctx, headline)?;
    if let Some(status) = message.lines.iter().position(|l| l.starts_with("- **状态**")) {
        let c = &event.snapshot.contract;
        message.lines[status] = format!("- **状态**：{} → **{}**", status_label(event.from), status_label(c.status));
    }
    Ok(message)
}

pub fn created(event: &ContractSnapshot, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    simple(event, ctx, "新合同")
}

pub fn activated(event: &ContractStatusChange, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    moved(event, ctx, "合同生效")
}

pub fn expired(event: &ContractStatusChange, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    moved(event, ctx, "合同到期")
}

pub fn terminated(event: &ContractStatusChange, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    moved(event, ctx, "合同终止")
}

pub fn deleted(event: &ContractSnapshot, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let mut message = simple(event, ctx, "合同草稿已删除")?;
    message.link = None;
    Ok(message)
}

fn field_label(f: &str) -> Option<&'static str> {
    Some(match f {
        "number" => "合同编号",
        "title" => "名称",
        "kind" => "类型",
        "signed_at" => "签署时间",
        "effective_from" => "生效日",
        "effective_to" => "到期日",
        "auto_renew" => "自动续约",
        "renewal_notice_days" => "续约提前天数",
        "total_value" => "金额",
        "currency" => "币种",
        "owner" => "负责人",
        "notes" => "备注",
        "partner_id" => "伙伴",
        _ => return None,
    })
}

fn value_in_words(f: &str, v: &Value, currency: &str) -> String {
    let text = match (f, v) {
        (_, Value::Null) => None,
        ("kind", Value::String(s)) => s.parse().ok().map(|k| kind_label(k).to_string()),
        ("total_value", Value::Number(n)) => n.as_i64().map(|n| money(n, currency)),
        ("notes", _) => Some("已更新".into()),
        ("partner_id", _) => Some("已调整".into()),
        (_, other) => super::value_text(other),
    };
    text.unwrap_or_else(|| "（空）".into())
}

pub fn updated(event: &ContractUpdated, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let c = &event.snapshot.contract;
    let mut lines = Vec::new();
    for (f, change) in changes(&event.changes) {
        let Some(label) = field_label(f) else { continue };
        if f == "notes" || f == "partner_id" {
            lines.push(format!("- **{label}**：{}", value_in_words(f, &change.new, &c.currency)));
        } else {
            lines.push(format!(
                "- **{label}**：{} → **{}**",
                value_in_words(f, &change.old, &c.currency),
                value_in_words(f, &change.new, &c.currency)
            ));
        }
    }
    if !lines.is_empty() {
        lines.insert(0, "**变更**".into());
        lines.push(String::new());
    }
    lines.extend(lines_of(&event.snapshot.partner_name, c));
    Ok(Message {
        title: format!("合同变更：{}", name_of(c)),
        lines,
        link: link(&c.id),
        mentions: owner_mentions(ctx, c)?,
    })
}

/// What a term's name is made of, as an amendment records the term (the whole term, as JSON).
#[derive(Debug, Default, Deserialize)]
struct TermName {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    title: Option<String>,
}

/// `返点·年度返点` for a term as an amendment records it.
fn term_name(term: &Value) -> String {
    let term = TermName::deserialize(term).unwrap_or_default();
    let kind = term.kind.and_then(|k| k.parse::<TermKind>().ok());
    let title = term.title.as_deref().map(plain);
    match (kind, title) {
        (Some(k), Some(t)) => format!("{}·{t}", term_kind_zh(k)),
        (Some(k), None) => term_kind_zh(k).to_string(),
        (None, Some(t)) => t,
        (None, None) => "条款".into(),
    }
}

pub fn amended(event: &ContractAmended, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let c = &event.snapshot.contract;
    let amendment = &event.amendment;
    let mut lines = vec![
        format!("- **补充协议**：第 {} 号", amendment.number),
        format!("- **原因**：{}", plain(&amendment.reason)),
    ];
    for change in amendment.changes.iter().take(20) {
        let (before, after) =
            (change.before.as_ref().filter(|v| !v.is_null()), change.after.as_ref().filter(|v| !v.is_null()));
        let line = match change.op {
            ChangeOp::Add => after.map(|t| format!("- 新增条款：{}", term_name(t))),
            ChangeOp::Modify => after.map(|t| format!("- 修改条款：{}", term_name(t))),
            ChangeOp::Remove => before.map(|t| format!("- 删除条款：{}", term_name(t))),
            ChangeOp::UpdateContract => after.and_then(Value::as_object).map(|fields| {
                let names: Vec<&str> = fields.keys().filter_map(|f| field_label(f)).collect();
                format!("- 修改合同：{}", names.join("、"))
            }),
        };
        lines.extend(line);
    }
    lines.push(String::new());
    lines.extend(lines_of(&event.snapshot.partner_name, c));
    Ok(Message {
        title: format!("合同补充协议：{}", name_of(c)),
        lines,
        link: link(&c.id),
        mentions: owner_mentions(ctx, c)?,
    })
}

pub fn renewed(event: &ContractRenewed, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let c = &event.snapshot.contract;
    let successor = &event.successor;
    let mut lines = vec![
        format!("- **原合同**：{}（{}）", plain(&c.number), term_text(c.effective_from, c.effective_to)),
        format!("- **续签合同**：{}（{}）", plain(&successor.number), status_label(successor.status)),
        format!("- **新有效期**：{}", term_text(successor.effective_from, successor.effective_to)),
    ];
    lines.push(format!("- **伙伴**：{}", plain(&event.snapshot.partner_name)));
    if let Some(v) = successor.total_value {
        lines.push(format!("- **金额**：{}", money(v, &successor.currency)));
    }
    let mut mentions = owner_mentions(ctx, successor)?;
    for p in owner_mentions(ctx, c)? {
        if !mentions.contains(&p) {
            mentions.push(p);
        }
    }
    Ok(Message { title: format!("合同续签：{}", name_of(c)), lines, link: link(&successor.id), mentions })
}

pub fn expiring(event: &ContractExpiring, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let c = &event.snapshot.contract;
    let days_left = event.expiry.days_left;
    let mut lines = vec![format!("- **合同编号**：{}", plain(&c.number))];
    lines.push(format!("- **伙伴**：{}", plain(&event.snapshot.partner_name)));
    if let Some(to) = c.effective_to {
        lines.push(format!("- **到期日**：{to}"));
    }
    lines.push(format!("- **剩余**：{days_left} 天"));
    lines.push(format!("- **风险等级**：{}", severity_label(event.risk.severity)));
    lines.push(if c.auto_renew {
        "- **续约**：将自动续约，如不续约请及时通知".into()
    } else {
        "- **续约**：尚无续约合同".into()
    });
    lines.push(format!("- **负责人**：{}", c.owner.as_deref().map(plain).unwrap_or_else(|| "未指定".into())));
    Ok(Message {
        title: format!("合同即将到期：{}（剩余 {days_left} 天）", name_of(c)),
        lines,
        link: link(&c.id),
        mentions: owner_mentions(ctx, c)?,
    })
}

/// What a risk's evidence says that a message shows (the rest, such as `term_ids` and the other
/// side's `other`, it does not).
#[derive(Debug, Default, Deserialize)]
struct Evidence {
    #[serde(default)]
    missing: Vec<String>,
    #[serde(default)]
    territories: Vec<String>,
    #[serde(default)]
    product_lines: Vec<String>,
    days_overdue: Option<i64>,
}

/// The evidence in words: missing kinds, shared territories and product lines, days overdue.
fn evidence_lines(evidence: &Value) -> Vec<String> {
    let ev = Evidence::deserialize(evidence).unwrap_or_default();
    let mut lines = Vec::new();
    let missing: Vec<String> = ev
        .missing
        .iter()
        .map(|k| k.parse::<TermKind>().map(|k| term_kind_zh(k).to_string()).unwrap_or_else(|_| plain(k)))
        .collect();
    if !missing.is_empty() {
        lines.push(format!("- **缺少条款**：{}", missing.join("、")));
    }
    let plain_list = |items: &[String]| items.iter().map(|t| plain(t)).collect::<Vec<_>>().join("、");
    if !ev.territories.is_empty() {
        lines.push(format!("- **区域**：{}", plain_list(&ev.territories)));
    }
    if !ev.product_lines.is_empty() {
        lines.push(format!("- **产品线**：{}", plain_list(&ev.product_lines)));
    }
    if let Some(n) = ev.days_overdue {
        lines.push(format!("- **已过期**：{n} 天"));
    }
    lines
}

/// One side of a risk as a reader is shown it: in full, or (a partner's chat without a redacted
/// view in the payload) only which of its own contracts is concerned.
struct Side<'a> {
    risk: &'a Risk,
    in_full: bool,
}

/// The sides `viewer` may be shown: all for an unbound channel; for a bound one its own redacted
/// views, else its own sides without message or evidence.
fn sides_for<'a>(event: &'a RiskRaised, viewer: Option<&str>) -> Vec<Side<'a>> {
    let Some(viewer) = viewer else {
        return event.risks.iter().map(|risk| Side { risk, in_full: true }).collect();
    };
    let own: Vec<Side<'a>> = event
        .partner_views
        .iter()
        .filter(|r| r.partner_id == viewer)
        .map(|risk| Side { risk, in_full: true })
        .collect();
    if !own.is_empty() {
        return own;
    }
    event.risks.iter().filter(|r| r.partner_id == viewer).map(|risk| Side { risk, in_full: false }).collect()
}

pub fn risk_raised(event: &RiskRaised, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let sides = sides_for(event, ctx.viewer);
    let Some(first) = sides.first() else {
        return Err(ApiError::internal("risk.raised payload has no side for this reader"));
    };
    let mut lines = vec![format!("- **风险等级**：{}", severity_label(first.risk.severity))];
    for side in &sides {
        lines.push(format!("- **合同**：{}（{}）", plain(&side.risk.contract_number), plain(&side.risk.partner_name)));
    }
    if first.in_full {
        lines.extend(evidence_lines(&first.risk.evidence));
        lines.push(format!("> {}", plain(chinese_part(&first.risk.message))));
    }
    // Owners of the contracts shown, among their partners' contacts.
    let mut mentions = Vec::new();
    for c in event.contracts.iter().filter(|c| sides.iter().any(|s| s.risk.contract_id == c.id)) {
        for p in owner_mentions(ctx, c)? {
            if !mentions.contains(&p) {
                mentions.push(p);
            }
        }
    }
    Ok(Message {
        title: format!("风险预警：{}·{}", risk_label(first.risk.code), first.risk.contract_number),
        lines,
        link: link(&first.risk.contract_id),
        mentions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilingual_messages_keep_their_chinese_sentence() {
        assert_eq!(
            chinese_part("合同 A 缺少必备条款：权利。Contract A lacks required terms: rights."),
            "合同 A 缺少必备条款：权利。"
        );
        assert_eq!(chinese_part("no stop"), "no stop");
        assert_eq!(term_text(NaiveDate::from_ymd_opt(2026, 1, 1), None), "2026-01-01 起，长期");
    }

    #[test]
    fn evidence_reads_in_words() {
        let ev = serde_json::json!({"missing": ["breach_liability", "odd*kind"], "territories": ["上海"],
                                    "product_lines": ["服务器"], "days_overdue": 3, "term_ids": ["t1"]});
        let lines = evidence_lines(&ev);
        assert_eq!(lines[0], format!("- **缺少条款**：{}、odd\\*kind", term_kind_zh(TermKind::BreachLiability)));
        assert_eq!(lines[1..], ["- **区域**：上海", "- **产品线**：服务器", "- **已过期**：3 天"]);
        assert!(evidence_lines(&Value::Null).is_empty());
    }
}
