//! The domain events as types: one [`DomainEvent`] variant per event type, named by its dotted
//! wire name and carrying the payload struct its room defines (`partners/events.rs`,
//! `meetings/events.rs`, `bulletins/events.rs`, `contracts/events.rs`,
//! `notify/deliveries/events.rs`). Emitters build one and
//! hand it to the outbox, which derives the whole stored row from it — type, subject, partner,
//! payload — so those can no longer disagree; readers get it back with [`DomainEvent::from_stored`].
//!
//! Rules this file keeps:
//! - The stored payload is the adjacently tagged form's `payload`, serialized through
//!   `serde_json::Value`, whose object keys are sorted at every level: byte for byte what the
//!   `json!` builders wrote before the types existed. `tests/api/event_payloads.rs` pins it.
//! - It imports the rooms' payload files and models only, never a store, and those files import
//!   nothing of `events/`: the outbox stays below the rooms with no import cycle.
//! - Reading back never panics: an unknown type or a payload of another shape is an `ApiError`.

use crate::conflicts::events::ConflictEvent;
use crate::deals::events::{DealDecided, DealExpiring, DealSubmitted};
use crate::incentives::events::{MdfRequestDecided, MdfRequestSubmitted, StatementApproved};
use crate::performance::events::PerformanceImported;
use crate::targets::events::TargetEvent;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::bulletins::events::BulletinSnapshot;
use crate::competitors::events::{CompetitorObserved, CompetitorSnapshot, CompetitorUpdated};
use crate::contracts::events::{
    ContractAmended, ContractExpiring, ContractRenewed, ContractSnapshot, ContractStatusChange, ContractUpdated,
    RiskRaised,
};
use crate::error::ApiError;
use crate::meetings::events::{
    ActionItemOverdue, MeetingCancelled, MeetingHeld, MeetingReminder, MeetingSnapshot, MeetingUpdated, PartnerRef,
    SeriesCancelled, SeriesSnapshot, SeriesUpdated,
};
use crate::notify::deliveries::events::DeliveryDead;
use crate::partners::events::{PartnerSnapshot, PartnerStatusChanged, PartnerUpdated};
use crate::partners::model::Partner;
use crate::recruitment::events::{CampaignSnapshot, CampaignUpdated};

/// Declares the enum, its list of type names and `event_type` from one table, so a variant, its
/// wire name and the list cannot drift apart.
macro_rules! domain_events {
    ($($(#[$doc:meta])* $name:literal => $variant:ident($payload:ty),)+) => {
        /// Something that happened that someone may want pushed: written to the outbox in the
        /// transaction of the change (see `crate::events::emit`), delivered by `notify/`.
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "type", content = "payload")]
        // Built once per change and written straight away: the size of the biggest variant costs
        // nothing worth boxing the payloads for.
        #[allow(clippy::large_enum_variant)]
        pub enum DomainEvent {
            $($(#[$doc])* #[serde(rename = $name)] $variant($payload),)+
        }

        impl DomainEvent {
            /// Every event type, in the order declared: what subscriptions' patterns can match.
            pub const TYPES: &'static [&'static str] = &[$($name),+];

            /// The dotted name, e.g. `partner.created`: the stored `event_type`.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(DomainEvent::$variant(_) => $name,)+
                }
            }

            fn concerns(&self) -> &dyn Concerns {
                match self {
                    $(DomainEvent::$variant(payload) => payload,)+
                }
            }
        }
    };
}

