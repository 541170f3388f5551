//! The payloads of meeting, action item and series events (`meeting.*`, `action_item.overdue`,
//! `meeting_series.*`): what the outbox stores, and what webhooks and chat messages are made
//! from. Each is self-contained — the partners come with their names — so a message can be
//! written from the event alone. Pure types that import only this room's `model`; the enum that
//! names them is `crate::events::DomainEvent`, which this file never imports (the outbox sits
//! below the rooms).
//!
//! Events that share a head flatten it (`#[serde(flatten)]`), so the wire stays one flat object
//! per event. Field order is free: payloads are serialized through `serde_json::Value`, whose keys
//! are sorted (pinned by `tests/api/event_payloads.rs`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::action_items::model::ActionItem;
use super::meetings::model::Meeting;
use super::series::model::{MeetingSeries, Occurrence};

/// A partner an event concerns, with its name as it was when the event was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerRef {
    pub id: String,
    /// Null when the partner is not found.
    pub name: Option<String>,
}

impl PartnerRef {
    /// `ids` in their order, named from `names` (`id → name`).
    pub fn list(ids: &[String], names: &HashMap<String, String>) -> Vec<PartnerRef> {
        ids.iter().map(|id| PartnerRef { id: id.clone(), name: names.get(id).cloned() }).collect()
    }
}

/// `meeting.scheduled`, and the head of every other meeting event: the meeting as the API shows
/// it, and its partners.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeetingSnapshot {
    pub meeting: Meeting,
    /// The meeting's `partner_ids`.
    pub partner_ids: Vec<String>,
    /// The same partners, named.
    pub partners: Vec<PartnerRef>,
}

impl MeetingSnapshot {
    pub fn new(meeting: Meeting, names: &HashMap<String, String>) -> Self {
        let partners = PartnerRef::list(&meeting.partner_ids, names);
        MeetingSnapshot { partner_ids: meeting.partner_ids.clone(), partners, meeting }
    }
}

/// `meeting.updated`: the meeting after the change, and what changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeetingUpdated {
    #[serde(flatten)]
    pub snapshot: MeetingSnapshot,
    /// `{field: {old, new}}` as the audit trail records it (`crate::audit::diff`).
    pub changes: Value,
}

/// `meeting.held`: the meeting with its minutes, its decisions, and all its action items.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeetingHeld {
    #[serde(flatten)]
    pub snapshot: MeetingSnapshot,
    pub decisions: Vec<String>,
    /// Every action item of the meeting, those added by this change included.
    pub action_items: Vec<ActionItem>,
    /// `{field: {old, new}}` as the audit trail records it.
    pub changes: Value,
}

/// `meeting.cancelled`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeetingCancelled {
    #[serde(flatten)]
    pub snapshot: MeetingSnapshot,
    pub cancel_reason: Option<String>,
}

/// `meeting.reminder`: a scheduled meeting is about to start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeetingReminder {
    #[serde(flatten)]
    pub snapshot: MeetingSnapshot,
    /// The lead time this reminder is for, as configured (`24h`, `1h`, `90m`).
    pub lead: String,
    pub lead_minutes: u32,
    /// Whole minutes from the scan to the start.
    pub starts_in_minutes: i64,
}

/// The meeting an action item came from, in brief.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeetingRef {
    pub id: String,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    /// IANA name, for showing `starts_at` in the meeting's own time.
    pub timezone: String,
}

/// `action_item.overdue`: an open item passed its due date.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionItemOverdue {
    pub action_item: ActionItem,
    /// Null when the meeting is not found.
    pub meeting: Option<MeetingRef>,
    /// The item's partner (one).
    pub partner_ids: Vec<String>,
    pub partners: Vec<PartnerRef>,
}

/// `meeting_series.scheduled`, and the head of every other series event: the series as the API
/// shows it, the occurrences the event is about, and the template's partners.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeriesSnapshot {
    pub series: MeetingSeries,
    /// Those the event is about: all of them when scheduled, the changed ones when updated, the
    /// cancelled ones when cancelled.
    pub occurrences: Vec<Occurrence>,
    /// The template's `partner_ids`.
    pub partner_ids: Vec<String>,
    pub partners: Vec<PartnerRef>,
}

impl SeriesSnapshot {
    pub fn new(series: MeetingSeries, occurrences: Vec<Occurrence>, names: &HashMap<String, String>) -> Self {
        let partner_ids = series.template.partner_ids.clone();
        let partners = PartnerRef::list(&partner_ids, names);
        SeriesSnapshot { series, occurrences, partner_ids, partners }
    }
}

/// `meeting_series.updated`: occurrences changed from a point on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeriesUpdated {
    #[serde(flatten)]
    pub snapshot: SeriesSnapshot,
    /// Where the edit started, as the request said it: a local date (`YYYY-MM-DD`) or an
    /// occurrence id; null for "occurrences that have not started yet".
    pub from: Option<String>,
    /// The template's `{field: {old, new}}` (`crate::audit::diff`).
    pub changes: Value,
    /// True when the edit cancelled the occurrences in range.
    pub cancelled: bool,
    pub cancel_reason: Option<String>,
}

/// `meeting_series.cancelled`: the series ended; its future occurrences are cancelled.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeriesCancelled {
    #[serde(flatten)]
    pub snapshot: SeriesSnapshot,
    pub cancel_reason: String,
}
