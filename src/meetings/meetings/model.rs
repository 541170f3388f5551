//! Meetings (定期会议) with partners: wire types and the rules that need no database — what a
//! meeting may be created with, who may see it, and how its status moves
//! (scheduled → held | cancelled, both final). How a merge patch changes one is in `patch.rs`.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::Scope;
use crate::db::types::{JsonText, UtcTime};
use crate::error::{ApiError, Code};
use crate::meetings::action_items::model::{ActionItem, ActionItemCreate};
use crate::meetings::model::{
    check_attendees, check_lines, check_partner_ids, check_timezone, check_url, opt_id, to_second, Attendee,
    AttendeeRequest, TextLine, MAX_LINE,
};
use crate::meetings::time;
use crate::partners::model::nullable;
use crate::validation::{Check, MAX_SHORT_TEXT};

crate::record!(Meeting);

pub const MAX_MINUTES: usize = 50_000;

/// The longest a meeting may last.
pub fn max_duration() -> Duration {
    Duration::hours(24)
}

crate::text_enum! {
    MeetingKind {
        RegularReview => "regular_review", BusinessReview => "business_review", Kickoff => "kickoff",
        IssueResolution => "issue_resolution", Training => "training", Other => "other",
    }
}

crate::text_enum! {
    /// scheduled → held (with minutes) | cancelled (with a reason); held and cancelled are final.
    MeetingStatus { Scheduled => "scheduled", Held => "held", Cancelled => "cancelled" }
}

impl MeetingStatus {
    pub fn can_move_to(self, to: MeetingStatus) -> bool {
        self == to || (self == MeetingStatus::Scheduled && to != MeetingStatus::Scheduled)
    }
}

pub fn meeting_not_found() -> ApiError {
    ApiError::not_found(Code::MeetingNotFound)
}

// The API's view is also the row; `meeting_partners` repeats `partner_ids` (with the start) so
// that one partner's meetings are read in order from an index.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::meetings, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Meeting {
    pub id: String,
    /// The recurring series this meeting is an occurrence of.
    pub series_id: Option<String>,
    pub title: String,
    pub kind: MeetingKind,
    #[diesel(serialize_as = JsonText)]
    pub partner_ids: Vec<String>,
    pub key_account_id: Option<String>,
    pub organizer: String,
    pub organizer_email: Option<String>,
    #[diesel(serialize_as = JsonText)]
    pub attendees: Vec<Attendee>,
    #[schema(value_type = Vec<TextLine>)]
    #[diesel(serialize_as = JsonText)]
    pub agenda: Vec<String>,
    pub location: Option<String>,
    pub online_url: Option<String>,
    #[diesel(serialize_as = UtcTime)]
    pub starts_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub ends_at: DateTime<Utc>,
    /// IANA timezone the meeting is planned in (its wall-clock time; calendar exports use it).
    pub timezone: String,
    pub status: MeetingStatus,
    /// Markdown; present once the meeting is held.
    pub minutes: Option<String>,
    #[schema(value_type = Vec<TextLine>)]
    #[diesel(serialize_as = JsonText)]
    pub decisions: Vec<String>,
    pub cancel_reason: Option<String>,
    #[diesel(serialize_as = UtcTime)]
    pub held_at: Option<DateTime<Utc>>,
    #[diesel(serialize_as = UtcTime)]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Grows by one with every change; the `ETag` is this number in quotes, and calendar
    /// exports use it as SEQUENCE (version − 1).
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
}

/// A meeting as one caller may see it. Staff see it whole. A partner key sees a joint meeting
/// (one with several partners) as its own partner's: `partner_ids` holds only that partner,
/// `attendees` only that partner's people, and everyone else appears only as a count — no other
/// partner's id, name, contacts, emails or userids.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeetingView {
    #[serde(flatten)]
    pub meeting: Meeting,
    /// Partner keys only: how many attendees `attendees` leaves out because they are not the
    /// key's partner's people (other partners' contacts, our own staff, anyone not linked to a
    /// contact).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = 2)]
    pub other_attendees: Option<usize>,
    /// Partner keys only: how many other partners the meeting includes (left out of
    /// `partner_ids`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = 1)]
    pub other_partners: Option<usize>,
}

