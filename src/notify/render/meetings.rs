//! Meeting events (`meeting.scheduled`, `.updated`, `.held`, `.cancelled`, `.reminder`), overdue
//! action items (`action_item.overdue`) and recurring series (`meeting_series.scheduled`,
//! `.updated`, `.cancelled`). Times are written in the meeting's own timezone.
//!
//! Mentions: attendees with a userid, and action item owners who are a contact of the item's
//! partner or an attendee of its meeting. A channel bound to a partner is shown the meeting as a
//! partner key reads it: only that partner's action items, no other partner's name (a joint
//! meeting's attendees are listed, as the meeting shows them), and mentions of that partner's
//! people and our own staff (attendees who are no partner's contact) only.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::Value;

use super::{changes, clip_chars, people, plain, Message, Person, RenderContext};
use crate::access::Scope;
use crate::error::ApiError;
use crate::meetings::action_items::model::ActionItemStatus;
use crate::meetings::events::{
    ActionItemOverdue, MeetingCancelled, MeetingHeld, MeetingReminder, MeetingSnapshot, MeetingUpdated, PartnerRef,
    SeriesCancelled, SeriesSnapshot, SeriesUpdated,
};
use crate::meetings::meetings::model::{Meeting, MeetingKind, MeetingStatus};
use crate::meetings::model::Attendee;
use crate::meetings::series::model::{Frequency, MeetingSeries, Occurrence};
use crate::meetings::time;

/// Agenda items, decisions and action items shown in one message.
const MAX_LIST: usize = 20;
/// Characters of the minutes quoted in `meeting.held`.
const MINUTES_EXCERPT: usize = 600;

pub fn kind_label(k: MeetingKind) -> &'static str {
    match k {
        MeetingKind::RegularReview => "例行沟通",
        MeetingKind::BusinessReview => "业务回顾",
        MeetingKind::Kickoff => "启动会",
        MeetingKind::IssueResolution => "问题协调",
        MeetingKind::Training => "培训",
        MeetingKind::Other => "其他",
    }
}

pub fn status_label(s: MeetingStatus) -> &'static str {
    match s {
        MeetingStatus::Scheduled => "已安排",
        MeetingStatus::Held => "已召开",
        MeetingStatus::Cancelled => "已取消",
    }
}

fn frequency_label(f: Frequency, interval: u32) -> String {
    let (unit, every_one) = match f {
        Frequency::Weekly => ("周", "每周"),
        Frequency::Biweekly => ("两周", "每两周"),
        Frequency::Monthly => ("月", "每月"),
        Frequency::Quarterly => ("季度", "每季度"),
    };
    match (f, interval) {
        (_, 0 | 1) => every_one.to_string(),
        (Frequency::Weekly, n) => format!("每 {n} 周"),
        (Frequency::Biweekly, n) => format!("每 {} 周", n * 2),
        (Frequency::Quarterly, n) => format!("每 {n} 个季度"),
        (_, n) => format!("每 {n} 个{unit}"),
    }
}

fn weekday_label(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "周一",
        Weekday::Tue => "周二",
        Weekday::Wed => "周三",
        Weekday::Thu => "周四",
        Weekday::Fri => "周五",
        Weekday::Sat => "周六",
        Weekday::Sun => "周日",
    }
}

/// The zone a meeting is planned in (Asia/Shanghai when the name is unknown).
fn zone(name: &str) -> Tz {
    time::parse_tz(name).unwrap_or(chrono_tz::Asia::Shanghai)
}

/// How the zone is named to readers: 北京时间 for Asia/Shanghai, else its IANA name.
fn zone_label(tz: Tz) -> String {
    if tz == chrono_tz::Asia::Shanghai {
        "北京时间".into()
    } else {
        tz.name().to_string()
    }
}

fn date_label(d: NaiveDate) -> String {
    format!("{}（{}）", d.format("%Y-%m-%d"), weekday_label(d.weekday()))
}

