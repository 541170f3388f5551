//! Meetings, action items and recurring series: wire types and the rules that need no database.

use std::borrow::Cow;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, ToSchema};

use super::series;
use crate::error::ApiError;
use crate::partners::model::nullable;
use crate::validation::{Check, MAX_SHORT_TEXT};

crate::record!(Meeting, ActionItem, MeetingSeries);

pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";
pub const MAX_PARTNERS: usize = 20;
pub const MAX_ATTENDEES: usize = 100;
pub const MAX_LINES: usize = 50;
pub const MAX_LINE: usize = 500;
pub const MAX_MINUTES: usize = 50_000;
pub const MAX_REASON: usize = 1_000;
pub const MAX_URL: usize = 2_000;
pub const MAX_TIMEZONE: usize = 64;
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

crate::text_enum! {
    /// open → done | cancelled; done and cancelled are final.
    ActionItemStatus { Open => "open", Done => "done", Cancelled => "cancelled" }
}

crate::text_enum! {
    /// weekly, biweekly (every 2 weeks), monthly, quarterly (every 3 months); `interval` multiplies.
    Frequency { Weekly => "weekly", Biweekly => "biweekly", Monthly => "monthly", Quarterly => "quarterly" }
}

crate::text_enum! {
    /// active, or cancelled (its future occurrences were cancelled).
    SeriesStatus { Active => "active", Cancelled => "cancelled" }
}

crate::text_enum! {
    /// The one status change a series edit can make to its occurrences.
    OccurrenceStatusChange { Cancelled => "cancelled" }
}

impl MeetingStatus {
    pub fn can_move_to(self, to: MeetingStatus) -> bool {
        self == to || (self == MeetingStatus::Scheduled && to != MeetingStatus::Scheduled)
    }
}

impl ActionItemStatus {
    pub fn can_move_to(self, to: ActionItemStatus) -> bool {
        self == to || (self == ActionItemStatus::Open && to != ActionItemStatus::Open)
    }
}

/// One line of free text (an agenda item, a decision): 1–500 characters, not blank, no NUL.
pub struct TextLine;

impl utoipa::PartialSchema for TextLine {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_LINE))
            .pattern(Some(crate::validation::text_pattern()))
            .into()
    }
}

impl ToSchema for TextLine {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TextLine")
    }
}

/// Someone at the meeting. `contact_id` links a partner contact (whose partner is then
/// `partner_id`); `email` lets calendar exports list them as an attendee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attendee {
    pub name: String,
    pub contact_id: Option<String>,
    pub partner_id: Option<String>,
    pub email: Option<String>,
    /// WeCom (企业微信) userid, for @mentions.
    pub wecom_userid: Option<String>,
    /// DingTalk (钉钉) userid, for @mentions.
    pub dingtalk_userid: Option<String>,
}

/// A person's userid on one chat platform, as attendees and contacts carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatUserid<'a> {
    Wecom(&'a str),
    Dingtalk(&'a str),
}

impl ChatUserid<'_> {
    pub fn value(&self) -> &str {
        match self {
            ChatUserid::Wecom(v) | ChatUserid::Dingtalk(v) => v,
        }
    }

    /// The attendee field that holds it.
    pub fn field(&self) -> &'static str {
        match self {
            ChatUserid::Wecom(_) => "wecom_userid",
            ChatUserid::Dingtalk(_) => "dingtalk_userid",
        }
    }

    /// True when `attendee` carries this userid.
    pub fn is(&self, attendee: &Attendee) -> bool {
        let own = match self {
            ChatUserid::Wecom(_) => attendee.wecom_userid.as_deref(),
            ChatUserid::Dingtalk(_) => attendee.dingtalk_userid.as_deref(),
        };
        own == Some(self.value())
    }
}

