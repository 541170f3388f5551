//! Recurring meeting series: wire types and the rules that need no database. A series is a
//! template and a rule; its occurrences are real meetings (`series_id` set), made up front, which
//! an edit changes from a point on and a cancellation ends for the future only.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use super::recurrence::Frequency;
use super::recurrence::{End, MAX_OCCURRENCES};
use crate::error::{ApiError, Code};
use crate::meetings::meetings::model::{MeetingCreate, MeetingKind, MeetingStatus};
use crate::meetings::model::{
    check_attendees, check_lines, check_partner_ids, check_timezone, check_url, normalize_id, opt_whole, Attendee,
    AttendeeRequest, TextLine, MAX_LINE, MAX_REASON,
};
use crate::partners::model::nullable;
use crate::validation::{Check, MAX_SHORT_TEXT};

crate::record!(MeetingSeries);

crate::json_column!(SeriesTemplate, RecurrenceRule);

pub fn series_not_found() -> ApiError {
    ApiError::not_found(Code::MeetingSeriesNotFound)
}

crate::text_enum! {
    /// active, or cancelled (its future occurrences were cancelled).
    SeriesStatus { Active => "active", Cancelled => "cancelled" }
}

crate::text_enum! {
    /// The one status change a series edit can make to its occurrences.
    OccurrenceStatusChange { Cancelled => "cancelled" }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesFilter {
    pub status: Option<SeriesStatus>,
}

/// How a series repeats: `frequency` × `interval`, ending after `count` occurrences or on the
/// last one on or before `until` (a local date in the series' timezone). Exactly one of `until`
/// and `count`; at most 200 occurrences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecurrenceRule {
    pub frequency: Frequency,
    /// Every `interval`-th step (default 1): monthly with interval 2 is every other month.
    #[serde(default, deserialize_with = "opt_whole")]
    #[schema(minimum = 1, maximum = 52)]
    pub interval: Option<u32>,
    pub until: Option<NaiveDate>,
    #[serde(default, deserialize_with = "opt_whole")]
    #[schema(minimum = 1, maximum = 200)]
    pub count: Option<u32>,
}

impl RecurrenceRule {
    pub fn check(&self, c: &mut Check) -> Option<End> {
        let interval = self.interval.unwrap_or(1);
        if !(1..=52).contains(&interval) {
            c.add("rule.interval", "must be between 1 and 52");
        }
        match (self.until, self.count) {
            (Some(_), Some(_)) => {
                c.add("rule", "give either until or count, not both");
                None
            }
            (None, None) => {
                c.add("rule", "give until (a date) or count (1–200)");
                None
            }
            (Some(until), None) => Some(End::Until(until)),
            (None, Some(count)) => {
                if !(1..=MAX_OCCURRENCES as u32).contains(&count) {
                    c.add("rule.count", format!("must be between 1 and {}", MAX_OCCURRENCES));
                }
                Some(End::Count(count))
            }
        }
    }
}

/// A series' shared meeting fields, as its occurrences were last made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SeriesTemplate {
    pub title: String,
    pub kind: MeetingKind,
    pub partner_ids: Vec<String>,
    pub key_account_id: Option<String>,
    pub organizer: String,
    pub organizer_email: Option<String>,
    pub attendees: Vec<Attendee>,
    #[schema(value_type = Vec<TextLine>)]
    pub agenda: Vec<String>,
    pub location: Option<String>,
    pub online_url: Option<String>,
    pub timezone: String,
    /// The local date of the first occurrence.
    pub starts_on: NaiveDate,
    /// Local time of day, `HH:MM` (or `HH:MM:SS`), kept across daylight-saving changes.
    pub start_time: String,
    pub duration_minutes: i64,
}

/// One meeting of a series, in brief.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Occurrence {
    pub id: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: MeetingStatus,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MeetingSeries {
    pub id: String,
    pub template: SeriesTemplate,
    pub rule: RecurrenceRule,
    pub status: SeriesStatus,
    pub cancel_reason: Option<String>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Every occurrence (real meetings, `series_id` set), in start order.
    pub occurrences: Vec<Occurrence>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingSeriesCreate {
    /// The first occurrence: its start fixes the series' local time of day and first date.
    pub template: MeetingCreate,
    pub rule: RecurrenceRule,
}

/// Changes applied to every scheduled occurrence in range (held and cancelled ones keep theirs).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OccurrencesUpdate {
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    pub kind: Option<MeetingKind>,
    #[schema(value_type = Option<Vec<uuid::Uuid>>, min_items = 1, max_items = 20)]
    pub partner_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub key_account_id: Option<Option<String>>,
    #[schema(min_length = 1, max_length = 200)]
    pub organizer: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(format = Email, min_length = 3, max_length = 254)]
    pub organizer_email: Option<Option<String>>,
    #[schema(max_items = 100)]
    pub attendees: Option<Vec<AttendeeRequest>>,
    #[schema(value_type = Option<Vec<TextLine>>, max_items = 50)]
    pub agenda: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 500)]
    pub location: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(pattern = r"^https?://[!-~]+$", max_length = 2000)]
    pub online_url: Option<Option<String>>,
    /// Each occurrence keeps its local date and gets this wall-clock time in this zone.
    #[schema(min_length = 1, max_length = 64)]
    pub timezone: Option<String>,
    /// New local start time, `HH:MM`.
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub start_time: Option<String>,
    #[serde(default, deserialize_with = "opt_whole")]
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_minutes: Option<i64>,
    /// `cancelled` cancels the occurrences in range (with `cancel_reason`).
    pub status: Option<OccurrenceStatusChange>,
    #[schema(min_length = 1, max_length = 1000)]
    pub cancel_reason: Option<String>,
}