/// `2030-01-07（周一）10:00–11:00（北京时间）`, in the meeting's timezone (both dates when it
/// ends on another day).
pub fn when(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>, timezone: &str) -> String {
    let tz = zone(timezone);
    let (s, e) = (starts_at.with_timezone(&tz), ends_at.with_timezone(&tz));
    let end = if s.date_naive() == e.date_naive() {
        e.format("%H:%M").to_string()
    } else {
        format!("{}{}", date_label(e.date_naive()), e.format("%H:%M"))
    };
    format!("{}{}–{end}（{}）", date_label(s.date_naive()), s.format("%H:%M"), zone_label(tz))
}

/// `01-07（周一）10:00`, or with the zone when it is not Beijing time: for lists.
pub fn when_short(starts_at: DateTime<Utc>, timezone: &str) -> String {
    let tz = zone(timezone);
    let s = starts_at.with_timezone(&tz);
    let base = format!("{}（{}）{}", s.format("%m-%d"), weekday_label(s.weekday()), s.format("%H:%M"));
    if tz == chrono_tz::Asia::Shanghai {
        base
    } else {
        format!("{base}（{}）", tz.name())
    }
}

/// The payload's `partners` names, in order; for a chat bound to a partner only its own (a
/// partner key cannot read the other partners of a joint meeting either).
fn partner_names(partners: &[PartnerRef], viewer: Option<&str>) -> Vec<String> {
    partners.iter().filter(|p| viewer.is_none_or(|v| p.id == v)).filter_map(|p| p.name.as_deref()).map(plain).collect()
}

fn partners_line(partners: &[PartnerRef], viewer: Option<&str>) -> Option<String> {
    let names = partner_names(partners, viewer);
    (!names.is_empty()).then(|| format!("- **伙伴**：{}", names.join("、")))
}

/// Attendees the reader may be shown as mentions: everyone for an unbound channel; for a bound
/// one, the partner's own contacts and our staff (attendees linked to no partner).
fn visible_attendees<'a>(ctx: &RenderContext<'_>, attendees: &'a [Attendee]) -> Vec<&'a Attendee> {
    attendees
        .iter()
        .filter(|a| match (ctx.viewer, a.partner_id.as_deref()) {
            (Some(viewer), Some(pid)) => pid == viewer,
            _ => true,
        })
        .collect()
}

fn person(a: &Attendee) -> Person {
    Person { name: a.name.clone(), wecom_userid: a.wecom_userid.clone(), dingtalk_userid: a.dingtalk_userid.clone() }
}

fn attendee_mentions(ctx: &RenderContext<'_>, attendees: &[Attendee]) -> Vec<Person> {
    visible_attendees(ctx, attendees)
        .into_iter()
        .filter(|a| a.wecom_userid.is_some() || a.dingtalk_userid.is_some())
        .map(person)
        .collect()
}

fn add_unique(into: &mut Vec<Person>, more: Vec<Person>) {
    for p in more {
        if !into.contains(&p) {
            into.push(p);
        }
    }
}

/// The people an action item's owner names: contacts of the item's partner whose name or userid
/// is the owner, and attendees of its meeting whose name or userid is the owner.
fn owner_people(
    ctx: &mut RenderContext<'_>,
    owner: &str,
    partner_id: &str,
    attendees: &[Attendee],
) -> Result<Vec<Person>, ApiError> {
    let mut found = people(ctx, Some(partner_id), &[owner])?;
    let from_attendees: Vec<Person> = visible_attendees(ctx, attendees)
        .into_iter()
        .filter(|a| a.wecom_userid.is_some() || a.dingtalk_userid.is_some())
        .filter(|a| {
            a.name == owner || a.wecom_userid.as_deref() == Some(owner) || a.dingtalk_userid.as_deref() == Some(owner)
        })
        .map(person)
        .collect();
    add_unique(&mut found, from_attendees);
    Ok(found)
}

fn meeting_link(id: &str) -> Option<String> {
    Some(format!("/meetings/{id}"))
}