/// An attendee as given: `name` may be left out when `contact_id` names a partner contact, whose
/// name, email and userids then fill the gaps.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendeeRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// A contact of one of the meeting's partners.
    #[schema(format = Uuid)]
    pub contact_id: Option<String>,
    #[schema(format = Email, min_length = 3, max_length = 254)]
    pub email: Option<String>,
    #[schema(pattern = r"^[!-~]{1,64}$")]
    pub wecom_userid: Option<String>,
    #[schema(pattern = r"^[!-~]{1,64}$")]
    pub dingtalk_userid: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Meeting {
    pub id: String,
    /// The recurring series this meeting is an occurrence of.
    pub series_id: Option<String>,
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
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// IANA timezone the meeting is planned in (its wall-clock time; calendar exports use it).
    pub timezone: String,
    pub status: MeetingStatus,
    /// Markdown; present once the meeting is held.
    pub minutes: Option<String>,
    #[schema(value_type = Vec<TextLine>)]
    pub decisions: Vec<String>,
    pub cancel_reason: Option<String>,
    pub held_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Grows by one with every change; the `ETag` is this number in quotes, and calendar
    /// exports use it as SEQUENCE (version − 1).
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A meeting with its action items and the progress review: the items still open from earlier
/// meetings with any of its partners.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeetingDetail {
    #[serde(flatten)]
    pub meeting: Meeting,
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

/// An optional whole number that may be written `37` or `37.0` (JSON Schema calls both integers;
/// serde alone accepts only the first). Anything else, or a value outside `T`, is refused.
pub fn opt_whole<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::de::Error;
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else { return Ok(None) };
    let whole = match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => Some(i),
        (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
        _ => None,
    };
    let whole = whole.ok_or_else(|| D::Error::custom(format!("expected a whole number, got {n}")))?;
    T::try_from(whole).map(Some).map_err(|_| D::Error::custom(format!("{whole} is out of range")))
}

/// Normalizes an id parameter: our ids are lowercase hyphenated UUIDs.
pub fn normalize_id(c: &mut Check, field: &str, raw: &str) -> String {
    match uuid::Uuid::parse_str(raw) {
        Ok(u) => u.hyphenated().to_string(),
        Err(_) => {
            c.add(field, "must be a resource id (UUID)");
            String::new()
        }
    }
}