domain_events! {
    /// A partner was created (status `prospect`).
    "partner.created" => PartnerCreated(PartnerSnapshot),
    /// Fields other than the status changed.
    "partner.updated" => PartnerUpdated(PartnerUpdated),
    "partner.status_changed" => PartnerStatusChanged(PartnerStatusChanged),
    "partner.archived" => PartnerArchived(PartnerSnapshot),
    "meeting.scheduled" => MeetingScheduled(MeetingSnapshot),
    /// Any change but holding or cancelling it.
    "meeting.updated" => MeetingUpdated(MeetingUpdated),
    "meeting.held" => MeetingHeld(MeetingHeld),
    "meeting.cancelled" => MeetingCancelled(MeetingCancelled),
    /// From the reminder scan, once per meeting, lead time and start time.
    "meeting.reminder" => MeetingReminder(MeetingReminder),
    /// From the reminder scan, once per item and due date.
    "action_item.overdue" => ActionItemOverdue(ActionItemOverdue),
    "meeting_series.scheduled" => MeetingSeriesScheduled(SeriesSnapshot),
    "meeting_series.updated" => MeetingSeriesUpdated(SeriesUpdated),
    "meeting_series.cancelled" => MeetingSeriesCancelled(SeriesCancelled),
    "bulletin.published" => BulletinPublished(BulletinSnapshot),
    "bulletin.archived" => BulletinArchived(BulletinSnapshot),
    "contract.created" => ContractCreated(ContractSnapshot),
    /// Fields other than the status changed.
    "contract.updated" => ContractUpdated(ContractUpdated),
    "contract.activated" => ContractActivated(ContractStatusChange),
    "contract.expired" => ContractExpired(ContractStatusChange),
    "contract.terminated" => ContractTerminated(ContractStatusChange),
    "contract.renewed" => ContractRenewed(ContractRenewed),
    "contract.amended" => ContractAmended(ContractAmended),
    /// A draft was deleted; the payload is the draft as it was.
    "contract.deleted" => ContractDeleted(ContractSnapshot),
    /// From the risk scan, once per contract and end date.
    "contract.expiring" => ContractExpiring(ContractExpiring),
    /// From the risk scan, once per risk (code, contracts, evidence) until it clears.
    "risk.raised" => RiskRaised(RiskRaised),
    /// From the delivery worker: a delivery failed for the whole retry window and was given up.
    "delivery.dead" => DeliveryDead(DeliveryDead),
    "competitor.created" => CompetitorCreated(CompetitorSnapshot),
    "competitor.updated" => CompetitorUpdated(CompetitorUpdated),
    "competitor.archived" => CompetitorArchived(CompetitorSnapshot),
    /// A new observation of the competitor's channels.
    "competitor.observed" => CompetitorObserved(CompetitorObserved),
    /// A bulk import of performance or cost records (one per request, or per CLI chunk).
    "performance.imported" => PerformanceImported(PerformanceImported),
    /// A target became agreed (created as agreed, or a draft agreed).
    "target.agreed" => TargetAgreed(TargetEvent),
    /// From the missed-target scan, once per target: its period ended below target.
    "target.missed" => TargetMissed(TargetEvent),
    /// A draft incentive statement was approved (it no longer changes).
    "incentive.statement_approved" => IncentiveStatementApproved(StatementApproved),
    /// A partner (or a manager on its behalf) asked for marketing support (MDF).
    "mdf.request_submitted" => MdfRequestSubmitted(MdfRequestSubmitted),
    /// A marketing support request was approved or rejected.
    "mdf.request_decided" => MdfRequestDecided(MdfRequestDecided),
    /// A partner (or a manager on its behalf) registered a deal.
    "deal.submitted" => DealSubmitted(DealSubmitted),
    /// A deal registration was approved, rejected, won, lost or expired.
    "deal.decided" => DealDecided(DealDecided),
    /// From the deal protection job, once per registration and protection end: 7 days left.
    "deal.expiring" => DealExpiring(DealExpiring),
    /// A conflict case was opened, by hand or by detection.
    "conflict.opened" => ConflictOpened(ConflictEvent),
    /// A conflict case was resolved with a remedy.
    "conflict.resolved" => ConflictResolved(ConflictEvent),
    "recruitment_campaign.created" => RecruitmentCampaignCreated(CampaignSnapshot),
    "recruitment_campaign.updated" => RecruitmentCampaignUpdated(CampaignUpdated),
    "recruitment_campaign.archived" => RecruitmentCampaignArchived(CampaignSnapshot),
}

/// What an event is about, as the outbox stores it beside the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject<'a> {
    /// `partner`, `meeting`, `action_item`, `meeting_series`, `bulletin`, `contract`, `delivery`,
    /// `competitor`, `target`, `incentive_statement`, `mdf_request`, `deal_registration`, `conflict`
    /// or `recruitment_campaign`.
    pub resource_type: &'static str,
    pub resource_id: &'a str,
    /// The partner the event is mainly about, for per-partner routing and scoping: the first
    /// of a meeting's or series' partners, a bulletin's recipient when it has exactly one, the
    /// first side's partner of a risk.
    pub partner_id: Option<&'a str>,
}