fn numbered(items: &[String]) -> Vec<String> {
    let mut lines: Vec<String> =
        items.iter().take(MAX_LIST).enumerate().map(|(i, t)| format!("{}. {}", i + 1, plain(t))).collect();
    if items.len() > MAX_LIST {
        lines.push(format!("…… 共 {} 项", items.len()));
    }
    lines
}

/// Time, kind, place, link, partners, organizer and attendees.
fn basics(partners: &[PartnerRef], m: &Meeting, viewer: Option<&str>) -> Vec<String> {
    let mut lines = vec![
        format!("- **时间**：{}", when(m.starts_at, m.ends_at, &m.timezone)),
        format!("- **类型**：{}", kind_label(m.kind)),
    ];
    if let Some(loc) = &m.location {
        lines.push(format!("- **地点**：{}", plain(loc)));
    }
    if let Some(url) = &m.online_url {
        lines.push(format!("- **线上会议**：{}", plain(url)));
    }
    lines.extend(partners_line(partners, viewer));
    lines.push(format!("- **组织人**：{}", plain(&m.organizer)));
    if !m.attendees.is_empty() {
        let names: Vec<String> = m.attendees.iter().take(30).map(|a| plain(&a.name)).collect();
        let more = if m.attendees.len() > 30 { format!(" 等 {} 人", m.attendees.len()) } else { String::new() };
        lines.push(format!("- **参会人**：{}{more}", names.join("、")));
    }
    lines
}

fn agenda_lines(m: &Meeting) -> Vec<String> {
    if m.agenda.is_empty() {
        return Vec::new();
    }
    let mut lines = vec!["**议程**".to_string()];
    lines.extend(numbered(&m.agenda));
    lines
}

pub fn scheduled(event: &MeetingSnapshot, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let m = &event.meeting;
    let mut lines = basics(&event.partners, m, ctx.viewer);
    lines.extend(agenda_lines(m));
    Ok(Message {
        title: format!("会议安排：{}", m.title),
        lines,
        link: meeting_link(&m.id),
        mentions: attendee_mentions(ctx, &m.attendees),
    })
}

/// An attendee as a change records it, for its name.
#[derive(Deserialize)]
struct Named {
    name: String,
}

/// One changed value in words.
fn change_text(field: &str, v: &Value, timezone: &str) -> String {
    let text = match (field, v) {
        (_, Value::Null) => None,
        ("kind", Value::String(s)) => s.parse().ok().map(|k| kind_label(k).to_string()),
        ("status", Value::String(s)) => s.parse().ok().map(|k| status_label(k).to_string()),
        ("starts_at" | "ends_at", Value::String(s)) => DateTime::parse_from_rfc3339(s).ok().map(|t| {
            let t = t.with_timezone(&zone(timezone));
            format!("{}{}", date_label(t.date_naive()), t.format("%H:%M"))
        }),
        ("attendees", Value::Array(list)) => Some(
            list.iter()
                .filter_map(|a| Named::deserialize(a).ok())
                .map(|a| plain(&a.name))
                .collect::<Vec<_>>()
                .join("、"),
        ),
        ("agenda" | "decisions", Value::Array(list)) => Some(format!("{} 项", list.len())),
        ("minutes", Value::String(_)) => Some("已更新".into()),
        (_, other) => super::value_text(other),
    };
    text.filter(|t| !t.is_empty()).unwrap_or_else(|| "（空）".into())
}

fn change_label(field: &str) -> Option<&'static str> {
    Some(match field {
        "title" => "标题",
        "kind" => "类型",
        "organizer" => "组织人",
        "location" => "地点",
        "online_url" => "线上会议",
        "starts_at" => "开始",
        "ends_at" => "结束",
        "timezone" => "时区",
        "attendees" => "参会人",
        "agenda" => "议程",
        "minutes" => "纪要",
        "decisions" => "决议",
        _ => return None,
    })
}

