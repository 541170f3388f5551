//! How a JSON merge patch changes a meeting, kept pure: each field checked on its own, the status
//! move it asks for (or the 409 that refuses it), and the meeting as it would be with the rules
//! across fields. The store adds what needs the database (partners, contacts, key accounts,
//! action items that would be left behind) and writes the result.

use chrono::{DateTime, Utc};

use super::model::{check_times, Meeting, MeetingStatus, MeetingUpdate, MAX_MINUTES};
use crate::error::{ApiError, Code};
use crate::meetings::action_items::model::{item_partner, ActionItemCreate};
use crate::meetings::model::{
    check_attendees, check_lines, check_partner_ids, check_timezone, check_url, normalize_id, to_second, MAX_LINE,
    MAX_LINES, MAX_REASON,
};
use crate::meetings::time;
use crate::validation::{Check, MAX_SHORT_TEXT};

/// What a patch does to a meeting's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// The status stays.
    Edit,
    /// scheduled → held: the minutes are recorded, action items may come along.
    Hold,
    /// scheduled → cancelled, with a reason.
    Cancel,
}

pub fn cancelled_conflict() -> ApiError {
    ApiError::conflict(Code::MeetingCancelled, "the meeting is cancelled and can no longer change")
}

impl MeetingUpdate {
    /// Checks each given field on its own; rules across fields and against the current meeting
    /// are checked on the result (see the store).
    pub fn check_fields(&self, c: &mut Check) -> Option<Vec<String>> {
        if let Some(v) = &self.title {
            c.text("title", v, 1, MAX_SHORT_TEXT);
        }
        let partner_ids = self.partner_ids.as_ref().map(|ids| check_partner_ids(c, "partner_ids", ids));
        if let Some(Some(id)) = &self.key_account_id {
            normalize_id(c, "key_account_id", id);
        }
        if let Some(v) = &self.organizer {
            c.text("organizer", v, 1, MAX_SHORT_TEXT);
        }
        if let Some(v) = &self.organizer_email {
            c.email("organizer_email", v.as_deref());
        }
        if let Some(v) = &self.attendees {
            check_attendees(c, "attendees", v);
        }
        if let Some(v) = &self.agenda {
            check_lines(c, "agenda", v);
        }
        if let Some(v) = &self.location {
            c.opt_text("location", v.as_deref(), MAX_LINE);
        }
        if let Some(v) = &self.online_url {
            check_url(c, "online_url", v.as_deref());
        }
        if let Some(tz) = &self.timezone {
            check_timezone(c, "timezone", Some(tz));
        }
        if let Some(Some(m)) = &self.minutes {
            c.text("minutes", m, 1, MAX_MINUTES);
        }
        if let Some(v) = &self.decisions {
            check_lines(c, "decisions", v);
        }
        c.opt_text("cancel_reason", self.cancel_reason.as_deref(), MAX_REASON);
        if let Some(items) = &self.action_items {
            if items.len() > MAX_LINES {
                c.add("action_items", format!("must have at most {MAX_LINES} items"));
            }
            for (i, item) in items.iter().enumerate() {
                item.check(c, &format!("action_items[{i}]."));
            }
        }
        partner_ids
    }

