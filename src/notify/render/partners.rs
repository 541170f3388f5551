//! Partner events (`partner.created`, `partner.updated`, `partner.status_changed`,
//! `partner.archived`) and the Chinese labels of partner fields, which chat commands use too.

use serde_json::Value;

use super::{changes, field_label, people, plain, value_text, Message, RenderContext};
use crate::error::ApiError;
use crate::partners::events::{PartnerSnapshot, PartnerStatusChanged, PartnerUpdated};
use crate::partners::model::{ChannelType, Partner, PartnerKind, PartnerStatus, Tier};

pub fn tier_label(t: Tier) -> &'static str {
    match t {
        Tier::Strategic => "战略伙伴",
        Tier::Key => "重点伙伴",
        Tier::Standard => "标准伙伴",
        Tier::Probation => "考察期伙伴",
    }
}

pub fn status_label(s: PartnerStatus) -> &'static str {
    match s {
        PartnerStatus::Prospect => "潜在",
        PartnerStatus::Onboarding => "签约导入中",
        PartnerStatus::Active => "合作中",
        PartnerStatus::Suspended => "已暂停",
        PartnerStatus::Terminated => "已终止",
    }
}

pub fn channel_type_label(c: ChannelType) -> &'static str {
    match c {
        ChannelType::Direct => "直接渠道",
        ChannelType::Indirect => "间接渠道",
    }
}

pub fn kind_label(k: PartnerKind) -> &'static str {
    match k {
        PartnerKind::SalesTeam => "自建销售团队",
        PartnerKind::Telesales => "电话销售",
        PartnerKind::OnlineDirect => "网络直销",
        PartnerKind::Agent => "代理商",
        PartnerKind::Distributor => "经销商",
        PartnerKind::Wholesaler => "批发商",
        PartnerKind::Reseller => "转售商",
        PartnerKind::Other => "其他",
    }
}

/// The lines that describe a partner: type, tier, status, region, owner.
pub fn partner_lines(p: &Partner) -> Vec<String> {
    let mut lines = vec![
        format!("- **类型**：{}·{}", channel_type_label(p.channel_type), kind_label(p.kind)),
        format!("- **等级**：{}", tier_label(p.tier)),
        format!("- **状态**：{}", status_label(p.status)),
    ];
    if let Some(region) = &p.region {
        lines.push(format!("- **区域**：{}", plain(region)));
    }
    if !p.territories.is_empty() {
        lines.push(format!("- **覆盖**：{}", p.territories.iter().map(|t| plain(t)).collect::<Vec<_>>().join("、")));
    }
    lines.push(format!("- **负责人**：{}", p.owner.as_deref().map(plain).unwrap_or_else(|| "未指定".into())));
    lines
}

fn link(p: &Partner) -> Option<String> {
    Some(format!("/partners/{}", p.id))
}

fn owner_mentions(ctx: &mut RenderContext<'_>, p: &Partner) -> Result<Vec<super::Person>, ApiError> {
    let who: Vec<&str> = p.owner.as_deref().into_iter().collect();
    people(ctx, Some(&p.id), &who)
}

pub fn created(event: &PartnerSnapshot, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let p = &event.partner;
    Ok(Message {
        title: format!("新伙伴：{}", p.name),
        lines: partner_lines(p),
        link: link(p),
        mentions: owner_mentions(ctx, p)?,
    })
}

/// A changed field's value in words (enums get their Chinese labels).
fn changed_value(field: &str, v: &Value) -> String {
    let label = v.as_str().and_then(|s| match field {
        "tier" => s.parse().ok().map(tier_label),
        "status" => s.parse().ok().map(status_label),
        "channel_type" => s.parse().ok().map(channel_type_label),
        "kind" => s.parse().ok().map(kind_label),
        _ => None,
    });
    label.map(str::to_string).or_else(|| value_text(v)).unwrap_or_else(|| "（空）".into())
}

pub fn updated(event: &PartnerUpdated, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let p = &event.partner;
    let mut lines = Vec::new();
    for (field, change) in changes(&event.changes) {
        let label = match field {
            "channel_type" => "渠道类型",
            "territories" => "覆盖",
            "industries" => "行业",
            "next_review_at" => "下次复盘",
            "notes" => "备注",
            other => field_label(other),
        };
        lines.push(format!(
            "- **{label}**：{} → {}",
            changed_value(field, &change.old),
            changed_value(field, &change.new)
        ));
    }
    if lines.is_empty() {
        lines = partner_lines(p);
    }
    Ok(Message {
        title: format!("伙伴信息更新：{}", p.name), lines, link: link(p), mentions: owner_mentions(ctx, p)?
    })
}

pub fn status_changed(event: &PartnerStatusChanged, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let p = &event.partner;
    let from = status_label(event.from);
    let to = status_label(p.status);
    Ok(Message {
        title: format!("伙伴状态变更：{}", p.name),
        lines: vec![
            format!("- **状态**：{from} → **{to}**"),
            format!("- **等级**：{}", tier_label(p.tier)),
            format!("- **负责人**：{}", p.owner.as_deref().map(plain).unwrap_or_else(|| "未指定".into())),
        ],
        link: link(p),
        mentions: owner_mentions(ctx, p)?,
    })
}

pub fn archived(event: &PartnerSnapshot, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let p = &event.partner;
    Ok(Message {
        title: format!("伙伴已归档：{}", p.name),
        lines: vec![format!("- **等级**：{}", tier_label(p.tier)), format!("- **状态**：{}", status_label(p.status))],
        link: link(p),
        mentions: owner_mentions(ctx, p)?,
    })
}