impl DomainEvent {
    pub fn subject(&self) -> Subject<'_> {
        self.concerns().subject()
    }

    /// Every partner the event concerns, each once: the subject's partner first, then those the
    /// payload lists (`partner_ids`, then the ids in `partners`). Routing filters and scopes by
    /// these.
    pub fn partner_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.subject().partner_id.into_iter().collect();
        for id in self.concerns().listed_partners() {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// A bulletin's importance, which subscriptions' `min_importance` filters on; other events
    /// have none.
    pub fn importance(&self) -> Option<crate::bulletins::model::Importance> {
        match self {
            DomainEvent::BulletinPublished(b) | DomainEvent::BulletinArchived(b) => Some(b.importance),
            _ => None,
        }
    }

    /// The payload as the outbox stores it and webhooks send it (`data`).
    pub fn payload(&self) -> Result<Value, ApiError> {
        let failed = |why: &dyn std::fmt::Display| ApiError::internal(format!("{} event: {why}", self.event_type()));
        let mut tagged = serde_json::to_value(self).map_err(|e| failed(&e))?;
        tagged.as_object_mut().and_then(|o| o.remove("payload")).ok_or_else(|| failed(&"no payload"))
    }

    /// An event read back from the outbox: its `event_type` and payload text.
    pub fn from_stored(event_type: &str, payload: &str) -> Result<Self, ApiError> {
        let payload: Value = serde_json::from_str(payload).map_err(|e| unreadable(event_type, e))?;
        Self::from_value(event_type, payload)
    }

    /// [`from_stored`](Self::from_stored) for a payload already parsed (`Event::payload`).
    pub fn from_value(event_type: &str, payload: Value) -> Result<Self, ApiError> {
        if !Self::TYPES.contains(&event_type) {
            return Err(ApiError::internal(format!("unknown event type {event_type:?}")));
        }
        serde_json::from_value(json!({ "type": event_type, "payload": payload })).map_err(|e| unreadable(event_type, e))
    }
}

fn unreadable(event_type: &str, e: serde_json::Error) -> ApiError {
    ApiError::internal(format!("stored {event_type} payload is unreadable: {e}"))
}

/// Whom a payload is about. Implemented here rather than beside the payloads, which know nothing
/// of the outbox.
trait Concerns {
    fn subject(&self) -> Subject<'_>;
    /// The partners the payload lists, in order (`partner_ids`, then the ids in `partners`).
    fn listed_partners(&self) -> Vec<&str>;
}

fn listed<'a>(partner_ids: &'a [String], partners: &'a [PartnerRef]) -> Vec<&'a str> {
    partner_ids.iter().map(String::as_str).chain(partners.iter().map(|p| p.id.as_str())).collect()
}

fn partner_subject(partner: &Partner) -> Subject<'_> {
    Subject { resource_type: "partner", resource_id: &partner.id, partner_id: Some(&partner.id) }
}

macro_rules! about_the_partner {
    ($($payload:ty),+) => {$(
        impl Concerns for $payload {
            fn subject(&self) -> Subject<'_> {
                partner_subject(&self.partner)
            }
            fn listed_partners(&self) -> Vec<&str> {
                Vec::new()
            }
        }
    )+};
}

about_the_partner!(PartnerSnapshot, PartnerUpdated, PartnerStatusChanged);

/// Payloads that flatten a snapshot are about what the snapshot is about.
macro_rules! about_the_snapshot {
    ($($payload:ty),+) => {$(
        impl Concerns for $payload {
            fn subject(&self) -> Subject<'_> {
                self.snapshot.subject()
            }
            fn listed_partners(&self) -> Vec<&str> {
                self.snapshot.listed_partners()
            }
        }
    )+};
}

about_the_snapshot!(
    MeetingUpdated,
    MeetingHeld,
    MeetingCancelled,
    MeetingReminder,
    SeriesUpdated,
    SeriesCancelled,
    ContractUpdated,
    ContractStatusChange,
    ContractRenewed,
    ContractAmended
);

impl Concerns for MeetingSnapshot {
    fn subject(&self) -> Subject<'_> {
        let partner_id = self.meeting.partner_ids.first().map(String::as_str);
        Subject { resource_type: "meeting", resource_id: &self.meeting.id, partner_id }
    }
    fn listed_partners(&self) -> Vec<&str> {
        listed(&self.partner_ids, &self.partners)
    }
}

impl Concerns for ActionItemOverdue {
    fn subject(&self) -> Subject<'_> {
        let item = &self.action_item;
        Subject { resource_type: "action_item", resource_id: &item.id, partner_id: Some(&item.partner_id) }
    }
    fn listed_partners(&self) -> Vec<&str> {
        listed(&self.partner_ids, &self.partners)
    }
}

impl Concerns for SeriesSnapshot {
    fn subject(&self) -> Subject<'_> {
        let partner_id = self.series.template.partner_ids.first().map(String::as_str);
        Subject { resource_type: "meeting_series", resource_id: &self.series.id, partner_id }
    }
    fn listed_partners(&self) -> Vec<&str> {
        listed(&self.partner_ids, &self.partners)
    }
}

