//! What meetings, action items and series share: the people at a meeting (attendees and their
//! chat userids), one line of free text, and the field checks every sub-resource applies the same
//! way (ids, partner lists, attendees, links, timezones), so a series template and a meeting
//! reject the same input with the same message.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use super::time;
use crate::access::Scope;
use crate::validation::{Check, MAX_SHORT_TEXT};

pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";
pub const MAX_PARTNERS: usize = 20;
pub const MAX_ATTENDEES: usize = 100;
pub const MAX_LINES: usize = 50;
pub const MAX_LINE: usize = 500;
pub const MAX_REASON: usize = 1_000;
pub const MAX_URL: usize = 2_000;
pub const MAX_TIMEZONE: usize = 64;

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

crate::json_column!(@read Vec<Attendee>);

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

pub fn opt_id(c: &mut Check, field: &str, raw: Option<&str>) -> Option<String> {
    raw.map(|r| normalize_id(c, field, r))
}

/// An id as stored, or the empty string (which matches nothing) when `raw` is not one.
pub fn id_or_empty(raw: &str) -> String {
    uuid::Uuid::parse_str(raw).map(|u| u.hyphenated().to_string()).unwrap_or_default()
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
    let tz = time::parse_tz(name);
    if tz.is_none() {
        c.add(field, format!("{name:?} is not an IANA timezone name (e.g. Asia/Shanghai, Europe/Berlin)"));
    }
    tz
}

/// The partner a list is limited to: a partner key's own, combined with a `partner_id` filter
/// (`Some(None)`: any partner). `None` when the two disagree, so nothing can match.
pub fn partner_constraint(scope: &Scope, filter: Option<&String>) -> Option<Option<String>> {
    match (scope, filter) {
        (Scope::All, f) => Some(f.cloned()),
        (Scope::Partner(own), None) => Some(Some(own.clone())),
        (Scope::Partner(own), Some(f)) if f == own => Some(Some(own.clone())),
        (Scope::Partner(_), Some(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_normalized_or_named() {
        let mut c = Check::new();
        let ids = check_partner_ids(
            &mut c,
            "partner_ids",
            &["0192F0C4-3B9E-7C1A-8F00-000000000001".into(), "0192f0c4-3b9e-7c1a-8f00-000000000001".into()],
        );
        assert_eq!(ids, vec!["0192f0c4-3b9e-7c1a-8f00-000000000001"]);
        assert!(c.is_ok());
        check_partner_ids(&mut c, "partner_ids", &["x".into()]);
        assert_eq!(c.finish().err().map(|e| e.errors[0].field.clone()).as_deref(), Some("partner_ids[0]"));
        assert_eq!(id_or_empty("nope"), "");
    }

    #[test]
    fn links_and_zones() {
        let mut c = Check::new();
        check_url(&mut c, "u", Some("https://meet.example.cn/q?x=1"));
        assert!(check_timezone(&mut c, "tz", None).is_some_and(|tz| tz.name() == DEFAULT_TIMEZONE));
        assert!(c.is_ok());
        check_url(&mut c, "u", Some("https://会议"));
        assert!(check_timezone(&mut c, "tz", Some("Mars/Olympus")).is_none());
        let fields: Vec<_> = c.finish().err().map(|e| e.errors.into_iter().map(|f| f.field).collect()).unwrap();
        assert_eq!(fields, vec!["u", "tz"]);
    }
}