pub fn updated(event: &MeetingUpdated, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let (m, partners) = (&event.snapshot.meeting, &event.snapshot.partners);
    let mut changed = Vec::new();
    let fields = changes(&event.changes);
    for (f, change) in &fields {
        let Some(label) = change_label(f) else { continue };
        if *f == "minutes" {
            changed.push(format!("- **{label}**：已更新"));
        } else {
            changed.push(format!(
                "- **{label}**：{} → **{}**",
                change_text(f, &change.old, &m.timezone),
                change_text(f, &change.new, &m.timezone)
            ));
        }
    }
    if fields.iter().any(|(f, _)| *f == "partner_ids") {
        changed.extend(partners_line(partners, ctx.viewer).map(|l| l.replacen("**伙伴**", "**伙伴（调整后）**", 1)));
    }
    let mut lines = Vec::new();
    if !changed.is_empty() {
        lines.push("**变更**".to_string());
        lines.extend(changed);
        lines.push(String::new());
    }
    lines.extend(basics(partners, m, ctx.viewer));
    Ok(Message {
        title: format!("会议变更：{}", m.title),
        lines,
        link: meeting_link(&m.id),
        mentions: attendee_mentions(ctx, &m.attendees),
    })
}

fn due_label(due: Option<NaiveDate>) -> String {
    due.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "未定".into())
}

pub fn held(event: &MeetingHeld, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let m = &event.snapshot.meeting;
    // A partner's chat sees its own partner's action items only.
    let items: Vec<_> = event.action_items.iter().filter(|i| ctx.viewer.is_none_or(|v| v == i.partner_id)).collect();
    let mut lines = vec![format!("- **时间**：{}", when(m.starts_at, m.ends_at, &m.timezone))];
    lines.extend(partners_line(&event.snapshot.partners, ctx.viewer));
    if !m.attendees.is_empty() {
        let names: Vec<String> = m.attendees.iter().take(30).map(|a| plain(&a.name)).collect();
        lines.push(format!("- **参会人**：{}", names.join("、")));
    }
    if let Some(minutes) = m.minutes.as_deref().filter(|t| !t.trim().is_empty()) {
        lines.push("**纪要**".into());
        lines.push(format!("> {}", plain(&clip_chars(minutes.trim(), MINUTES_EXCERPT))));
    }
    if !m.decisions.is_empty() {
        lines.push(format!("**决议**（{} 项）", m.decisions.len()));
        lines.extend(numbered(&m.decisions));
    }
    let mut mentions = attendee_mentions(ctx, &m.attendees);
    if !items.is_empty() {
        lines.push(format!("**待办**（{} 项）", items.len()));
        for item in items.iter().take(MAX_LIST) {
            lines.push(format!(
                "- {}（负责人：{}，截止：{}）",
                plain(&item.title),
                plain(&item.owner),
                due_label(item.due_date)
            ));
            let owners = owner_people(ctx, &item.owner, &item.partner_id, &m.attendees)?;
            add_unique(&mut mentions, owners);
        }
        if items.len() > MAX_LIST {
            lines.push(format!("…… 共 {} 项", items.len()));
        }
    }
    // Owners first: they have something to do.
    mentions.sort_by_key(|p| {
        !items.iter().any(|i| {
            i.owner == p.name
                || p.wecom_userid.as_deref() == Some(&i.owner)
                || p.dingtalk_userid.as_deref() == Some(&i.owner)
        })
    });
    Ok(Message { title: format!("会议纪要：{}", m.title), lines, link: meeting_link(&m.id), mentions })
}

pub fn cancelled(event: &MeetingCancelled, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let m = &event.snapshot.meeting;
    let mut lines = vec![format!("- **原定时间**：{}", when(m.starts_at, m.ends_at, &m.timezone))];
    lines.extend(partners_line(&event.snapshot.partners, ctx.viewer));
    let reason = m.cancel_reason.as_deref().or(event.cancel_reason.as_deref());
    lines.push(format!("- **取消原因**：{}", reason.map(plain).unwrap_or_else(|| "未说明".into())));
    lines.push(format!("- **状态**：{}", status_label(m.status)));
    Ok(Message {
        title: format!("会议取消：{}", m.title),
        lines,
        link: meeting_link(&m.id),
        mentions: attendee_mentions(ctx, &m.attendees),
    })
}

