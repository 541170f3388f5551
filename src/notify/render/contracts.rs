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

use super::{people, plain, Message, Person, RenderContext, RenderFn};
use crate::contracts::model::{ContractKind, ContractStatus};
use crate::contracts::render::{money, term_kind_zh};
use crate::contracts::risks::{RiskCode, Severity};
use crate::contracts::terms::TermKind;
use crate::error::ApiError;
use crate::events::Event;

pub const RENDERERS: &[(&str, RenderFn)] = &[
    ("contract.created", created),
    ("contract.updated", updated),
    ("contract.activated", activated),
    ("contract.expired", expired),
    ("contract.terminated", terminated),
    ("contract.amended", amended),
    ("contract.renewed", renewed),
    ("contract.deleted", deleted),
    ("contract.expiring", expiring),
    ("risk.raised", risk_raised),
];

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

#[derive(Debug, Deserialize)]
struct ContractView {
    id: String,
    partner_id: String,
    number: String,
    title: String,
    kind: ContractKind,
    status: ContractStatus,
    effective_from: Option<NaiveDate>,
    effective_to: Option<NaiveDate>,
    #[serde(default)]
    auto_renew: bool,
    total_value: Option<i64>,
    #[serde(default)]
    currency: String,
    owner: Option<String>,
}

fn parse<T: serde::de::DeserializeOwned>(event: &Event, key: &str) -> Result<T, ApiError> {
    let value = event.payload.get(key).cloned().unwrap_or(Value::Null);
    serde_json::from_value(value)
        .map_err(|e| ApiError::internal(format!("{} payload has no readable {key}: {e}", event.event_type)))
}

fn contract_of(event: &Event) -> Result<ContractView, ApiError> {
    parse(event, "contract")
}

fn partner_name(event: &Event) -> Option<String> {
    event.payload.get("partner_name").and_then(Value::as_str).map(plain)
}

fn link(id: &str) -> Option<String> {
    Some(format!("/contracts/{id}"))
}

/// `HT-001 渠道代理协议`.
fn name_of(c: &ContractView) -> String {
    format!("{} {}", c.number, c.title)
}

