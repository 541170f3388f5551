//! From an outbox event to a message: the event is read back as its type ([`DomainEvent`]) once,
//! and one `match` hands each variant's payload to its renderer; variants without one, and event
//! types this version does not know, get the generic renderer, so new events are delivered
//! readably from their JSON payload before anyone writes their own renderer.
//!
//! Adding a renderer is one function: write `fn(&Payload, &mut RenderContext) -> Result<Message, ApiError>`
//! in the room's file here (e.g. `meetings.rs`) and call it from its variant's arm in [`typed`]
//! (the match names every variant, so a new event type is a compile error until it is given a
//! renderer or sent to the generic one on purpose). Platform formatting (markdown dialects,
//! @mentions, byte limits, splitting) is `format.rs`'s job, never a renderer's.
//!
//! A stored payload that does not read as its type (an older shape, a hand-written row) is not
//! an error: an unbound channel gets the generic rendering, a bound one the headline only
//! ([`fallback`]).
//!
//! A message for a channel bound to a partner is rendered for that partner (`RenderContext::viewer`):
//! it shows what the partner's API key would see (a two-sided risk without the other partner, a
//! meeting's action items of that partner only, a bulletin without its recipient count).

pub mod bulletins;
pub mod conflicts;
pub mod contracts;
pub mod deals;
pub mod deliveries;
pub mod evaluation;
pub mod incentives;
pub mod meetings;
pub mod partners;

use chrono::{DateTime, FixedOffset, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use crate::db::schema::partner_contacts as pc;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::events::{DomainEvent, Event};
pub use crate::platforms::format::plain;
use crate::platforms::format::{Message, Person};

/// What a renderer may use besides the event: the database (inside the fan-out transaction) to
/// look up names and people, and who will read the message.
pub struct RenderContext<'a> {
    pub conn: &'a mut DbConn,
    /// The partner the receiving channel is bound to: the message must show no more than that
    /// partner's API key could read. `None` for an unbound (internal) channel.
    pub viewer: Option<&'a str>,
}

/// Renders `event` for a channel bound to `viewer` (or an unbound one): with its type's renderer
/// when the payload reads as its type; the generic one for a type this version does not know;
/// [`fallback`] for a known type whose payload does not read as it.
pub fn render(conn: &mut DbConn, event: &Event, viewer: Option<&str>) -> Result<Message, ApiError> {
    let mut ctx = RenderContext { conn, viewer };
    let message = match event.domain() {
        Ok(typed_event) => typed(&typed_event, event, &mut ctx)?,
        // A type this version does not know (a newer room's, a test's): its JSON is all there is.
        Err(_) if !DomainEvent::TYPES.contains(&event.event_type.as_str()) => generic(event, &mut ctx)?,
        Err(err) => {
            tracing::warn!(event_id = %event.id, event_type = %event.event_type, error = %err, "payload does not read as its type; falling back");
            fallback(event, &mut ctx)?
        }
    };
    Ok(finish(message))
}

/// What a reader gets when its event's own renderer cannot be used: an unbound channel the
/// generic rendering, a bound one only the headline and the link ([`minimal`]), since the
/// generic renderer shows the whole payload (which may name other partners).
pub fn fallback(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    match ctx.viewer {
        None => generic(event, ctx),
        Some(_) => Ok(minimal(event)),
    }
}