    /// True when the patch asks for no change at all.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.kind.is_none()
            && self.partner_ids.is_none()
            && self.key_account_id.is_none()
            && self.organizer.is_none()
            && self.organizer_email.is_none()
            && self.attendees.is_none()
            && self.agenda.is_none()
            && self.location.is_none()
            && self.online_url.is_none()
            && self.starts_at.is_none()
            && self.ends_at.is_none()
            && self.timezone.is_none()
            && self.status.is_none()
            && self.minutes.is_none()
            && self.decisions.is_none()
            && self.cancel_reason.is_none()
            && self.action_items.is_none()
    }

    /// Fields that a held meeting no longer accepts (its time and partners are history).
    pub fn touches_schedule(&self) -> bool {
        self.starts_at.is_some() || self.ends_at.is_some() || self.timezone.is_some() || self.partner_ids.is_some()
    }

    /// Fields that name other records (partners, contacts, a key account): the store checks them.
    pub fn touches_refs(&self) -> bool {
        self.partner_ids.is_some() || self.attendees.is_some() || self.key_account_id.is_some()
    }

    /// The status move this patch makes to `current`, or the 409 that refuses it.
    pub fn status_move(&self, current: &Meeting) -> Result<Move, ApiError> {
        if current.status == MeetingStatus::Cancelled {
            return Err(cancelled_conflict());
        }
        let target = self.status.unwrap_or(current.status);
        if !current.status.can_move_to(target) {
            return Err(ApiError::conflict(
                Code::InvalidStatusTransition,
                format!("a meeting cannot move from {} to {target}", current.status),
            ));
        }
        if current.status == MeetingStatus::Held && self.touches_schedule() {
            return Err(ApiError::conflict(
                Code::MeetingHeld,
                "a held meeting keeps its time, timezone and partners; only its record can change",
            ));
        }
        Ok(match (current.status, target) {
            (MeetingStatus::Scheduled, MeetingStatus::Held) => Move::Hold,
            (MeetingStatus::Scheduled, MeetingStatus::Cancelled) => Move::Cancel,
            _ => Move::Edit,
        })
    }

    /// `current` with the patch applied at `now` (`partner_ids` as `check_fields` normalized them).
    /// Rules across fields, on the meeting as it would be, are added to `c`; the records the patch
    /// names are the store's to check.
    pub fn apply(
        &self,
        current: &Meeting,
        partner_ids: Option<Vec<String>>,
        mv: Move,
        now: DateTime<Utc>,
        c: &mut Check,
    ) -> Meeting {
        let mut next = current.clone();
        self.apply_fields(&mut next, partner_ids);
        next.status = self.status.unwrap_or(current.status);
        if self.starts_at.is_some() || self.ends_at.is_some() {
            check_times(c, "ends_at", next.starts_at, next.ends_at);
        }
        self.check_record(c, &next);
        match (mv, &self.cancel_reason) {
            (Move::Cancel, None) => c.add("cancel_reason", "is required to cancel a meeting"),
            (Move::Cancel, Some(r)) => {
                next.cancel_reason = Some(r.clone());
                next.cancelled_at = Some(now);
            }
            (_, Some(_)) => c.add("cancel_reason", "is only accepted with \"status\": \"cancelled\""),
            (_, None) => {}
        }
        if self.action_items.is_some() && mv != Move::Hold {
            c.add(
                "action_items",
                "can only come with \"status\": \"held\"; add others through /meetings/{id}/action-items",
            );
        }
        if mv == Move::Hold {
            next.held_at = Some(now);
        }
        next
    }

    fn apply_fields(&self, next: &mut Meeting, partner_ids: Option<Vec<String>>) {
        if let Some(v) = &self.title {
            next.title = v.clone();
        }
        if let Some(v) = self.kind {
            next.kind = v;
        }
        if let Some(v) = partner_ids {
            next.partner_ids = v;
        }
        if let Some(v) = &self.key_account_id {
            next.key_account_id = v.as_deref().and_then(|s| uuid::Uuid::parse_str(s).ok()).map(|u| u.to_string());
        }
        if let Some(v) = &self.organizer {
            next.organizer = v.clone();
        }
        if let Some(v) = &self.organizer_email {
            next.organizer_email = v.clone();
        }
        if let Some(v) = &self.agenda {
            next.agenda = v.clone();
        }
        if let Some(v) = &self.location {
            next.location = v.clone();
        }
        if let Some(v) = &self.online_url {
            next.online_url = v.clone();
        }
        if let Some(v) = self.starts_at {
            next.starts_at = to_second(v);
        }
        if let Some(v) = self.ends_at {
            next.ends_at = to_second(v);
        }
        if let Some(tz) = self.timezone.as_deref().and_then(time::parse_tz) {
            next.timezone = tz.name().to_string();
        }
        if let Some(v) = &self.minutes {
            next.minutes = v.clone();
        }
        if let Some(v) = &self.decisions {
            next.decisions = v.clone();
        }
    }

    /// Minutes and decisions belong to a held meeting.
    fn check_record(&self, c: &mut Check, next: &Meeting) {
        if next.status == MeetingStatus::Held {
            if next.minutes.is_none() {
                c.add("minutes", "is required to mark a meeting held");
            }
            return;
        }
        if self.minutes.as_ref().is_some_and(Option::is_some) {
            c.add("minutes", "only a held meeting has minutes: send it with \"status\": \"held\"");
        }
        if self.decisions.as_ref().is_some_and(|d| !d.is_empty()) {
            c.add("decisions", "only a held meeting has decisions: send them with \"status\": \"held\"");
        }
    }

    /// The action items to create with a move to held, each with its partner among `next`'s.
    pub fn held_items<'a>(&'a self, next: &Meeting, mv: Move, c: &mut Check) -> Vec<(&'a ActionItemCreate, String)> {
        let mut out = Vec::new();
        if let Some(items) = self.action_items.as_ref().filter(|_| mv == Move::Hold) {
            for (i, item) in items.iter().enumerate() {
                match item_partner(&next.partner_ids, item.partner_id.as_deref()) {
                    Ok(pid) => out.push((item, pid)),
                    Err(msg) => c.add(format!("action_items[{i}].partner_id"), msg),
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meeting() -> Meeting {
        serde_json::from_value(serde_json::json!({
            "id": "m1", "series_id": null, "title": "回顾", "kind": "regular_review",
            "partner_ids": ["p1", "p2"], "key_account_id": null, "organizer": "王芳", "organizer_email": null,
            "attendees": [], "agenda": [], "location": null, "online_url": null,
            "starts_at": "2027-01-04T02:00:00Z", "ends_at": "2027-01-04T03:00:00Z", "timezone": "Asia/Shanghai",
            "status": "scheduled", "minutes": null, "decisions": [], "cancel_reason": null, "held_at": null,
            "cancelled_at": null, "version": 1,
            "created_at": "2027-01-01T00:00:00Z", "updated_at": "2027-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn patch(v: serde_json::Value) -> MeetingUpdate {
        serde_json::from_value(v).unwrap()
    }

    fn fields(c: Check) -> Vec<String> {
        c.finish().err().map(|e| e.errors.into_iter().map(|f| f.field).collect()).unwrap_or_default()
    }

    #[test]
    fn moves_and_their_refusals() {
        let m = meeting();
        assert_eq!(patch(serde_json::json!({"title": "x"})).status_move(&m).unwrap(), Move::Edit);
        assert_eq!(patch(serde_json::json!({"status": "held"})).status_move(&m).unwrap(), Move::Hold);
        assert_eq!(patch(serde_json::json!({"status": "cancelled"})).status_move(&m).unwrap(), Move::Cancel);
        let held = Meeting { status: MeetingStatus::Held, ..meeting() };
        let e = patch(serde_json::json!({"status": "scheduled"})).status_move(&held).unwrap_err();
        assert_eq!(e.code, Code::InvalidStatusTransition);
        let e = patch(serde_json::json!({"timezone": "UTC"})).status_move(&held).unwrap_err();
        assert_eq!(e.code, Code::MeetingHeld);
        let cancelled = Meeting { status: MeetingStatus::Cancelled, ..meeting() };
        assert_eq!(patch(serde_json::json!({})).status_move(&cancelled).unwrap_err().code, Code::MeetingCancelled);
    }

    #[test]
    fn holding_needs_minutes_and_cancelling_a_reason() {
        let (m, now) = (meeting(), "2027-01-04T04:00:00Z".parse().unwrap());
        let mut c = Check::new();
        let p = patch(serde_json::json!({"status": "held", "action_items": [{"title": "报价", "owner": "张伟"}]}));
        let next = p.apply(&m, None, Move::Hold, now, &mut c);
        assert_eq!(next.held_at, Some(now));
        assert!(p.held_items(&next, Move::Hold, &mut c).is_empty());
        assert_eq!(fields(c), vec!["minutes", "action_items[0].partner_id"]);
        let mut c = Check::new();
        let p = patch(serde_json::json!({"status": "cancelled", "cancel_reason": "改期"}));
        let next = p.apply(&m, None, Move::Cancel, now, &mut c);
        assert_eq!(
            (next.status, next.cancel_reason.as_deref(), next.cancelled_at),
            (MeetingStatus::Cancelled, Some("改期"), Some(now))
        );
        assert!(c.is_ok());
        let mut c = Check::new();
        patch(serde_json::json!({"minutes": "纪要", "cancel_reason": "x", "ends_at": "2027-01-04T01:00:00Z"})).apply(
            &m,
            None,
            Move::Edit,
            now,
            &mut c,
        );
        assert_eq!(fields(c), vec!["ends_at", "minutes", "cancel_reason"]);
    }
}