/// A meeting with its action items and the progress review: the items still open from earlier
/// meetings with any of its partners.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeetingDetail {
    #[serde(flatten)]
    pub meeting: MeetingView,
    /// This meeting's own action items, oldest first.
    pub action_items: Vec<ActionItem>,
    /// Open items from meetings that started before this one, assigned to one of this meeting's
    /// partners; soonest due first (at most 200).
    pub carried_over_action_items: Vec<ActionItem>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingCreate {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Defaults to `regular_review`.
    pub kind: Option<MeetingKind>,
    /// 1–20 current partners; duplicates are ignored.
    #[schema(value_type = Vec<uuid::Uuid>, min_items = 1, max_items = 20)]
    pub partner_ids: Vec<String>,
    #[schema(format = Uuid)]
    pub key_account_id: Option<String>,
    /// Who runs the meeting on our side.
    #[schema(min_length = 1, max_length = 200)]
    pub organizer: String,
    #[schema(format = Email, min_length = 3, max_length = 254)]
    pub organizer_email: Option<String>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub attendees: Vec<AttendeeRequest>,
    #[serde(default)]
    #[schema(value_type = Vec<TextLine>, max_items = 50)]
    pub agenda: Vec<String>,
    #[schema(min_length = 1, max_length = 500)]
    pub location: Option<String>,
    /// An http(s) link of visible ASCII characters (percent-encode anything else).
    #[schema(pattern = r"^https?://[!-~]+$", max_length = 2000)]
    pub online_url: Option<String>,
    /// RFC 3339; stored to the second.
    pub starts_at: DateTime<Utc>,
    /// After `starts_at`, at most 24 hours later.
    pub ends_at: DateTime<Utc>,
    /// IANA name such as `Asia/Shanghai` (the default) or `Europe/Berlin`.
    #[schema(min_length = 1, max_length = 64, example = "Asia/Shanghai")]
    pub timezone: Option<String>,
}

/// A JSON merge patch. `status` moves the meeting: to `held` with `minutes` (and optionally
/// `decisions` and new `action_items`), or to `cancelled` with a `cancel_reason`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingUpdate {
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
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    #[schema(min_length = 1, max_length = 64)]
    pub timezone: Option<String>,
    pub status: Option<MeetingStatus>,
    /// Markdown, 1–50000 characters; only a held meeting has minutes.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 50000)]
    pub minutes: Option<Option<String>>,
    #[schema(value_type = Option<Vec<TextLine>>, max_items = 50)]
    pub decisions: Option<Vec<String>>,
    /// Required with `"status": "cancelled"`, and only then.
    #[schema(min_length = 1, max_length = 1000)]
    pub cancel_reason: Option<String>,
    /// Action items to create along with `"status": "held"` (they appear in `meeting.held`).
    #[schema(max_items = 50)]
    pub action_items: Option<Vec<ActionItemCreate>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeetingFilter {
    /// Meetings that include this partner.
    #[param(value_type = Option<uuid::Uuid>)]
    pub partner_id: Option<String>,
    pub status: Option<MeetingStatus>,
    pub kind: Option<MeetingKind>,
    #[param(min_length = 1, max_length = 200)]
    pub organizer: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub series_id: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub key_account_id: Option<String>,
    /// Meetings starting at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Meetings starting before this instant.
    pub to: Option<DateTime<Utc>>,
}

impl Meeting {
    /// The meeting as a caller with `scope` may see it (see [`MeetingView`]).
    pub fn view(self, scope: &Scope) -> MeetingView {
        let Scope::Partner(own) = scope else {
            return MeetingView { meeting: self, other_attendees: None, other_partners: None };
        };
        let mut meeting = self;
        let (mine, others): (Vec<Attendee>, Vec<Attendee>) =
            meeting.attendees.into_iter().partition(|a| a.partner_id.as_ref() == Some(own));
        let partners_before = meeting.partner_ids.len();
        meeting.partner_ids.retain(|id| id == own);
        meeting.attendees = mine;
        MeetingView {
            other_partners: Some(partners_before - meeting.partner_ids.len()),
            other_attendees: Some(others.len()),
            meeting,
        }
    }

    /// A partner key sees the meetings that include its partner.
    pub fn visible_in(&self, scope: &Scope) -> bool {
        match scope {
            Scope::All => true,
            Scope::Partner(own) => self.partner_ids.iter().any(|id| id == own),
        }
    }

    /// The meeting's timezone (stored names were validated on the way in).
    pub fn tz(&self) -> Result<Tz, ApiError> {
        time::parse_tz(&self.timezone)
            .ok_or_else(|| ApiError::internal(format!("unexpected timezone in the database: {:?}", self.timezone)))
    }

    /// Attendees linked to contacts must belong to the meeting's partners.
    pub fn check_attendee_partners(&self, c: &mut Check, prefix: &str) {
        for (i, a) in self.attendees.iter().enumerate() {
            if a.partner_id.as_ref().is_some_and(|pid| !self.partner_ids.contains(pid)) {
                c.add(
                    format!("{prefix}attendees[{i}].contact_id"),
                    "is a contact of a partner that is not in the meeting",
                );
            }
        }
    }
}

impl MeetingFilter {
    /// The filter with ids normalized.
    pub fn validated(&self) -> Result<MeetingFilter, ApiError> {
        let mut c = Check::new();
        c.opt_text("organizer", self.organizer.as_deref(), MAX_SHORT_TEXT);
        let out = MeetingFilter {
            partner_id: opt_id(&mut c, "partner_id", self.partner_id.as_deref()),
            status: self.status,
            kind: self.kind,
            organizer: self.organizer.clone(),
            series_id: opt_id(&mut c, "series_id", self.series_id.as_deref()),
            key_account_id: opt_id(&mut c, "key_account_id", self.key_account_id.as_deref()),
            from: self.from.map(to_second),
            to: self.to.map(to_second),
        };
        c.finish()?;
        Ok(out)
    }
}