/// The renderer of each event type, given its payload; `row` is the stored event it came from.
fn typed(event: &DomainEvent, row: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    use DomainEvent as E;
    match event {
        E::PartnerCreated(p) => partners::created(p, ctx),
        E::PartnerUpdated(p) => partners::updated(p, ctx),
        E::PartnerStatusChanged(p) => partners::status_changed(p, ctx),
        E::PartnerArchived(p) => partners::archived(p, ctx),
        E::MeetingScheduled(p) => meetings::scheduled(p, ctx),
        E::MeetingUpdated(p) => meetings::updated(p, ctx),
        E::MeetingHeld(p) => meetings::held(p, ctx),
        E::MeetingCancelled(p) => meetings::cancelled(p, ctx),
        E::MeetingReminder(p) => meetings::reminder(p, ctx),
        E::ActionItemOverdue(p) => meetings::overdue(p, ctx),
        E::MeetingSeriesScheduled(p) => meetings::series_scheduled(p, ctx),
        E::MeetingSeriesUpdated(p) => meetings::series_updated(p, ctx),
        E::MeetingSeriesCancelled(p) => meetings::series_cancelled(p, ctx),
        E::BulletinPublished(p) => bulletins::published(p, ctx),
        E::BulletinArchived(p) => bulletins::archived(p, ctx),
        E::ContractCreated(p) => contracts::created(p, ctx),
        E::ContractUpdated(p) => contracts::updated(p, ctx),
        E::ContractActivated(p) => contracts::activated(p, ctx),
        E::ContractExpired(p) => contracts::expired(p, ctx),
        E::ContractTerminated(p) => contracts::terminated(p, ctx),
        E::ContractRenewed(p) => contracts::renewed(p, ctx),
        E::ContractAmended(p) => contracts::amended(p, ctx),
        E::ContractDeleted(p) => contracts::deleted(p, ctx),
        E::ContractExpiring(p) => contracts::expiring(p, ctx),
        E::RiskRaised(p) => contracts::risk_raised(p, ctx),
        E::DeliveryDead(p) => deliveries::dead(p, ctx),
        E::PerformanceImported(p) => evaluation::performance_imported(p, ctx),
        E::TargetAgreed(p) => evaluation::target_agreed(p, ctx),
        E::TargetMissed(p) => evaluation::target_missed(p, ctx),
        E::IncentiveStatementApproved(p) => incentives::statement_approved(p, ctx),
        E::MdfRequestSubmitted(p) => incentives::mdf_submitted(p, ctx),
        E::MdfRequestDecided(p) => incentives::mdf_decided(p, ctx),
        E::DealSubmitted(p) => deals::submitted(p, ctx),
        E::DealDecided(p) => deals::decided(p, ctx),
        E::DealExpiring(p) => deals::expiring(p, ctx),
        E::ConflictOpened(p) => conflicts::opened(p, ctx),
        E::ConflictResolved(p) => conflicts::resolved(p, ctx),
        E::CompetitorCreated(_)
        | E::CompetitorUpdated(_)
        | E::CompetitorArchived(_)
        | E::CompetitorObserved(_)
        | E::RecruitmentCampaignCreated(_)
        | E::RecruitmentCampaignUpdated(_)
        | E::RecruitmentCampaignArchived(_) => generic(row, ctx),
    }
}

fn finish(mut message: Message) -> Message {
    message.title = clip_chars(&message.title, 100);
    message.mentions.truncate(20);
    message
}

/// One field of a payload's `changes` (`{field: {old, new}}`, as `crate::audit::diff` writes it):
/// the values stay JSON, since each field has its own type.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Change {
    #[serde(default)]
    pub old: Value,
    #[serde(default)]
    pub new: Value,
}

/// The fields of a payload's `changes`, in its order; none when it is not an object, and a field
/// whose entry is not `{old, new}` reads as null → null.
pub fn changes(changes: &Value) -> Vec<(&str, Change)> {
    changes
        .as_object()
        .into_iter()
        .flatten()
        .map(|(field, change)| (field.as_str(), Change::deserialize(change).unwrap_or_default()))
        .collect()
}

/// The default link of an event's record: `/{resource_type}s/{resource_id}` with `_` as `-`
/// (`partner` → `/partners/…`, `action_item` → `/action-items/…`, `meeting_series` →
/// `/meeting-series/…`).
pub fn default_link(event: &Event) -> Option<String> {
    if event.resource_type.is_empty() || event.resource_id.is_empty() {
        return None;
    }
    let plural = if event.resource_type.ends_with('s') { "" } else { "s" };
    Some(format!("/{}{plural}/{}", event.resource_type.replace('_', "-"), event.resource_id))
}

/// The headline of an event type in words (`meeting.scheduled` → `会议已安排`).
fn headline(event_type: &str) -> String {
    let mut parts = event_type.splitn(2, '.');
    let (n, v) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    match (noun(n), verb(v)) {
        (Some(n), Some(v)) => format!("{n}{v}"),
        (Some(n), None) => format!("{n} {v}"),
        _ => event_type.to_string(),
    }
}

/// A message that says only what happened and where to look: what a channel bound to a partner
/// gets when its event's renderer fails, since the generic renderer would show the whole payload
/// (which may name other partners).
pub fn minimal(event: &Event) -> Message {
    finish(Message {
        title: headline(&event.event_type),
        lines: vec![format!("> 事件：{}", event.event_type)],
        link: default_link(event),
        mentions: Vec::new(),
    })
}