impl Concerns for BulletinSnapshot {
    fn subject(&self) -> Subject<'_> {
        // A bulletin to several partners is about none of them in particular.
        let partner_id = match self.partner_ids.as_slice() {
            [one] => Some(one.as_str()),
            _ => None,
        };
        Subject { resource_type: "bulletin", resource_id: &self.bulletin.id, partner_id }
    }
    fn listed_partners(&self) -> Vec<&str> {
        listed(&self.partner_ids, &[])
    }
}

impl Concerns for ContractSnapshot {
    fn subject(&self) -> Subject<'_> {
        let contract = &self.contract;
        Subject { resource_type: "contract", resource_id: &contract.id, partner_id: Some(&contract.partner_id) }
    }
    fn listed_partners(&self) -> Vec<&str> {
        listed(&self.partner_ids, &[])
    }
}

impl Concerns for ContractExpiring {
    fn subject(&self) -> Subject<'_> {
        let risk = &self.risk;
        Subject { resource_type: "contract", resource_id: &risk.contract_id, partner_id: Some(&risk.partner_id) }
    }
    fn listed_partners(&self) -> Vec<&str> {
        self.snapshot.listed_partners()
    }
}

impl Concerns for RiskRaised {
    fn subject(&self) -> Subject<'_> {
        let risk = &self.risk;
        Subject { resource_type: "contract", resource_id: &risk.contract_id, partner_id: Some(&risk.partner_id) }
    }
    fn listed_partners(&self) -> Vec<&str> {
        listed(&self.partner_ids, &[])
    }
}

impl Concerns for DeliveryDead {
    // About our own plumbing, not a partner: only unbound (internal) channels may see it.
    fn subject(&self) -> Subject<'_> {
        Subject { resource_type: "delivery", resource_id: &self.delivery.id, partner_id: None }
    }
    fn listed_partners(&self) -> Vec<&str> {
        Vec::new()
    }
}

/// Competitor intelligence concerns no partner: these events name none.
macro_rules! about_the_competitor {
    ($($payload:ty),+) => {$(
        impl Concerns for $payload {
            fn subject(&self) -> Subject<'_> {
                Subject { resource_type: "competitor", resource_id: &self.competitor.id, partner_id: None }
            }
            fn listed_partners(&self) -> Vec<&str> {
                Vec::new()
            }
        }
    )+};
}

about_the_competitor!(CompetitorSnapshot, CompetitorUpdated, CompetitorObserved);

impl Concerns for PerformanceImported {
    fn subject(&self) -> Subject<'_> {
        Subject { resource_type: "performance_import", resource_id: &self.import_id, partner_id: None }
    }
    fn listed_partners(&self) -> Vec<&str> {
        Vec::new()
    }
}

impl Concerns for TargetEvent {
    fn subject(&self) -> Subject<'_> {
        let target = &self.target.target;
        Subject { resource_type: "target", resource_id: &target.id, partner_id: Some(&target.partner_id) }
    }
    fn listed_partners(&self) -> Vec<&str> {
        Vec::new()
    }
}

impl Concerns for StatementApproved {
    fn subject(&self) -> Subject<'_> {
        let s = &self.statement;
        Subject { resource_type: "incentive_statement", resource_id: &s.id, partner_id: Some(&s.partner_id) }
    }
    fn listed_partners(&self) -> Vec<&str> {
        Vec::new()
    }
}

/// A marketing support request is one partner's.
macro_rules! about_the_mdf_request {
    ($($payload:ty),+) => {$(
        impl Concerns for $payload {
            fn subject(&self) -> Subject<'_> {
                let r = &self.request;
                Subject { resource_type: "mdf_request", resource_id: &r.id, partner_id: Some(&r.partner_id) }
            }
            fn listed_partners(&self) -> Vec<&str> {
                Vec::new()
            }
        }
    )+};
}

about_the_mdf_request!(MdfRequestSubmitted, MdfRequestDecided);

/// A deal registration is one partner's.
macro_rules! about_the_deal {
    ($($payload:ty),+) => {$(
        impl Concerns for $payload {
            fn subject(&self) -> Subject<'_> {
                let r = &self.registration;
                Subject { resource_type: "deal_registration", resource_id: &r.id, partner_id: Some(&r.partner_id) }
            }
            fn listed_partners(&self) -> Vec<&str> {
                Vec::new()
            }
        }
    )+};
}

about_the_deal!(DealSubmitted, DealDecided, DealExpiring);

