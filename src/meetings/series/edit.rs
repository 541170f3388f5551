//! How a series edit reaches its occurrences and its template, kept pure: which occurrences are
//! in range, and what each becomes. Every scheduled occurrence from the start of the edit on is
//! changed; held and cancelled ones keep their record. A new start time, timezone or duration
//! moves each occurrence on its own local date.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;

use super::model::{time_text, EditStart, OccurrencesUpdate, SeriesTemplate};
use crate::error::{ApiError, Code};
use crate::meetings::meetings::model::{Meeting, MeetingStatus};
use crate::meetings::model::Attendee;
use crate::meetings::time;

/// An edit's changes with what the store looked up: the records they name, resolved.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub partner_ids: Option<Vec<String>>,
    pub start_time: Option<NaiveTime>,
    pub tz: Option<Tz>,
    /// The key account to set, when `key_account_id` is in the changes (`None`: clear it).
    pub key_account: Option<String>,
    pub attendees: Option<Vec<Attendee>>,
}

/// The positions in `meetings` (a series' occurrences in start order) that an edit starting at
/// `from` reaches: the scheduled ones from the first in range on. 409 when there are none.
pub fn targets(meetings: &[Meeting], from: &EditStart, now: DateTime<Utc>) -> Result<Vec<usize>, ApiError> {
    let first = match from {
        EditStart::Now => meetings.iter().position(|x| x.starts_at > now),
        EditStart::Date(d) => {
            let mut found = None;
            for (i, x) in meetings.iter().enumerate() {
                if time::utc_to_local(x.tz()?, x.starts_at).date() >= *d {
                    found = Some(i);
                    break;
                }
            }
            found
        }
        EditStart::Occurrence(oid) => match meetings.iter().position(|x| &x.id == oid) {
            Some(i) => Some(i),
            None => return Err(ApiError::field("from", "is not an occurrence of this series")),
        },
    };
    let targets: Vec<usize> = match first {
        Some(start) => (start..meetings.len()).filter(|&i| meetings[i].status == MeetingStatus::Scheduled).collect(),
        None => Vec::new(),
    };
    if targets.is_empty() {
        return Err(ApiError::conflict(
            Code::NoScheduledOccurrences,
            "no scheduled occurrence of the series is in range of the edit",
        ));
    }
    Ok(targets)
}

/// How the edit's start is told in `meeting_series.updated`: a date, an occurrence id, or null.
pub fn from_text(from: EditStart) -> Option<String> {
    match from {
        EditStart::Now => None,
        EditStart::Date(d) => Some(d.to_string()),
        EditStart::Occurrence(o) => Some(o),
    }
}