/// At most `max` characters, with `…` when cut.
pub fn clip_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `2026-12-01T02:00:00Z` → `2026-12-01 10:00`, in China Standard Time (UTC+8), the time the
/// chat's readers live in.
pub fn local_time(t: &DateTime<Utc>) -> String {
    match FixedOffset::east_opt(8 * 3600) {
        Some(cst) => t.with_timezone(&cst).format("%Y-%m-%d %H:%M").to_string(),
        None => t.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// Contacts of `partner_id` that have a userid and whose name or userid is one of `who`: the
/// people an event names as owner, assignee or attendee.
pub fn people(ctx: &mut RenderContext<'_>, partner_id: Option<&str>, who: &[&str]) -> Result<Vec<Person>, ApiError> {
    let (Some(partner_id), false) = (partner_id, who.is_empty()) else { return Ok(Vec::new()) };
    let rows: Vec<(String, Option<String>, Option<String>)> = pc::table
        .filter(pc::partner_id.eq(partner_id))
        .order(pc::id.asc())
        .limit(500)
        .select((pc::name, pc::wecom_userid, pc::dingtalk_userid))
        .load(ctx.conn)?;
    Ok(rows
        .into_iter()
        .filter(|(name, w, d)| {
            (w.is_some() || d.is_some())
                && who.iter().any(|x| x == name || w.as_deref() == Some(x) || d.as_deref() == Some(x))
        })
        .map(|(name, wecom_userid, dingtalk_userid)| Person { name, wecom_userid, dingtalk_userid })
        .collect())
}

// ---- the generic renderer ----

/// Chinese words for the parts of event types this service emits (and those the other rooms
/// will), so a generic title reads like `会议 已安排`.
fn noun(word: &str) -> Option<&'static str> {
    Some(match word {
        "partner" => "伙伴",
        "meeting" => "会议",
        "action_item" => "待办事项",
        "bulletin" => "公告",
        "contract" => "合同",
        "risk" => "风险",
        "conflict" => "渠道冲突",
        "key_account" => "大客户",
        "assignment" => "客户分配",
        "meeting_series" => "系列会议",
        "competitor" => "竞争对手",
        "recruitment_campaign" => "招募活动",
        _ => return None,
    })
}

fn verb(word: &str) -> Option<&'static str> {
    Some(match word {
        "created" => "新建",
        "updated" => "已更新",
        "archived" => "已归档",
        "deleted" => "已删除",
        "status_changed" => "状态变更",
        "scheduled" => "已安排",
        "cancelled" => "已取消",
        "held" => "已召开",
        "reminder" => "提醒",
        "overdue" => "已逾期",
        "published" => "已发布",
        "expiring" => "即将到期",
        "expired" => "已到期",
        "raised" => "预警",
        "resolved" => "已解除",
        "opened" => "新发现",
        "closed" => "已关闭",
        "activated" => "已生效",
        "terminated" => "已终止",
        "amended" => "已补充",
        "renewed" => "已续签",
        "observed" => "新动态",
        _ => return None,
    })
}

/// Labels of common payload fields.
pub fn field_label(key: &str) -> &str {
    match key {
        "name" => "名称",
        "title" => "标题",
        "status" => "状态",
        "tier" => "等级",
        "owner" => "负责人",
        "region" => "区域",
        "kind" => "类型",
        "category" => "类别",
        "importance" => "重要性",
        "severity" => "级别",
        "message" => "说明",
        "scheduled_at" | "starts_at" | "start_at" => "时间",
        "ends_at" | "end_at" => "结束时间",
        "due_at" | "due_date" => "截止",
        "end_date" | "expires_at" | "expires_on" => "到期",
        "start_date" => "开始",
        "timezone" => "时区",
        "location" => "地点",
        "number" => "编号",
        "partner" => "伙伴",
        "partner_name" => "伙伴",
        "contract" => "合同",
        "meeting" => "会议",
        "recipient_count" => "接收伙伴数",
        "decisions" => "决议",
        "action_items" => "待办事项",
        "attendees" => "参会人",
        "from" => "原值",
        "to" => "新值",
        other => other,
    }
}

/// Fields that say nothing to a reader of a chat.
fn skipped(key: &str) -> bool {
    matches!(key, "id" | "version" | "created_at" | "updated_at" | "archived_at" | "changes" | "payload")
        || key.ends_with("_id")
        || key.ends_with("_ids")
}