/// A conflict case concerns each of its parties.
impl Concerns for ConflictEvent {
    fn subject(&self) -> Subject<'_> {
        let c = &self.conflict;
        Subject {
            resource_type: "conflict",
            resource_id: &c.id,
            partner_id: c.party_partner_ids.first().map(String::as_str),
        }
    }
    fn listed_partners(&self) -> Vec<&str> {
        listed(&self.conflict.party_partner_ids, &[])
    }
}

/// A campaign concerns no single partner.
macro_rules! about_the_campaign {
    ($($payload:ty),+) => {$(
        impl Concerns for $payload {
            fn subject(&self) -> Subject<'_> {
                Subject { resource_type: "recruitment_campaign", resource_id: &self.campaign.id, partner_id: None }
            }
            fn listed_partners(&self) -> Vec<&str> {
                Vec::new()
            }
        }
    )+};
}

about_the_campaign!(CampaignSnapshot, CampaignUpdated);

#[cfg(test)]
mod tests {
    use super::*;

    /// The pinned real payloads of `tests/api/event_payloads.rs`, one per type: the stored row
    /// and its payload text (keys sorted, as stored), with `<now>` made a timestamp again.
    fn pinned(event_type: &str) -> (Value, String) {
        let path = format!("{}/tests/fixtures/events/{event_type}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let row: Value = serde_json::from_str(&text.replace("\"<now>\"", "\"2026-12-01T08:00:00.123456Z\"")).unwrap();
        let payload = row["payload"].to_string();
        (row, payload)
    }

    /// What `notify/route.rs` reads from a payload today: `partner_id`, then `/partner_ids`, then
    /// the ids in `/partners` (or a conflict's parties), each once.
    fn routed_partners(row: &Value) -> Vec<String> {
        let mut ids: Vec<String> = row["partner_id"].as_str().map(str::to_string).into_iter().collect();
        // A conflict case concerns each of its parties.
        for pointer in ["/payload/partner_ids", "/payload/partners", "/payload/conflict/party_partner_ids"] {
            for v in row.pointer(pointer).and_then(Value::as_array).into_iter().flatten() {
                let id = v.as_str().or_else(|| v["id"].as_str()).unwrap().to_string();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        ids
    }

    #[test]
    fn every_type_reads_back_from_its_stored_form_and_writes_the_same_bytes() {
        for &event_type in DomainEvent::TYPES {
            let (row, stored) = pinned(event_type);
            let event = DomainEvent::from_stored(event_type, &stored).unwrap_or_else(|e| panic!("{event_type}: {e}"));
            assert_eq!(event.event_type(), event_type);
            assert_eq!(event.payload().unwrap().to_string(), stored, "{event_type} lost or changed something");
            let subject = event.subject();
            assert_eq!(subject.resource_type, row["resource_type"], "{event_type}");
            assert_eq!(subject.resource_id, row["resource_id"], "{event_type}");
            assert_eq!(subject.partner_id, row["partner_id"].as_str(), "{event_type}");
            assert_eq!(event.partner_ids(), routed_partners(&row), "{event_type}");
            let again = DomainEvent::from_value(event_type, event.payload().unwrap()).unwrap();
            assert_eq!(again.payload().unwrap().to_string(), stored);
        }
    }

    #[test]
    fn an_unknown_type_or_a_malformed_payload_is_an_error() {
        let (_, partner) = pinned("partner.created");
        let cases = [
            ("partner.exploded", partner.as_str()),
            ("", partner.as_str()),
            ("partner.created", "not json"),
            ("partner.created", ""),
            ("partner.created", "[]"),
            ("partner.created", "{}"),
            ("partner.created", r#"{"partner": {"id": 7}}"#),
            ("meeting.held", partner.as_str()),
            ("risk.raised", r#"{"partner_ids": ["a"], "risks": "unreadable"}"#),
        ];
        for (event_type, payload) in cases {
            let err =
                DomainEvent::from_stored(event_type, payload).err().unwrap_or_else(|| panic!("{event_type} {payload}"));
            assert_eq!(err.code, crate::error::Code::InternalError, "{event_type} {payload}");
        }
    }

    #[test]
    fn type_names_are_unique_and_dotted() {
        let mut seen = std::collections::BTreeSet::new();
        for t in DomainEvent::TYPES {
            assert!(seen.insert(t), "{t} twice");
            let (room, what) = t.split_once('.').unwrap();
            assert!(!room.is_empty() && !what.is_empty() && !what.contains('.'), "{t}");
            assert!(t.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.'), "{t}");
        }
    }
}