/// `ends_at` after `starts_at`, at most 24 hours later.
pub fn check_times(c: &mut Check, field: &str, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) {
    if ends_at <= starts_at {
        c.add(field, "must be after starts_at");
    } else if ends_at - starts_at > max_duration() {
        c.add(field, "a meeting may last at most 24 hours");
    }
}

/// The meeting fields create and series templates share, checked; `prefix` is prepended to field
/// names (`template.` for series).
pub struct CheckedCreate {
    pub partner_ids: Vec<String>,
    pub key_account_id: Option<String>,
    pub tz: Tz,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl MeetingCreate {
    pub fn check(&self, c: &mut Check, prefix: &str) -> Option<CheckedCreate> {
        let f = |name: &str| format!("{prefix}{name}");
        c.text(&f("title"), &self.title, 1, MAX_SHORT_TEXT);
        let partner_ids = check_partner_ids(c, &f("partner_ids"), &self.partner_ids);
        let key_account_id = opt_id(c, &f("key_account_id"), self.key_account_id.as_deref());
        c.text(&f("organizer"), &self.organizer, 1, MAX_SHORT_TEXT);
        c.email(&f("organizer_email"), self.organizer_email.as_deref());
        check_attendees(c, &f("attendees"), &self.attendees);
        check_lines(c, &f("agenda"), &self.agenda);
        c.opt_text(&f("location"), self.location.as_deref(), MAX_LINE);
        check_url(c, &f("online_url"), self.online_url.as_deref());
        let (starts_at, ends_at) = (to_second(self.starts_at), to_second(self.ends_at));
        check_times(c, &f("ends_at"), starts_at, ends_at);
        let tz = check_timezone(c, &f("timezone"), self.timezone.as_deref())?;
        Some(CheckedCreate { partner_ids, key_account_id, tz, starts_at, ends_at })
    }

    pub fn validate(&self) -> Result<CheckedCreate, ApiError> {
        let mut c = Check::new();
        let checked = self.check(&mut c, "");
        c.finish()?;
        checked.ok_or_else(|| ApiError::field("timezone", "is not an IANA timezone name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create() -> MeetingCreate {
        serde_json::from_value(serde_json::json!({
            "title": "季度业务回顾",
            "partner_ids": ["0192F0C4-3B9E-7C1A-8F00-000000000001", "0192f0c4-3b9e-7c1a-8f00-000000000001"],
            "organizer": "王芳",
            "starts_at": "2027-01-04T10:00:00.5+08:00",
            "ends_at": "2027-01-04T11:00:00+08:00"
        }))
        .unwrap()
    }

    #[test]
    fn create_normalizes_and_defaults() {
        let checked = create().validate().unwrap();
        assert_eq!(checked.partner_ids, vec!["0192f0c4-3b9e-7c1a-8f00-000000000001"]);
        assert_eq!(checked.tz.name(), "Asia/Shanghai");
        assert_eq!(checked.starts_at, "2027-01-04T02:00:00Z".parse::<DateTime<Utc>>().unwrap());
    }

    #[test]
    fn create_names_bad_fields() {
        let fields = |m: MeetingCreate| {
            m.validate().err().map(|e| e.errors.into_iter().map(|f| f.field).collect::<Vec<_>>()).unwrap_or_default()
        };
        let mut m = create();
        m.ends_at = m.starts_at;
        assert_eq!(fields(m), vec!["ends_at"]);
        let mut m = create();
        m.ends_at = m.starts_at + Duration::hours(25);
        assert_eq!(fields(m), vec!["ends_at"]);
        let mut m = create();
        m.timezone = Some("Mars/Olympus".into());
        assert_eq!(fields(m), vec!["timezone"]);
        let mut m = create();
        m.partner_ids = vec![];
        assert_eq!(fields(m), vec!["partner_ids"]);
        let mut m = create();
        m.online_url = Some("ftp://x".into());
        m.agenda = vec!["ok".into(), " ".into()];
        m.attendees = vec![AttendeeRequest {
            name: None,
            contact_id: None,
            email: None,
            wecom_userid: None,
            dingtalk_userid: None,
        }];
        assert_eq!(fields(m), vec!["attendees[0].name", "agenda[1]", "online_url"]);
    }

    #[test]
    fn status_machine() {
        use MeetingStatus::*;
        assert!(Scheduled.can_move_to(Held) && Scheduled.can_move_to(Cancelled) && Held.can_move_to(Held));
        assert!(!Held.can_move_to(Cancelled) && !Cancelled.can_move_to(Scheduled) && !Held.can_move_to(Scheduled));
    }
}