/// A JSON value as short readable text.
pub fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(if *b { "是" } else { "否" }.into()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(match DateTime::parse_from_rfc3339(s) {
            Ok(t) => local_time(&t.with_timezone(&Utc)),
            Err(_) => plain(&clip_chars(s, 300)),
        }),
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) => {
            let shown: Vec<String> = items.iter().take(10).filter_map(item_text).collect();
            let more = items.len().saturating_sub(10);
            Some(if more > 0 { format!("{} 等 {} 项", shown.join("、"), items.len()) } else { shown.join("、") })
        }
        Value::Object(_) => item_text(v),
    }
}

/// An object's name-like field, or a scalar's text.
fn item_text(v: &Value) -> Option<String> {
    match v {
        Value::Object(map) => ["name", "title", "text", "number", "code", "message"]
            .iter()
            .find_map(|k| map.get(*k).and_then(|x| x.as_str()))
            .map(|s| plain(&clip_chars(s, 100))),
        other => value_text(other),
    }
}

/// The readable name of the payload's main object (`{"meeting": {"title": …}}` → its title).
fn subject_name(payload: &Value) -> Option<String> {
    let map = payload.as_object()?;
    if let Some(name) = item_text(payload) {
        return Some(name);
    }
    map.values().filter(|v| v.is_object()).find_map(item_text)
}

/// For any event: a title from its type (`会议 已安排：季度复盘`) and one line per meaningful
/// payload field, one level into nested objects.
pub fn generic(event: &Event, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let headline = headline(&event.event_type);
    let title = match subject_name(&event.payload) {
        Some(name) => format!("{headline}：{name}"),
        None => headline,
    };
    let mut lines = Vec::new();
    let mut owners: Vec<String> = Vec::new();
    if let Some(map) = event.payload.as_object() {
        for (key, value) in map {
            if skipped(key) {
                continue;
            }
            match value {
                Value::Object(inner) => {
                    for (k, v) in inner {
                        if skipped(k) {
                            continue;
                        }
                        if k == "owner" {
                            owners.extend(v.as_str().map(str::to_string));
                        }
                        if let Some(text) = value_text(v) {
                            lines.push(format!("- **{}·{}**：{text}", field_label(key), field_label(k)));
                        }
                    }
                }
                other => {
                    if key == "owner" {
                        owners.extend(other.as_str().map(str::to_string));
                    }
                    if let Some(text) = value_text(other) {
                        lines.push(format!("- **{}**：{text}", field_label(key)));
                    }
                }
            }
        }
    }
    lines.push(format!("> 事件：{}", event.event_type));
    let who: Vec<&str> = owners.iter().map(String::as_str).collect();
    let mentions = people(ctx, event.partner_id.as_deref(), &who)?;
    Ok(Message { title, lines, link: default_link(event), mentions })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_well() {
        assert_eq!(value_text(&json!("2026-12-01T02:00:00Z")).unwrap(), "2026-12-01 10:00");
        assert_eq!(value_text(&json!(["上海", "苏州"])).unwrap(), "上海、苏州");
        assert_eq!(value_text(&json!([{"title": "修订返点"}, {"text": "补充资料"}])).unwrap(), "修订返点、补充资料");
        assert_eq!(value_text(&json!(null)), None);
        assert_eq!(value_text(&json!("a*b")).unwrap(), "a\\*b");
        assert_eq!(subject_name(&json!({"meeting": {"title": "季度复盘", "id": "x"}})).unwrap(), "季度复盘");
        assert_eq!(clip_chars("伙伴伙伴伙伴", 4), "伙伴伙…");
    }

    #[test]
    fn links_and_headlines() {
        let event = |t: &str, resource: &str| Event {
            id: "e".into(),
            event_type: t.into(),
            occurred_at: chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc(),
            resource_type: resource.into(),
            resource_id: "r1".into(),
            partner_id: None,
            payload: json!({"risks": [{"message": "另一伙伴的名字"}]}),
        };
        assert_eq!(default_link(&event("x", "action_item")).unwrap(), "/action-items/r1");
        assert_eq!(default_link(&event("x", "meeting_series")).unwrap(), "/meeting-series/r1");
        let m = minimal(&event("risk.raised", "contract"));
        assert_eq!(m.title, "风险预警");
        assert_eq!(m.link.as_deref(), Some("/contracts/r1"));
        assert!(!m.lines.concat().contains("另一伙伴"), "nothing from the payload");
        assert_eq!(minimal(&event("meeting_series.cancelled", "meeting_series")).title, "系列会议已取消");
    }
}