/// Either edit occurrences (`changes`, from `from` on) or cancel the series (`status`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingSeriesUpdate {
    /// Where `changes` start: a local date (`YYYY-MM-DD`, occurrences on or after it) or an
    /// occurrence id (that one and all later). Default: occurrences that have not started yet.
    #[schema(
        pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
    )]
    pub from: Option<String>,
    pub changes: Option<OccurrencesUpdate>,
    /// `cancelled` cancels every occurrence that has not started yet and is still scheduled.
    pub status: Option<SeriesStatus>,
    /// Required with `"status": "cancelled"`.
    #[schema(min_length = 1, max_length = 1000)]
    pub cancel_reason: Option<String>,
}

/// Where a series edit starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditStart {
    Now,
    Date(NaiveDate),
    Occurrence(String),
}

/// A checked series edit.
pub enum SeriesEdit {
    Changes { from: EditStart, start_time: Option<NaiveTime>, partner_ids: Option<Vec<String>> },
    Cancel { reason: String },
}

impl MeetingSeriesUpdate {
    pub fn validate(&self) -> Result<SeriesEdit, ApiError> {
        let mut c = Check::new();
        let from = match self.from.as_deref() {
            None => EditStart::Now,
            Some(raw) => {
                if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
                    EditStart::Date(d)
                } else if let Ok(u) = uuid::Uuid::parse_str(raw) {
                    EditStart::Occurrence(u.hyphenated().to_string())
                } else {
                    c.add("from", "must be a date (YYYY-MM-DD) or an occurrence id");
                    EditStart::Now
                }
            }
        };
        c.opt_text("cancel_reason", self.cancel_reason.as_deref(), MAX_REASON);
        let edit = match (&self.changes, self.status) {
            (Some(_), Some(_)) => {
                c.add("status", "send either changes or status, not both");
                None
            }
            (None, None) => {
                c.add("changes", "send changes (to edit occurrences) or status (to cancel the series)");
                None
            }
            (None, Some(status)) => {
                if status != SeriesStatus::Cancelled {
                    c.add("status", "a series can only be cancelled");
                }
                if self.from.is_some() {
                    c.add("from", "cancelling a series cancels all its future occurrences; to end it at a date, send changes with status cancelled");
                }
                match &self.cancel_reason {
                    None => {
                        c.add("cancel_reason", "is required to cancel a series");
                        None
                    }
                    Some(r) => Some(SeriesEdit::Cancel { reason: r.clone() }),
                }
            }
            (Some(ch), None) => {
                if self.cancel_reason.is_some() {
                    c.add("cancel_reason", "belongs in changes when cancelling occurrences");
                }
                let (start_time, partner_ids) = ch.check(&mut c);
                Some(SeriesEdit::Changes { from, start_time, partner_ids })
            }
        };
        c.finish()?;
        edit.ok_or_else(|| ApiError::field("changes", "is required"))
    }
}

