//! Partner events (`partner.created`, `partner.updated`, `partner.status_changed`,
//! `partner.archived`) and the Chinese labels of partner fields, which chat commands use too.

use serde_json::Value;

use super::{default_link, field_label, people, plain, value_text, Message, RenderContext, RenderFn};
use crate::error::ApiError;
use crate::events::Event;
use crate::partners::model::{ChannelType, Partner, PartnerKind, PartnerStatus, Tier};

pub const RENDERERS: &[(&str, RenderFn)] = &[
    ("partner.created", created),
    ("partner.updated", updated),
    ("partner.status_changed", status_changed),
    ("partner.archived", archived),
];

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

/// The partner a partner event carries (`payload.partner`).
fn partner_of(event: &Event) -> Result<Partner, ApiError> {
    let value = event.payload.get("partner").cloned().unwrap_or(Value::Null);
    serde_json::from_value::<PartnerView>(value)
        .map(PartnerView::into_partner)
        .map_err(|e| ApiError::internal(format!("{} payload is not a partner: {e}", event.event_type)))
}

/// The fields of `Partner` that rendering reads, deserialized from the payload.
#[derive(serde::Deserialize)]
struct PartnerView {
    id: String,
    name: String,
    channel_type: ChannelType,
    kind: PartnerKind,
    tier: Tier,
    status: PartnerStatus,
    region: Option<String>,
    #[serde(default)]
    territories: Vec<String>,
    owner: Option<String>,
}

impl PartnerView {
    fn into_partner(self) -> Partner {
        let epoch = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        Partner {
            id: self.id,
            name: self.name,
            channel_type: self.channel_type,
            kind: self.kind,
            tier: self.tier,
            status: self.status,
            region: self.region,
            territories: self.territories,
            industries: Vec::new(),
            owner: self.owner,
            next_review_at: None,
            notes: None,
            source: None,
            campaign_id: None,
            activated_at: None,
            version: 0,
            created_at: epoch,
            updated_at: epoch,
            archived_at: None,
        }
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

fn owner_mentions(ctx: &mut RenderContext<'_>, p: &Partner) -> Result<Vec<super::Person>, ApiError> {
    let who: Vec<&str> = p.owner.as_deref().into_iter().collect();
    people(ctx, Some(&p.id), &who)
}

pub fn created(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let p = partner_of(event)?;
    Ok(Message {
        title: format!("新伙伴：{}", p.name),
        lines: partner_lines(&p),
        link: default_link(event),
        mentions: owner_mentions(ctx, &p)?,
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

pub fn updated(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let p = partner_of(event)?;
    let mut lines = Vec::new();
    if let Some(changes) = event.payload.get("changes").and_then(Value::as_object) {
        for (field, change) in changes {
            let (old, new) = (change.get("old").unwrap_or(&Value::Null), change.get("new").unwrap_or(&Value::Null));
            let label = match field.as_str() {
                "channel_type" => "渠道类型",
                "territories" => "覆盖",
                "industries" => "行业",
                "next_review_at" => "下次复盘",
                "notes" => "备注",
                other => field_label(other),
            };
            lines.push(format!("- **{label}**：{} → {}", changed_value(field, old), changed_value(field, new)));
        }
    }
    if lines.is_empty() {
        lines = partner_lines(&p);
    }
    Ok(Message {
        title: format!("伙伴信息更新：{}", p.name),
        lines,
        link: default_link(event),
        mentions: owner_mentions(ctx, &p)?,
    })
}

pub fn status_changed(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let p = partner_of(event)?;
    let from = event.payload.get("from").map(|v| changed_value("status", v)).unwrap_or_else(|| "（未知）".into());
    let to = status_label(p.status);
    Ok(Message {
        title: format!("伙伴状态变更：{}", p.name),
        lines: vec![
            format!("- **状态**：{from} → **{to}**"),
            format!("- **等级**：{}", tier_label(p.tier)),
            format!("- **负责人**：{}", p.owner.as_deref().map(plain).unwrap_or_else(|| "未指定".into())),
        ],
        link: default_link(event),
        mentions: owner_mentions(ctx, &p)?,
    })
}

pub fn archived(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let p = partner_of(event)?;
    Ok(Message {
        title: format!("伙伴已归档：{}", p.name),
        lines: vec![format!("- **等级**：{}", tier_label(p.tier)), format!("- **状态**：{}", status_label(p.status))],
        link: default_link(event),
        mentions: owner_mentions(ctx, &p)?,
    })
}