/// `90` → `1 小时 30 分钟`.
fn minutes_text(minutes: i64) -> String {
    let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} 天"));
    }
    if hours > 0 {
        parts.push(format!("{hours} 小时"));
    }
    if mins > 0 || parts.is_empty() {
        parts.push(format!("{mins} 分钟"));
    }
    parts.join(" ")
}

pub fn reminder(event: &MeetingReminder, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let m = &event.snapshot.meeting;
    let mut lines = vec![format!("**{}后开始**", minutes_text(event.starts_in_minutes.max(0)))];
    lines.extend(basics(&event.snapshot.partners, m, ctx.viewer));
    lines.extend(agenda_lines(m));
    Ok(Message {
        title: format!("会议提醒：{}", m.title),
        lines,
        link: meeting_link(&m.id),
        mentions: attendee_mentions(ctx, &m.attendees),
    })
}

pub fn overdue(event: &ActionItemOverdue, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let item = &event.action_item;
    let mut lines =
        vec![format!("- **负责人**：{}", plain(&item.owner)), format!("- **截止**：{}", due_label(item.due_date))];
    if item.status != ActionItemStatus::Open {
        lines.push("- **状态**：已关闭".into());
    }
    if let Some(mv) = &event.meeting {
        lines.push(format!("- **会议**：{}（{}）", plain(&mv.title), when_short(mv.starts_at, &mv.timezone)));
    }
    lines.extend(partners_line(&event.partners, ctx.viewer));
    // The meeting's attendees, from the meetings room, to find the owner among them.
    let attendees = match crate::meetings::store::meeting(ctx.conn, &item.meeting_id, &Scope::All) {
        Ok(m) => m.attendees,
        Err(e) if e.status == actix_web::http::StatusCode::NOT_FOUND => Vec::new(),
        Err(e) => return Err(e),
    };
    let mentions = owner_people(ctx, &item.owner, &item.partner_id, &attendees)?;
    Ok(Message {
        title: format!("待办逾期：{}", item.title), lines, link: meeting_link(&item.meeting_id), mentions
    })
}

fn series_link(id: &str) -> Option<String> {
    Some(format!("/meeting-series/{id}"))
}

fn series_basics(partners: &[PartnerRef], s: &MeetingSeries, viewer: Option<&str>) -> Vec<String> {
    let t = &s.template;
    let tz = zone(&t.timezone);
    let mut lines = vec![
        format!(
            "- **周期**：{} {}，{} 分钟（{}）",
            frequency_label(s.rule.frequency, s.rule.interval.unwrap_or(1)),
            t.start_time,
            t.duration_minutes,
            zone_label(tz)
        ),
        format!("- **首次**：{}", date_label(t.starts_on)),
    ];
    match (s.rule.until, s.rule.count) {
        (Some(until), _) => lines.push(format!("- **截止**：{}", date_label(until))),
        (None, Some(count)) => lines.push(format!("- **次数**：{count} 次")),
        (None, None) => {}
    }
    lines.push(format!("- **类型**：{}", kind_label(t.kind)));
    if let Some(loc) = &t.location {
        lines.push(format!("- **地点**：{}", plain(loc)));
    }
    lines.extend(partners_line(partners, viewer));
    lines.push(format!("- **组织人**：{}", plain(&t.organizer)));
    lines
}

fn occurrence_lines(label: &str, occurrences: &[Occurrence], timezone: &str) -> Vec<String> {
    if occurrences.is_empty() {
        return Vec::new();
    }
    let shown: Vec<String> = occurrences.iter().take(5).map(|o| when_short(o.starts_at, timezone)).collect();
    let more = if occurrences.len() > 5 { format!(" 等 {} 场", occurrences.len()) } else { String::new() };
    vec![format!("- **{label}**：{}{more}", shown.join("、"))]
}