impl OccurrencesUpdate {
    /// One occurrence with the changes applied at `now`.
    pub fn apply_to_meeting(&self, meeting: &Meeting, r: &Resolved, now: DateTime<Utc>) -> Result<Meeting, ApiError> {
        let mut next = meeting.clone();
        if let Some(v) = &self.title {
            next.title = v.clone();
        }
        if let Some(v) = self.kind {
            next.kind = v;
        }
        if let Some(v) = &r.partner_ids {
            next.partner_ids = v.clone();
        }
        if self.key_account_id.is_some() {
            next.key_account_id = r.key_account.clone();
        }
        if let Some(v) = &self.organizer {
            next.organizer = v.clone();
        }
        if let Some(v) = &self.organizer_email {
            next.organizer_email = v.clone();
        }
        if let Some(v) = &r.attendees {
            next.attendees = v.clone();
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
        if r.tz.is_some() || r.start_time.is_some() || self.duration_minutes.is_some() {
            let old_tz = meeting.tz()?;
            let tz = r.tz.unwrap_or(old_tz);
            let duration = self.duration_minutes.map(Duration::minutes).unwrap_or(meeting.ends_at - meeting.starts_at);
            next.starts_at = time::move_local(old_tz, tz, meeting.starts_at, r.start_time);
            next.ends_at = next.starts_at + duration;
            next.timezone = tz.name().to_string();
        }
        if self.status.is_some() {
            next.status = MeetingStatus::Cancelled;
            next.cancel_reason = self.cancel_reason.clone();
            next.cancelled_at = Some(now);
        }
        Ok(next)
    }

    /// The series' template with the changes applied: what later exports and events describe.
    pub fn apply_to_template(&self, t: &mut SeriesTemplate, r: Resolved) {
        if let Some(v) = &self.title {
            t.title = v.clone();
        }
        if let Some(v) = self.kind {
            t.kind = v;
        }
        if let Some(v) = r.partner_ids {
            t.partner_ids = v;
        }
        if self.key_account_id.is_some() {
            t.key_account_id = r.key_account;
        }
        if let Some(v) = &self.organizer {
            t.organizer = v.clone();
        }
        if let Some(v) = &self.organizer_email {
            t.organizer_email = v.clone();
        }
        if let Some(v) = r.attendees {
            t.attendees = v;
        }
        if let Some(v) = &self.agenda {
            t.agenda = v.clone();
        }
        if let Some(v) = &self.location {
            t.location = v.clone();
        }
        if let Some(v) = &self.online_url {
            t.online_url = v.clone();
        }
        if let Some(tz) = r.tz {
            t.timezone = tz.name().to_string();
        }
        if let Some(st) = r.start_time {
            t.start_time = time_text(st);
        }
        if let Some(d) = self.duration_minutes {
            t.duration_minutes = d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn occurrence(id: &str, starts_at: &str, status: &str) -> Meeting {
        serde_json::from_value(serde_json::json!({
            "id": id, "series_id": "s1", "title": "周会", "kind": "regular_review",
            "partner_ids": ["p1"], "key_account_id": null, "organizer": "王芳", "organizer_email": null,
            "attendees": [], "agenda": [], "location": null, "online_url": null,
            "starts_at": starts_at, "ends_at": starts_at, "timezone": "Asia/Shanghai",
            "status": status, "minutes": null, "decisions": [], "cancel_reason": null, "held_at": null,
            "cancelled_at": null, "version": 1,
            "created_at": "2027-01-01T00:00:00Z", "updated_at": "2027-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn edits_reach_the_scheduled_occurrences_from_their_start() {
        let meetings = vec![
            occurrence("a", "2027-01-04T02:00:00Z", "held"),
            occurrence("b", "2027-01-11T02:00:00Z", "cancelled"),
            occurrence("c", "2027-01-18T02:00:00Z", "scheduled"),
            occurrence("d", "2027-01-25T02:00:00Z", "scheduled"),
        ];
        let now = "2027-01-05T00:00:00Z".parse().unwrap();
        assert_eq!(targets(&meetings, &EditStart::Now, now).unwrap(), vec![2, 3]);
        let date = EditStart::Date(chrono::NaiveDate::from_ymd_opt(2027, 1, 25).unwrap());
        assert_eq!(targets(&meetings, &date, now).unwrap(), vec![3]);
        assert_eq!(targets(&meetings, &EditStart::Occurrence("b".into()), now).unwrap(), vec![2, 3]);
        let e = targets(&meetings, &EditStart::Occurrence("zz".into()), now).unwrap_err();
        assert_eq!(e.errors[0].field, "from");
        let late = "2027-02-01T00:00:00Z".parse().unwrap();
        assert_eq!(targets(&meetings, &EditStart::Now, late).unwrap_err().code, Code::NoScheduledOccurrences);
    }

    #[test]
    fn a_new_start_time_keeps_each_local_date() {
        let m = occurrence("c", "2027-01-18T02:00:00Z", "scheduled");
        let changes: OccurrencesUpdate = serde_json::from_value(serde_json::json!({"duration_minutes": 30})).unwrap();
        let r = Resolved { start_time: NaiveTime::from_hms_opt(14, 30, 0), ..Default::default() };
        let next = changes.apply_to_meeting(&m, &r, "2027-01-05T00:00:00Z".parse().unwrap()).unwrap();
        assert_eq!(next.starts_at, "2027-01-18T06:30:00Z".parse::<DateTime<Utc>>().unwrap());
        assert_eq!(next.ends_at - next.starts_at, Duration::minutes(30));
        assert_eq!(from_text(EditStart::Now), None);
    }
}