fn opt_id(c: &mut Check, field: &str, raw: Option<&str>) -> Option<String> {
    raw.map(|r| normalize_id(c, field, r))
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

/// Times are kept to the second (what calendars carry).
pub fn to_second(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(0)
}

/// Checks partner ids: 1–20 UUIDs; returns them normalized with duplicates dropped.
pub fn check_partner_ids(c: &mut Check, field: &str, ids: &[String]) -> Vec<String> {
    if ids.is_empty() || ids.len() > MAX_PARTNERS {
        c.add(field, format!("must have 1 to {MAX_PARTNERS} partners (got {})", ids.len()));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, raw) in ids.iter().enumerate() {
        let id = normalize_id(c, &format!("{field}[{i}]"), raw);
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

pub fn check_lines(c: &mut Check, field: &str, lines: &[String]) {
    if lines.len() > MAX_LINES {
        c.add(field, format!("must have at most {MAX_LINES} items (got {})", lines.len()));
        return;
    }
    for (i, line) in lines.iter().enumerate() {
        c.text(&format!("{field}[{i}]"), line, 1, MAX_LINE);
    }
}

pub fn check_attendees(c: &mut Check, field: &str, attendees: &[AttendeeRequest]) {
    if attendees.len() > MAX_ATTENDEES {
        c.add(field, format!("must have at most {MAX_ATTENDEES} attendees (got {})", attendees.len()));
        return;
    }
    for (i, a) in attendees.iter().enumerate() {
        let f = |name: &str| format!("{field}[{i}].{name}");
        match (&a.name, &a.contact_id) {
            (None, None) => c.add(f("name"), "is required unless contact_id names a partner contact"),
            (Some(name), _) => c.text(&f("name"), name, 1, MAX_SHORT_TEXT),
            _ => {}
        }
        if let Some(id) = &a.contact_id {
            normalize_id(c, &f("contact_id"), id);
        }
        c.email(&f("email"), a.email.as_deref());
        c.userid(&f("wecom_userid"), a.wecom_userid.as_deref());
        c.userid(&f("dingtalk_userid"), a.dingtalk_userid.as_deref());
    }
}

pub fn check_url(c: &mut Check, field: &str, url: Option<&str>) {
    if let Some(u) = url {
        let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
        let ok = rest.is_some_and(|r| !r.is_empty() && r.chars().all(|ch| ch.is_ascii_graphic()));
        if !ok || u.len() > MAX_URL {
            c.add(field, "must be an http:// or https:// link of at most 2000 visible ASCII characters");
        }
    }
}

/// The timezone by name (`None` → the default), or an error on `field`.
pub fn check_timezone(c: &mut Check, field: &str, name: Option<&str>) -> Option<Tz> {
    let name = name.unwrap_or(DEFAULT_TIMEZONE);
    if name.contains('\0') || name.chars().count() > MAX_TIMEZONE {
        c.add(field, "must be an IANA timezone name such as Asia/Shanghai");
        return None;
    }
    let tz = series::parse_tz(name);
    if tz.is_none() {
        c.add(field, format!("{name:?} is not an IANA timezone name (e.g. Asia/Shanghai, Europe/Berlin)"));
    }
    tz
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
}

// ---- action items ----

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActionItem {
    pub id: String,
    pub meeting_id: String,
    pub title: String,
    pub owner: String,
    /// One of the meeting's partners.
    pub partner_id: String,
    pub due_date: Option<NaiveDate>,
    pub status: ActionItemStatus,
    pub done_at: Option<DateTime<Utc>>,
    /// Open and past its due date (the due date ends at midnight in the meeting's timezone).
    pub overdue: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionItemCreate {
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
    /// Who is responsible.
    #[schema(min_length = 1, max_length = 200)]
    pub owner: String,
    /// One of the meeting's partners; may be left out when the meeting has exactly one.
    #[schema(format = Uuid)]
    pub partner_id: Option<String>,
    pub due_date: Option<NaiveDate>,
}

impl ActionItemCreate {
    pub fn check(&self, c: &mut Check, prefix: &str) {
        c.text(&format!("{prefix}title"), &self.title, 1, MAX_LINE);
        c.text(&format!("{prefix}owner"), &self.owner, 1, MAX_SHORT_TEXT);
        if let Some(p) = &self.partner_id {
            normalize_id(c, &format!("{prefix}partner_id"), p);
        }
    }

    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        self.check(&mut c, "");
        c.finish()
    }
}

/// A JSON merge patch; `status` closes the item (`done` sets `done_at`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionItemUpdate {
    #[schema(min_length = 1, max_length = 500)]
    pub title: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub owner: Option<String>,
    #[schema(format = Uuid)]
    pub partner_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub due_date: Option<Option<NaiveDate>>,
    pub status: Option<ActionItemStatus>,
}

impl ActionItemUpdate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(v) = &self.title {
            c.text("title", v, 1, MAX_LINE);
        }
        if let Some(v) = &self.owner {
            c.text("owner", v, 1, MAX_SHORT_TEXT);
        }
        if let Some(p) = &self.partner_id {
            normalize_id(&mut c, "partner_id", p);
        }
        c.finish()
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionItemFilter {
    #[param(min_length = 1, max_length = 200)]
    pub owner: Option<String>,
    pub status: Option<ActionItemStatus>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub partner_id: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub meeting_id: Option<String>,
    /// `true`: only open items past their due date; `false`: only items that are not.
    pub overdue: Option<bool>,
}

impl ActionItemFilter {
    pub fn validated(&self) -> Result<ActionItemFilter, ApiError> {
        let mut c = Check::new();
        c.opt_text("owner", self.owner.as_deref(), MAX_SHORT_TEXT);
        let out = ActionItemFilter {
            owner: self.owner.clone(),
            status: self.status,
            partner_id: opt_id(&mut c, "partner_id", self.partner_id.as_deref()),
            meeting_id: opt_id(&mut c, "meeting_id", self.meeting_id.as_deref()),
            overdue: self.overdue,
        };
        c.finish()?;
        Ok(out)
    }
}

/// The sort key of a due date: undated items sort last.
pub fn due_sort(due: Option<NaiveDate>) -> String {
    due.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "9999-12-31".into())
}

// ---- calendar ----

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarFilter {
    /// Only meetings that include this partner.
    #[param(value_type = Option<uuid::Uuid>)]
    pub partner_id: Option<String>,
    /// Meetings starting at or after this instant (default: 30 days ago).
    pub from: Option<DateTime<Utc>>,
    /// Meetings starting before this instant (default and maximum: 400 days after `from`).
    pub to: Option<DateTime<Utc>>,
}

pub const MAX_FEED_DAYS: i64 = 400;
pub const MAX_FEED_EVENTS: usize = 5_000;

/// The window a feed covers.
pub struct FeedWindow {
    pub partner_id: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl CalendarFilter {
    pub fn window(&self, now: DateTime<Utc>) -> Result<FeedWindow, ApiError> {
        let mut c = Check::new();
        let partner_id = opt_id(&mut c, "partner_id", self.partner_id.as_deref());
        let from = to_second(self.from.unwrap_or(now - Duration::days(30)));
        let to = self.to.map(to_second).unwrap_or(from + Duration::days(MAX_FEED_DAYS));
        if to <= from {
            c.add("to", "must be after from");
        } else if to - from > Duration::days(MAX_FEED_DAYS) {
            c.add("to", format!("may be at most {MAX_FEED_DAYS} days after from"));
        }
        c.finish()?;
        Ok(FeedWindow { partner_id, from, to })
    }
}

// ---- series ----

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
    pub fn check(&self, c: &mut Check) -> Option<series::End> {
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
            (Some(until), None) => Some(series::End::Until(until)),
            (None, Some(count)) => {
                if !(1..=series::MAX_OCCURRENCES as u32).contains(&count) {
                    c.add("rule.count", format!("must be between 1 and {}", series::MAX_OCCURRENCES));
                }
                Some(series::End::Count(count))
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
    fn status_machines() {
        use MeetingStatus::*;
        assert!(Scheduled.can_move_to(Held) && Scheduled.can_move_to(Cancelled) && Held.can_move_to(Held));
        assert!(!Held.can_move_to(Cancelled) && !Cancelled.can_move_to(Scheduled) && !Held.can_move_to(Scheduled));
        use ActionItemStatus as A;
        assert!(A::Open.can_move_to(A::Done) && A::Open.can_move_to(A::Cancelled));
        assert!(!A::Done.can_move_to(A::Open) && !A::Cancelled.can_move_to(A::Done));
    }

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

    #[test]
    fn feed_windows() {
        let now: DateTime<Utc> = "2027-01-04T00:00:00Z".parse().unwrap();
        let w = CalendarFilter::default().window(now).unwrap();
        assert_eq!(w.to - w.from, Duration::days(MAX_FEED_DAYS));
        let f = CalendarFilter { partner_id: None, from: Some(now), to: Some(now) };
        assert_eq!(f.window(now).err().unwrap().errors[0].field, "to");
        let f = CalendarFilter { partner_id: None, from: Some(now), to: Some(now + Duration::days(401)) };
        assert_eq!(f.window(now).err().unwrap().errors[0].field, "to");
    }

    #[test]
    fn due_dates_sort_undated_last() {
        assert_eq!(due_sort(NaiveDate::from_ymd_opt(2027, 1, 4)), "2027-01-04");
        assert!(due_sort(None) > due_sort(NaiveDate::from_ymd_opt(9000, 1, 1)));
    }
}