pub fn series_scheduled(event: &SeriesSnapshot, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let s = &event.series;
    let mut lines = series_basics(&event.partners, s, ctx.viewer);
    lines.extend(occurrence_lines("场次", &event.occurrences, &s.template.timezone));
    Ok(Message {
        title: format!("系列会议安排：{}", s.template.title),
        lines,
        link: series_link(&s.id),
        mentions: attendee_mentions(ctx, &s.template.attendees),
    })
}

pub fn series_updated(event: &SeriesUpdated, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let (s, partners, occ) = (&event.snapshot.series, &event.snapshot.partners, &event.snapshot.occurrences);
    let cancelled = event.cancelled;
    let mut lines = Vec::new();
    if let Some(from) = &event.from {
        let from = from.parse::<NaiveDate>().map(date_label).unwrap_or_else(|_| "所选场次".into());
        lines.push(format!("- **生效**：{from}起"));
    }
    if cancelled {
        let reason = event.cancel_reason.as_deref().map(plain);
        lines.push(format!("- **取消原因**：{}", reason.unwrap_or_else(|| "未说明".into())));
    }
    for (f, change) in changes(&event.changes) {
        let label = match f {
            "start_time" => "开始时间",
            "duration_minutes" => "时长（分钟）",
            other => match change_label(other) {
                Some(l) => l,
                None => continue,
            },
        };
        let tz = &s.template.timezone;
        lines.push(format!(
            "- **{label}**：{} → **{}**",
            change_text(f, &change.old, tz),
            change_text(f, &change.new, tz)
        ));
    }
    lines.extend(occurrence_lines(if cancelled { "取消场次" } else { "调整场次" }, occ, &s.template.timezone));
    lines.extend(series_basics(partners, s, ctx.viewer));
    let title = if cancelled { "系列会议部分取消" } else { "系列会议变更" };
    Ok(Message {
        title: format!("{title}：{}", s.template.title),
        lines,
        link: series_link(&s.id),
        mentions: attendee_mentions(ctx, &s.template.attendees),
    })
}

pub fn series_cancelled(event: &SeriesCancelled, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let s = &event.snapshot.series;
    let mut lines = vec![format!("- **取消原因**：{}", plain(&event.cancel_reason))];
    lines.extend(occurrence_lines("取消场次", &event.snapshot.occurrences, &s.template.timezone));
    lines.extend(partners_line(&event.snapshot.partners, ctx.viewer));
    Ok(Message {
        title: format!("系列会议取消：{}", s.template.title),
        lines,
        link: series_link(&s.id),
        mentions: attendee_mentions(ctx, &s.template.attendees),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn times_in_the_meetings_zone() {
        assert_eq!(
            when(at("2030-01-07T02:00:00Z"), at("2030-01-07T03:30:00Z"), "Asia/Shanghai"),
            "2030-01-07（周一）10:00–11:30（北京时间）"
        );
        assert_eq!(
            when(at("2030-01-07T22:00:00Z"), at("2030-01-08T00:30:00Z"), "Europe/Berlin"),
            "2030-01-07（周一）23:00–2030-01-08（周二）01:30（Europe/Berlin）"
        );
        assert_eq!(when_short(at("2030-01-07T02:00:00Z"), "Asia/Shanghai"), "01-07（周一）10:00");
        assert_eq!(when_short(at("2030-01-07T02:00:00Z"), "Europe/Berlin"), "01-07（周一）03:00（Europe/Berlin）");
    }

    #[test]
    fn labels() {
        assert_eq!(frequency_label(Frequency::Weekly, 1), "每周");
        assert_eq!(frequency_label(Frequency::Monthly, 2), "每 2 个月");
        assert_eq!(frequency_label(Frequency::Biweekly, 2), "每 4 周");
        assert_eq!(minutes_text(1440 + 90), "1 天 1 小时 30 分钟");
        assert_eq!(minutes_text(0), "0 分钟");
    }
}