impl OccurrencesUpdate {
    fn check(&self, c: &mut Check) -> (Option<NaiveTime>, Option<Vec<String>>) {
        let f = |n: &str| format!("changes.{n}");
        if let Some(v) = &self.title {
            c.text(&f("title"), v, 1, MAX_SHORT_TEXT);
        }
        let partner_ids = self.partner_ids.as_ref().map(|ids| check_partner_ids(c, &f("partner_ids"), ids));
        if let Some(Some(id)) = &self.key_account_id {
            normalize_id(c, &f("key_account_id"), id);
        }
        if let Some(v) = &self.organizer {
            c.text(&f("organizer"), v, 1, MAX_SHORT_TEXT);
        }
        if let Some(v) = &self.organizer_email {
            c.email(&f("organizer_email"), v.as_deref());
        }
        if let Some(v) = &self.attendees {
            check_attendees(c, &f("attendees"), v);
        }
        if let Some(v) = &self.agenda {
            check_lines(c, &f("agenda"), v);
        }
        if let Some(v) = &self.location {
            c.opt_text(&f("location"), v.as_deref(), MAX_LINE);
        }
        if let Some(v) = &self.online_url {
            check_url(c, &f("online_url"), v.as_deref());
        }
        if let Some(tz) = &self.timezone {
            check_timezone(c, &f("timezone"), Some(tz));
        }
        let start_time = self.start_time.as_deref().and_then(|t| {
            let parsed = NaiveTime::parse_from_str(t, "%H:%M").ok().filter(|_| t.len() == 5);
            if parsed.is_none() {
                c.add(f("start_time"), "must be a local time HH:MM");
            }
            parsed
        });
        if let Some(d) = self.duration_minutes {
            if !(1..=1440).contains(&d) {
                c.add(f("duration_minutes"), "must be between 1 and 1440");
            }
        }
        match (self.status, &self.cancel_reason) {
            (Some(_), None) => c.add(f("cancel_reason"), "is required to cancel occurrences"),
            (None, Some(_)) => c.add(f("cancel_reason"), "is only allowed with status cancelled"),
            (Some(_), Some(r)) => c.text(&f("cancel_reason"), r, 1, MAX_REASON),
            (None, None) => {}
        }
        let any = self.title.is_some()
            || self.kind.is_some()
            || self.partner_ids.is_some()
            || self.key_account_id.is_some()
            || self.organizer.is_some()
            || self.organizer_email.is_some()
            || self.attendees.is_some()
            || self.agenda.is_some()
            || self.location.is_some()
            || self.online_url.is_some()
            || self.timezone.is_some()
            || self.start_time.is_some()
            || self.duration_minutes.is_some()
            || self.status.is_some();
        if !any {
            c.add("changes", "must change at least one field");
        }
        (start_time, partner_ids)
    }
}

/// `HH:MM`, or `HH:MM:SS` when the seconds are not zero.
pub fn time_text(t: NaiveTime) -> String {
    use chrono::Timelike;
    if t.second() == 0 {
        t.format("%H:%M").to_string()
    } else {
        t.format("%H:%M:%S").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_need_exactly_one_end() {
        let rule = |v| serde_json::from_value::<RecurrenceRule>(v).unwrap();
        let field = |r: RecurrenceRule| {
            let mut c = Check::new();
            r.check(&mut c);
            c.finish().err().map(|e| e.errors[0].field.clone())
        };
        assert_eq!(field(rule(serde_json::json!({"frequency": "weekly"}))).as_deref(), Some("rule"));
        assert_eq!(
            field(rule(serde_json::json!({"frequency": "weekly", "count": 3, "until": "2027-01-01"}))).as_deref(),
            Some("rule")
        );
        assert_eq!(
            field(rule(serde_json::json!({"frequency": "weekly", "count": 201}))).as_deref(),
            Some("rule.count")
        );
        assert_eq!(field(rule(serde_json::json!({"frequency": "monthly", "count": 12}))), None);
        let r = rule(serde_json::json!({"frequency": "monthly", "count": 12.0, "interval": 2}));
        assert_eq!((r.count, r.interval), (Some(12), Some(2)), "12.0 is a whole number");
        for bad in [serde_json::json!(1.5), serde_json::json!(-1), serde_json::json!("3")] {
            let parsed =
                serde_json::from_value::<RecurrenceRule>(serde_json::json!({"frequency": "weekly", "count": bad}));
            assert!(parsed.is_err(), "{bad}");
        }
    }

    #[test]
    fn series_edits() {
        let edit = |v| serde_json::from_value::<MeetingSeriesUpdate>(v).unwrap().validate();
        assert!(matches!(
            edit(serde_json::json!({"from": "2027-03-01", "changes": {"start_time": "14:30"}})).unwrap(),
            SeriesEdit::Changes { from: EditStart::Date(_), start_time: Some(_), .. }
        ));
        assert!(matches!(
            edit(serde_json::json!({"status": "cancelled", "cancel_reason": "合作结束"})).unwrap(),
            SeriesEdit::Cancel { .. }
        ));
        let e = edit(serde_json::json!({"status": "cancelled"})).err().unwrap();
        assert_eq!(e.errors[0].field, "cancel_reason");
        let e = edit(serde_json::json!({"from": "soon", "changes": {}})).err().unwrap();
        let fields: Vec<_> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["from", "changes"]);
        let e = edit(serde_json::json!({"changes": {"start_time": "24:00"}})).err().unwrap();
        assert_eq!(e.errors[0].field, "changes.start_time");
    }
}