fn lines_of(event: &Event, c: &ContractView) -> Vec<String> {
    let mut lines = vec![format!("- **合同编号**：{}", plain(&c.number))];
    if let Some(name) = partner_name(event) {
        lines.push(format!("- **伙伴**：{name}"));
    }
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

fn owner_mentions(ctx: &mut RenderContext<'_>, c: &ContractView) -> Result<Vec<Person>, ApiError> {
    let who: Vec<&str> = c.owner.as_deref().into_iter().collect();
    people(ctx, Some(&c.partner_id), &who)
}

fn simple(event: &Event, ctx: &mut RenderContext<'_>, headline: &str) -> Result<Message, ApiError> {
    let c = contract_of(event)?;
    Ok(Message {
        title: format!("{headline}：{}", name_of(&c)),
        lines: lines_of(event, &c),
        link: link(&c.id),
        mentions: owner_mentions(ctx, &c)?,
    })
}

/// The status move of an activated / expired / terminated contract, then its lines.
fn moved(event: &Event, ctx: &mut RenderContext<'_>, headline: &str) -> Result<Message, ApiError> {
    let mut message = simple(event, ctx, headline)?;
    let from = event.payload.get("from").and_then(Value::as_str).and_then(|s| s.parse::<ContractStatus>().ok());
    if let (Some(from), Some(status)) = (from, message.lines.iter().position(|l| l.starts_with("- **状态**"))) {
        let c = contract_of(event)?;
        message.lines[status] = format!("- **状态**：{} → **{}**", status_label(from), status_label(c.status));
    }
    Ok(message)
}

pub fn created(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    simple(event, ctx, "新合同")
}

pub fn activated(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    moved(event, ctx, "合同生效")
}

pub fn expired(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    moved(event, ctx, "合同到期")
}

pub fn terminated(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    moved(event, ctx, "合同终止")
}

pub fn deleted(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
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

pub fn updated(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let c = contract_of(event)?;
    let mut lines = Vec::new();
    if let Some(changes) = event.payload.get("changes").and_then(Value::as_object) {
        for (f, change) in changes {
            let Some(label) = field_label(f) else { continue };
            let (old, new) = (change.get("old").unwrap_or(&Value::Null), change.get("new").unwrap_or(&Value::Null));
            if f == "notes" || f == "partner_id" {
                lines.push(format!("- **{label}**：{}", value_in_words(f, new, &c.currency)));
            } else {
                lines.push(format!(
                    "- **{label}**：{} → **{}**",
                    value_in_words(f, old, &c.currency),
                    value_in_words(f, new, &c.currency)
                ));
            }
        }
    }
    if !lines.is_empty() {
        lines.insert(0, "**变更**".into());
        lines.push(String::new());
    }
    lines.extend(lines_of(event, &c));
    Ok(Message {
        title: format!("合同变更：{}", name_of(&c)),
        lines,
        link: link(&c.id),
        mentions: owner_mentions(ctx, &c)?,
    })
}

/// `返点·年度返点` for a term as an amendment records it.
fn term_name(term: &Value) -> String {
    let kind = term.get("kind").and_then(Value::as_str).and_then(|k| k.parse::<TermKind>().ok());
    let title = term.get("title").and_then(Value::as_str).map(plain);
    match (kind, title) {
        (Some(k), Some(t)) => format!("{}·{t}", term_kind_zh(k)),
        (Some(k), None) => term_kind_zh(k).to_string(),
        (None, Some(t)) => t,
        (None, None) => "条款".into(),
    }
}

pub fn amended(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let c = contract_of(event)?;
    let amendment = event.payload.get("amendment").cloned().unwrap_or(Value::Null);
    let mut lines = Vec::new();
    if let Some(n) = amendment.get("number").and_then(Value::as_i64) {
        lines.push(format!("- **补充协议**：第 {n} 号"));
    }
    if let Some(reason) = amendment.get("reason").and_then(Value::as_str) {
        lines.push(format!("- **原因**：{}", plain(reason)));
    }
    for change in amendment.get("changes").and_then(Value::as_array).into_iter().flatten().take(20) {
        let side = |k: &str| change.get(k).filter(|v| !v.is_null());
        let line = match change.get("op").and_then(Value::as_str) {
            Some("add") => side("after").map(|t| format!("- 新增条款：{}", term_name(t))),
            Some("modify") => side("after").map(|t| format!("- 修改条款：{}", term_name(t))),
            Some("remove") => side("before").map(|t| format!("- 删除条款：{}", term_name(t))),
            Some("update_contract") => side("after").and_then(Value::as_object).map(|fields| {
                let names: Vec<&str> = fields.keys().filter_map(|f| field_label(f)).collect();
                format!("- 修改合同：{}", names.join("、"))
            }),
            _ => None,
        };
        lines.extend(line);
    }
    lines.push(String::new());
    lines.extend(lines_of(event, &c));
    Ok(Message {
        title: format!("合同补充协议：{}", name_of(&c)),
        lines,
        link: link(&c.id),
        mentions: owner_mentions(ctx, &c)?,
    })
}

pub fn renewed(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let c = contract_of(event)?;
    let successor: ContractView = parse(event, "successor")?;
    let mut lines = vec![
        format!("- **原合同**：{}（{}）", plain(&c.number), term_text(c.effective_from, c.effective_to)),
        format!("- **续签合同**：{}（{}）", plain(&successor.number), status_label(successor.status)),
        format!("- **新有效期**：{}", term_text(successor.effective_from, successor.effective_to)),
    ];
    if let Some(name) = partner_name(event) {
        lines.push(format!("- **伙伴**：{name}"));
    }
    if let Some(v) = successor.total_value {
        lines.push(format!("- **金额**：{}", money(v, &successor.currency)));
    }
    let mut mentions = owner_mentions(ctx, &successor)?;
    for p in owner_mentions(ctx, &c)? {
        if !mentions.contains(&p) {
            mentions.push(p);
        }
    }
    Ok(Message { title: format!("合同续签：{}", name_of(&c)), lines, link: link(&successor.id), mentions })
}

pub fn expiring(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let c = contract_of(event)?;
    let days_left = event.payload.get("days_left").and_then(Value::as_i64);
    let mut lines = vec![format!("- **合同编号**：{}", plain(&c.number))];
    if let Some(name) = partner_name(event) {
        lines.push(format!("- **伙伴**：{name}"));
    }
    if let Some(to) = c.effective_to {
        lines.push(format!("- **到期日**：{to}"));
    }
    if let Some(n) = days_left {
        lines.push(format!("- **剩余**：{n} 天"));
    }
    let severity = event.payload.pointer("/risk/severity").and_then(Value::as_str).and_then(|s| s.parse().ok());
    if let Some(s) = severity {
        lines.push(format!("- **风险等级**：{}", severity_label(s)));
    }
    lines.push(if c.auto_renew {
        "- **续约**：将自动续约，如不续约请及时通知".into()
    } else {
        "- **续约**：尚无续约合同".into()
    });
    lines.push(format!("- **负责人**：{}", c.owner.as_deref().map(plain).unwrap_or_else(|| "未指定".into())));
    let left = days_left.map(|n| format!("（剩余 {n} 天）")).unwrap_or_default();
    Ok(Message {
        title: format!("合同即将到期：{}{left}", name_of(&c)),
        lines,
        link: link(&c.id),
        mentions: owner_mentions(ctx, &c)?,
    })
}

/// One side of a risk as the payload carries it.
#[derive(Debug, Deserialize)]
struct RiskView {
    code: RiskCode,
    severity: Severity,
    partner_id: String,
    partner_name: String,
    contract_id: String,
    contract_number: String,
    message: Option<String>,
    #[serde(default)]
    evidence: Value,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(plain).collect()).unwrap_or_default()
}

/// The evidence in words: missing kinds, shared territories and product lines, days overdue.
fn evidence_lines(r: &RiskView) -> Vec<String> {
    let ev = &r.evidence;
    let mut lines = Vec::new();
    let missing: Vec<String> = strings(ev.get("missing"))
        .iter()
        .map(|k| k.parse::<TermKind>().map(|k| term_kind_zh(k).to_string()).unwrap_or_else(|_| k.clone()))
        .collect();
    if !missing.is_empty() {
        lines.push(format!("- **缺少条款**：{}", missing.join("、")));
    }
    let territories = strings(ev.get("territories"));
    if !territories.is_empty() {
        lines.push(format!("- **区域**：{}", territories.join("、")));
    }
    let product_lines = strings(ev.get("product_lines"));
    if !product_lines.is_empty() {
        lines.push(format!("- **产品线**：{}", product_lines.join("、")));
    }
    if let Some(n) = ev.get("days_overdue").and_then(Value::as_i64) {
        lines.push(format!("- **已过期**：{n} 天"));
    }
    lines
}

pub fn risk_raised(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let all: Vec<RiskView> = parse(event, "risks")?;
    let sides: Vec<RiskView> = match ctx.viewer {
        None => all,
        Some(viewer) => {
            let views: Vec<RiskView> = match event.payload.get("partner_views") {
                Some(v) if !v.is_null() => parse(event, "partner_views")?,
                _ => Vec::new(),
            };
            let own: Vec<RiskView> = views.into_iter().filter(|r| r.partner_id == viewer).collect();
            if own.is_empty() {
                // No redacted view in the payload: say only which of the partner's own contracts
                // is concerned, nothing from the message or evidence.
                all.into_iter()
                    .filter(|r| r.partner_id == viewer)
                    .map(|r| RiskView { message: None, evidence: Value::Null, ..r })
                    .collect()
            } else {
                own
            }
        }
    };
    let Some(first) = sides.first() else {
        return Err(ApiError::internal("risk.raised payload has no side for this reader"));
    };
    let mut lines = vec![format!("- **风险等级**：{}", severity_label(first.severity))];
    for side in &sides {
        lines.push(format!("- **合同**：{}（{}）", plain(&side.contract_number), plain(&side.partner_name)));
    }
    lines.extend(evidence_lines(first));
    if let Some(message) = &first.message {
        lines.push(format!("> {}", plain(chinese_part(message))));
    }
    // Owners of the contracts shown, among their partners' contacts.
    let contracts: Vec<ContractView> = match event.payload.get("contracts") {
        Some(v) if !v.is_null() => parse(event, "contracts")?,
        _ => Vec::new(),
    };
    let mut mentions = Vec::new();
    for c in contracts.iter().filter(|c| sides.iter().any(|s| s.contract_id == c.id)) {
        for p in owner_mentions(ctx, c)? {
            if !mentions.contains(&p) {
                mentions.push(p);
            }
        }
    }
    Ok(Message {
        title: format!("风险预警：{}·{}", risk_label(first.code), first.contract_number),
        lines,
        link: link(&first.contract_id),
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
}
