//! Bulletins: wire types, the audience and its resolution into recipients, attachments, the
//! status rules and what may change once published (pure, unit-tested).

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::partners::model::{nullable, ChannelType, PartnerStatus, Tier};
use crate::validation::{Check, MAX_SHORT_TEXT};

crate::record!(Bulletin);

crate::text_enum! {
    Category {
        Market => "market", Competitor => "competitor", Product => "product",
        Policy => "policy", Training => "training", Other => "other",
    }
}

crate::text_enum! {
    Importance { Normal => "normal", Important => "important", Urgent => "urgent" }
}

crate::text_enum! {
    /// draft → published → archived. Only drafts are fully editable.
    BulletinStatus { Draft => "draft", Published => "published", Archived => "archived" }
}

impl BulletinStatus {
    pub fn can_move_to(self, to: BulletinStatus) -> bool {
        matches!(
            (self, to),
            (BulletinStatus::Draft, BulletinStatus::Published) | (BulletinStatus::Published, BulletinStatus::Archived)
        )
    }
}

/// The largest body, in bytes of UTF-8 (64 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const MAX_TITLE: usize = MAX_SHORT_TEXT;
pub const MAX_ATTACHMENTS: usize = 10;
pub const MAX_URL: usize = 2048;
pub const MAX_AUDIENCE_REGIONS: usize = 50;
pub const MAX_AUDIENCE_PARTNERS: usize = 500;

/// Who a bulletin is for. A partner is addressed when it matches any listed group (or `all`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Audience {
    /// Every active and onboarding partner.
    pub all: bool,
    pub tiers: Vec<Tier>,
    pub regions: Vec<String>,
    pub channel_types: Vec<ChannelType>,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub partner_ids: Vec<String>,
}

/// Who a bulletin is for: any combination of the groups; a partner is addressed when it matches
/// any of them. At least one group must be given (`all: true` or a non-empty list). Only active
/// and onboarding partners are addressed, resolved when the bulletin is published.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceRequest {
    /// Every active and onboarding partner.
    #[serde(default)]
    pub all: bool,
    /// Partners of these tiers (repeats are ignored).
    #[serde(default)]
    #[schema(max_items = 4)]
    pub tiers: Vec<Tier>,
    /// Partners whose `region` is exactly one of these.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub regions: Vec<String>,
    /// Direct or indirect partners (repeats are ignored).
    #[serde(default)]
    #[schema(max_items = 2)]
    pub channel_types: Vec<ChannelType>,
    /// Named partners: each must exist and not be archived (repeats are ignored).
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 500)]
    pub partner_ids: Vec<String>,
}

impl AudienceRequest {
    /// Checks the audience at `field` (other rooms that address partners the same way, such as
    /// incentive programs, check theirs with it).
    pub fn check(&self, c: &mut Check, field: &str) {
        if self.tiers.len() > 4 {
            c.add(format!("{field}.tiers"), format!("must have at most 4 items (got {})", self.tiers.len()));
        }
        if self.channel_types.len() > 2 {
            c.add(
                format!("{field}.channel_types"),
                format!("must have at most 2 items (got {})", self.channel_types.len()),
            );
        }
        c.labels(&format!("{field}.regions"), &self.regions, 0, MAX_AUDIENCE_REGIONS);
        if self.partner_ids.len() > MAX_AUDIENCE_PARTNERS {
            c.add(
                format!("{field}.partner_ids"),
                format!("must have at most {MAX_AUDIENCE_PARTNERS} items (got {})", self.partner_ids.len()),
            );
        } else {
            for (i, id) in self.partner_ids.iter().enumerate() {
                if uuid::Uuid::parse_str(id).is_err() {
                    c.add(format!("{field}.partner_ids[{i}]"), "must be a partner id (UUID)");
                }
            }
        }
        let empty = !self.all
            && self.tiers.is_empty()
            && self.regions.is_empty()
            && self.channel_types.is_empty()
            && self.partner_ids.is_empty();
        if empty {
            c.add(field, "must name someone: all, tiers, regions, channel_types or partner_ids");
        }
    }

    /// The stored audience: repeats dropped (first one kept), ids in their canonical form.
    /// Call after validation.
    pub fn normalize(&self) -> Audience {
        fn dedup<T: PartialEq + Clone>(items: &[T]) -> Vec<T> {
            let mut out: Vec<T> = Vec::with_capacity(items.len());
            for item in items {
                if !out.contains(item) {
                    out.push(item.clone());
                }
            }
            out
        }
        let ids: Vec<String> = self
            .partner_ids
            .iter()
            .map(|id| uuid::Uuid::parse_str(id).map(|u| u.hyphenated().to_string()).unwrap_or_else(|_| id.clone()))
            .collect();
        Audience {
            all: self.all,
            tiers: dedup(&self.tiers),
            regions: dedup(&self.regions),
            channel_types: dedup(&self.channel_types),
            partner_ids: dedup(&ids),
        }
    }
}

/// A partner as audience resolution sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: String,
    pub tier: Tier,
    pub region: Option<String>,
    pub channel_type: ChannelType,
    pub status: PartnerStatus,
    pub archived: bool,
}

/// The partners a bulletin goes to: current (not archived) active and onboarding partners that
/// match any group of the audience. Each partner appears once, however many groups it matches;
/// the ids come back sorted.
pub fn resolve_audience(audience: &Audience, partners: &[Candidate]) -> Vec<String> {
    let reachable =
        |p: &Candidate| !p.archived && matches!(p.status, PartnerStatus::Active | PartnerStatus::Onboarding);
    let addressed = |p: &Candidate| {
        audience.all
            || audience.tiers.contains(&p.tier)
            || p.region.as_ref().is_some_and(|r| audience.regions.contains(r))
            || audience.channel_types.contains(&p.channel_type)
            || audience.partner_ids.contains(&p.id)
    };
    partners
        .iter()
        .filter(|p| reachable(p) && addressed(p))
        .map(|p| p.id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// A file or page the bulletin links to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    pub name: String,
    pub url: String,
}

/// A link to a file or page: a name and an absolute `http://` or `https://` URL (printable
/// ASCII; percent-encode anything else).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(pattern = r#"^[Hh][Tt][Tt][Pp][Ss]?://[!-"$-.0->@-~][!-~]*$"#, max_length = 2048)]
    pub url: String,
}

/// The rule the published `url` pattern states: `http://` or `https://` (any case), then a host
/// that does not start with `/`, `?` or `#`, and only printable ASCII — no spaces, no control
/// characters — so `javascript:`, `data:` and the like never pass.
pub fn is_web_url(url: &str) -> bool {
    let bytes = url.as_bytes();
    let rest = if bytes.len() >= 8 && bytes[..8].eq_ignore_ascii_case(b"https://") {
        &url[8..]
    } else if bytes.len() >= 7 && bytes[..7].eq_ignore_ascii_case(b"http://") {
        &url[7..]
    } else {
        return false;
    };
    let printable = |c: char| ('!'..='~').contains(&c);
    match rest.chars().next() {
        Some(first) if printable(first) && !matches!(first, '/' | '?' | '#') => rest.chars().all(printable),
        _ => false,
    }
}

impl AttachmentRequest {
    /// The URL as stored: one trailing newline is dropped. Python's `re` (which schemathesis and
    /// hypothesis use to read the published pattern) lets `$` match before a final newline, so
    /// such a URL counts as valid there; taking it keeps the API and that reading in agreement.
    fn url(&self) -> &str {
        self.url.strip_suffix('\n').unwrap_or(&self.url)
    }

    fn check(&self, c: &mut Check, field: &str) {
        c.text(&format!("{field}.name"), &self.name, 1, MAX_SHORT_TEXT);
        let url_field = format!("{field}.url");
        if self.url.chars().count() > MAX_URL {
            c.add(url_field, format!("must be at most {MAX_URL} characters"));
        } else if !is_web_url(self.url()) {
            c.add(url_field, "must be an http:// or https:// URL (printable ASCII, no spaces)");
        }
    }

    pub fn to_attachment(&self) -> Attachment {
        Attachment { name: self.name.clone(), url: self.url().to_string() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Bulletin {
    pub id: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub category: Category,
    pub importance: Importance,
    /// Who it is for. Not shown to partner keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub audience: Option<Audience>,
    pub attachments: Vec<Attachment>,
    /// Pinned bulletins come first in lists.
    pub pinned: bool,
    /// After this instant partners no longer see it.
    pub expires_at: Option<DateTime<Utc>>,
    pub status: BulletinStatus,
    /// How many partners it was addressed to when it was published (0 for drafts). Not shown to
    /// partner keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub recipient_count: Option<i64>,
    pub published_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
    /// Partner keys only: when their partner acknowledged it, or null while unread.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub read_at: Option<Option<DateTime<Utc>>>,
    /// Grows by one with every change; the `ETag` is this number in quotes.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Bulletin {
    /// What a partner key sees: no audience or recipient count (they would reveal other
    /// partners), and its own read receipt.
    pub fn for_partner(mut self, read_at: Option<DateTime<Utc>>) -> Self {
        self.audience = None;
        self.recipient_count = None;
        self.read_at = Some(read_at);
        self
    }

    /// The list position: pinned first, then newest (published, or created for drafts), then id.
    pub fn sort_key(&self) -> SortKey {
        SortKey {
            pinned: self.pinned,
            at: self.published_at.unwrap_or(self.created_at).naive_utc(),
            id: self.id.clone(),
        }
    }
}

/// The position of a bulletin in list order, and the cursor that continues after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub pinned: bool,
    pub at: NaiveDateTime,
    pub id: String,
}

const CURSOR_TIME: &str = "%Y-%m-%dT%H:%M:%S%.6f";

impl SortKey {
    pub fn parts(&self) -> Vec<String> {
        vec![if self.pinned { "1" } else { "0" }.into(), self.at.format(CURSOR_TIME).to_string(), self.id.clone()]
    }

    pub fn parse(parts: &[String]) -> Result<Self, ApiError> {
        let bad = || ApiError::field("cursor", "is not a cursor this list issued");
        let [pinned, at, id] = parts else { return Err(bad()) };
        let pinned = match pinned.as_str() {
            "1" => true,
            "0" => false,
            _ => return Err(bad()),
        };
        let at = NaiveDateTime::parse_from_str(at, CURSOR_TIME).map_err(|_| bad())?;
        let id = uuid::Uuid::parse_str(id).map_err(|_| bad())?.hyphenated().to_string();
        Ok(SortKey { pinned, at, id })
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulletinCreate {
    /// 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Markdown, at most 65,536 bytes of UTF-8 (64 KiB; a character outside ASCII takes 2–4).
    #[schema(min_length = 1, max_length = 65536)]
    pub body: String,
    pub category: Category,
    /// Defaults to `normal`.
    pub importance: Option<Importance>,
    pub audience: AudienceRequest,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub attachments: Vec<AttachmentRequest>,
    #[serde(default)]
    pub pinned: bool,
    /// Must be in the future.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A JSON merge patch. A draft may change every field; a published bulletin only `pinned` and
/// `expires_at` (other changes are 409 `bulletin_not_editable`); an archived one nothing.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulletinUpdate {
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// Markdown, at most 65,536 bytes of UTF-8.
    #[schema(min_length = 1, max_length = 65536)]
    pub body: Option<String>,
    pub category: Option<Category>,
    pub importance: Option<Importance>,
    pub audience: Option<AudienceRequest>,
    #[schema(max_items = 10)]
    pub attachments: Option<Vec<AttachmentRequest>>,
    pub pinned: Option<bool>,
    /// Must be in the future; `null` removes the expiry.
    #[serde(default, deserialize_with = "nullable")]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

fn check_body(c: &mut Check, body: &str) {
    if body.len() > MAX_BODY_BYTES {
        c.add("body", format!("must be at most {MAX_BODY_BYTES} bytes of UTF-8 (got {})", body.len()));
    } else {
        c.text("body", body, 1, MAX_BODY_BYTES);
    }
}

fn check_expiry(c: &mut Check, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) {
    if let Some(at) = expires_at {
        if at <= now {
            c.add("expires_at", "must be in the future");
        }
    }
}

fn check_attachments(c: &mut Check, attachments: &[AttachmentRequest]) {
    if attachments.len() > MAX_ATTACHMENTS {
        c.add("attachments", format!("must have at most {MAX_ATTACHMENTS} items (got {})", attachments.len()));
        return;
    }
    for (i, a) in attachments.iter().enumerate() {
        a.check(c, &format!("attachments[{i}]"));
    }
}

impl BulletinCreate {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.text("title", &self.title, 1, MAX_TITLE);
        check_body(&mut c, &self.body);
        self.audience.check(&mut c, "audience");
        check_attachments(&mut c, &self.attachments);
        check_expiry(&mut c, self.expires_at, now);
        c.finish()
    }
}

impl BulletinUpdate {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.opt_text("title", self.title.as_deref(), MAX_TITLE);
        if let Some(body) = &self.body {
            check_body(&mut c, body);
        }
        if let Some(audience) = &self.audience {
            audience.check(&mut c, "audience");
        }
        if let Some(attachments) = &self.attachments {
            check_attachments(&mut c, attachments);
        }
        if let Some(expires_at) = self.expires_at {
            check_expiry(&mut c, expires_at, now);
        }
        c.finish()
    }

    /// The bulletin after the patch (whether its status allows the change is checked apart).
    pub fn apply(&self, current: &Bulletin) -> Bulletin {
        let mut b = current.clone();
        if let Some(v) = &self.title {
            b.title = v.clone();
        }
        if let Some(v) = &self.body {
            b.body = v.clone();
        }
        if let Some(v) = self.category {
            b.category = v;
        }
        if let Some(v) = self.importance {
            b.importance = v;
        }
        if let Some(v) = &self.audience {
            b.audience = Some(v.normalize());
        }
        if let Some(v) = &self.attachments {
            b.attachments = v.iter().map(AttachmentRequest::to_attachment).collect();
        }
        if let Some(v) = self.pinned {
            b.pinned = v;
        }
        if let Some(v) = self.expires_at {
            b.expires_at = v;
        }
        b
    }
}

/// The fields a change touches that a published bulletin must keep: what partners were sent
/// stays what they were sent. Only `pinned` and `expires_at` may move after publishing.
pub fn locked_changes(current: &Bulletin, next: &Bulletin) -> Vec<&'static str> {
    let mut locked = Vec::new();
    if current.title != next.title {
        locked.push("title");
    }
    if current.body != next.body {
        locked.push("body");
    }
    if current.category != next.category {
        locked.push("category");
    }
    if current.importance != next.importance {
        locked.push("importance");
    }
    if current.audience != next.audience {
        locked.push("audience");
    }
    if current.attachments != next.attachments {
        locked.push("attachments");
    }
    locked
}

/// The key text search compares: lower-cased, Unicode-aware.
pub fn search_key(text: &str) -> String {
    text.to_lowercase()
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BulletinFilter {
    pub category: Option<Category>,
    pub status: Option<BulletinStatus>,
    pub importance: Option<Importance>,
    /// Text search over title and body (case-insensitive substring).
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
    /// Published at or after this instant.
    pub published_from: Option<DateTime<Utc>>,
    /// Published before this instant.
    pub published_to: Option<DateTime<Utc>>,
    /// Bulletins sent to this partner.
    #[param(value_type = Option<uuid::Uuid>)]
    pub addressed_to: Option<String>,
    /// Bulletins sent to this partner that it has not acknowledged yet.
    #[param(value_type = Option<uuid::Uuid>)]
    pub unread_by: Option<String>,
}

impl BulletinFilter {
    /// Checks the filter and puts partner ids in their canonical form.
    pub fn validate(&mut self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.opt_text("q", self.q.as_deref(), MAX_SHORT_TEXT);
        for (field, value) in [("addressed_to", &mut self.addressed_to), ("unread_by", &mut self.unread_by)] {
            if let Some(v) = value {
                match uuid::Uuid::parse_str(v) {
                    Ok(u) => *v = u.hyphenated().to_string(),
                    Err(_) => c.add(field, "must be a partner id (UUID)"),
                }
            }
        }
        c.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn partner(
        id: &str,
        tier: Tier,
        region: Option<&str>,
        channel_type: ChannelType,
        status: PartnerStatus,
    ) -> Candidate {
        Candidate { id: id.into(), tier, region: region.map(str::to_string), channel_type, status, archived: false }
    }

    fn audience(json: serde_json::Value) -> Audience {
        serde_json::from_value::<AudienceRequest>(json).expect("audience").normalize()
    }

    fn roster() -> Vec<Candidate> {
        use ChannelType::*;
        use PartnerStatus::*;
        vec![
            partner("a-key-east", Tier::Key, Some("华东"), Indirect, Active),
            partner("b-std-east", Tier::Standard, Some("华东"), Indirect, Onboarding),
            partner("c-key-north", Tier::Key, Some("华北"), Direct, Active),
            partner("d-std-south", Tier::Standard, Some("华南"), Indirect, Active),
            partner("e-key-prospect", Tier::Key, Some("华东"), Indirect, Prospect),
            partner("f-key-suspended", Tier::Key, Some("华东"), Direct, Suspended),
            partner("g-key-terminated", Tier::Key, None, Indirect, Terminated),
            Candidate { archived: true, ..partner("h-key-archived", Tier::Key, Some("华东"), Indirect, Active) },
            partner("i-probation-none", Tier::Probation, None, Direct, Active),
        ]
    }

    #[test]
    fn audience_is_the_union_of_its_groups_counted_once() {
        let a = audience(serde_json::json!({"tiers": ["key"], "regions": ["华东"], "partner_ids": []}));
        let mut named = a.clone();
        named.partner_ids = vec!["d-std-south".into(), "a-key-east".into()];
        assert_eq!(resolve_audience(&a, &roster()), vec!["a-key-east", "b-std-east", "c-key-north"]);
        // a-key-east matches tier, region and name: it is still one recipient.
        assert_eq!(resolve_audience(&named, &roster()), vec!["a-key-east", "b-std-east", "c-key-north", "d-std-south"]);
        let mut twice = roster();
        twice.extend(roster());
        assert_eq!(resolve_audience(&named, &twice).len(), 4, "the same partner listed twice is one recipient");
    }

    #[test]
    fn only_current_active_and_onboarding_partners_are_addressed() {
        let everyone = audience(serde_json::json!({"all": true}));
        assert_eq!(
            resolve_audience(&everyone, &roster()),
            vec!["a-key-east", "b-std-east", "c-key-north", "d-std-south", "i-probation-none"]
        );
        let mut named = audience(serde_json::json!({"regions": ["nowhere"]}));
        named.partner_ids = vec!["e-key-prospect".into(), "f-key-suspended".into(), "h-key-archived".into()];
        assert!(resolve_audience(&named, &roster()).is_empty(), "naming an unreachable partner does not reach it");
        let direct = audience(serde_json::json!({"channel_types": ["direct"]}));
        assert_eq!(resolve_audience(&direct, &roster()), vec!["c-key-north", "i-probation-none"]);
        let regionless = audience(serde_json::json!({"regions": ["华东"], "tiers": ["probation"]}));
        assert_eq!(resolve_audience(&regionless, &roster()), vec!["a-key-east", "b-std-east", "i-probation-none"]);
    }

    #[test]
    fn an_empty_audience_is_refused_and_repeats_are_dropped() {
        for empty in [serde_json::json!({}), serde_json::json!({"all": false, "tiers": [], "partner_ids": []})] {
            let req: AudienceRequest = serde_json::from_value(empty).unwrap();
            let mut c = Check::new();
            req.check(&mut c, "audience");
            assert_eq!(c.finish().unwrap_err().errors[0].field, "audience");
        }
        let req: AudienceRequest = serde_json::from_value(serde_json::json!({
            "tiers": ["key", "key"],
            "channel_types": ["direct", "direct"],
            "partner_ids": ["0192F0C4-3B9E-7C1A-8F00-000000000001", "0192f0c4-3b9e-7c1a-8f00-000000000001", "nope"],
        }))
        .unwrap();
        let mut c = Check::new();
        req.check(&mut c, "audience");
        let fields: Vec<String> = c.finish().unwrap_err().errors.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["audience.partner_ids[2]"]);
        let a = req.normalize();
        assert_eq!(a.tiers, vec![Tier::Key]);
        assert_eq!(a.channel_types, vec![ChannelType::Direct]);
        assert_eq!(a.partner_ids[0], "0192f0c4-3b9e-7c1a-8f00-000000000001");
        let req: AudienceRequest =
            serde_json::from_value(serde_json::json!({"regions": ["华东", "", "华东"]})).unwrap();
        let mut c = Check::new();
        req.check(&mut c, "audience");
        let fields: Vec<String> = c.finish().unwrap_err().errors.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["audience.regions[1]", "audience.regions[2]"]);
    }

    #[test]
    fn attachment_urls_are_http_or_https_only() {
        for ok in [
            "https://example.com/a.pdf",
            "http://example.com",
            "HTTPS://EXAMPLE.COM/x?y=1#z",
            "https://user@host:8443/%E6%B8%A0%E9%81%93.pdf",
            "http://s",
        ] {
            assert!(is_web_url(ok), "{ok}");
        }
        let trailing = AttachmentRequest { name: "n".into(), url: "https://a.example/x\n".into() };
        let mut c = Check::new();
        trailing.check(&mut c, "attachments[0]");
        assert!(c.is_ok(), "one trailing newline, as Python's `$` allows, is dropped");
        assert_eq!(trailing.to_attachment().url, "https://a.example/x");
        let twice = AttachmentRequest { name: "n".into(), url: "https://a.example/x\n\n".into() };
        let mut c = Check::new();
        twice.check(&mut c, "attachments[0]");
        assert!(!c.is_ok());
        for bad in [
            "javascript:alert(1)",
            "JavaScript://example.com/%0Aalert(1)",
            "data:text/html,hi",
            "ftp://example.com/a",
            "//example.com/a",
            "https://",
            "https:///path",
            "http://?q",
            "http://#x",
            "https://exa mple.com",
            "https://example.com/\n",
            "https://例子.cn/a",
            " https://example.com",
            "https:/example.com",
            "",
        ] {
            assert!(!is_web_url(bad), "{bad:?}");
        }
    }

    fn create(json: serde_json::Value) -> BulletinCreate {
        serde_json::from_value(json).expect("create")
    }

    fn minimal() -> serde_json::Value {
        serde_json::json!({"title": "Q3 pricing", "body": "**new** prices", "category": "product", "audience": {"all": true}})
    }

    fn failed_fields(err: ApiError) -> Vec<String> {
        err.errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn body_is_limited_to_64_kib_of_utf8() {
        let now = Utc::now();
        let mut input = create(minimal());
        input.body = "a".repeat(MAX_BODY_BYTES);
        assert!(input.validate(now).is_ok());
        input.body.push('a');
        assert_eq!(failed_fields(input.validate(now).unwrap_err()), ["body"]);
        // 21,846 CJK characters are fewer than 65,536 characters but 65,538 bytes.
        input.body = "渠".repeat(21_846);
        assert_eq!(failed_fields(input.validate(now).unwrap_err()), ["body"]);
        input.body = "渠".repeat(21_845);
        assert!(input.validate(now).is_ok());
        input.body = " \n\t".into();
        assert_eq!(failed_fields(input.validate(now).unwrap_err()), ["body"]);
    }

    #[test]
    fn expiry_must_be_in_the_future_and_fields_are_named() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
        let mut input = create(minimal());
        input.expires_at = Some(now - Duration::seconds(1));
        assert_eq!(failed_fields(input.validate(now).unwrap_err()), ["expires_at"]);
        input.expires_at = Some(now + Duration::days(7));
        assert!(input.validate(now).is_ok());
        input.attachments = vec![
            AttachmentRequest { name: "deck".into(), url: "https://example.com/deck.pdf".into() },
            AttachmentRequest { name: " ".into(), url: "javascript:alert(1)".into() },
        ];
        input.title = String::new();
        assert_eq!(
            failed_fields(input.validate(now).unwrap_err()),
            ["title", "attachments[1].name", "attachments[1].url"]
        );
        let patch: BulletinUpdate = serde_json::from_value(serde_json::json!({"expires_at": null})).unwrap();
        assert!(patch.validate(now).is_ok(), "clearing the expiry is always fine");
        let patch: BulletinUpdate =
            serde_json::from_value(serde_json::json!({"expires_at": "2026-12-01T07:00:00Z", "audience": {}})).unwrap();
        assert_eq!(failed_fields(patch.validate(now).unwrap_err()), ["audience", "expires_at"]);
    }

    fn sample() -> Bulletin {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
        Bulletin {
            id: "0192f0c4-3b9e-7c1a-8f00-000000000001".into(),
            title: "t".into(),
            body: "b".into(),
            category: Category::Market,
            importance: Importance::Normal,
            audience: Some(Audience { all: true, ..Default::default() }),
            attachments: vec![],
            pinned: false,
            expires_at: None,
            status: BulletinStatus::Published,
            recipient_count: Some(3),
            published_at: Some(now),
            archived_at: None,
            read_at: None,
            version: 2,
            created_at: now - Duration::hours(1),
            updated_at: now,
        }
    }

    #[test]
    fn a_published_bulletin_keeps_its_content() {
        let current = sample();
        let patch: BulletinUpdate = serde_json::from_value(serde_json::json!({
            "pinned": true, "expires_at": "2030-01-01T00:00:00Z", "title": "t"
        }))
        .unwrap();
        assert!(locked_changes(&current, &patch.apply(&current)).is_empty(), "same title is no change");
        let patch: BulletinUpdate = serde_json::from_value(serde_json::json!({
            "body": "changed", "importance": "urgent", "audience": {"tiers": ["key"]},
            "attachments": [{"name": "x", "url": "https://x.example"}]
        }))
        .unwrap();
        assert_eq!(locked_changes(&current, &patch.apply(&current)), ["body", "importance", "audience", "attachments"]);
    }

    #[test]
    fn status_moves_forward_only() {
        use BulletinStatus::*;
        for from in BulletinStatus::ALL {
            for to in BulletinStatus::ALL {
                let allowed = matches!((from, to), (Draft, Published) | (Published, Archived));
                assert_eq!(from.can_move_to(*to), allowed, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn partners_see_neither_audience_nor_counts() {
        let seen = sample().for_partner(None);
        let json = serde_json::to_value(&seen).unwrap();
        assert!(json.get("audience").is_none());
        assert!(json.get("recipient_count").is_none());
        assert_eq!(json["read_at"], serde_json::Value::Null);
        let staff = serde_json::to_value(sample()).unwrap();
        assert!(staff.get("read_at").is_none(), "staff views carry no read_at");
        assert_eq!(staff["recipient_count"], 3);
    }

    #[test]
    fn sort_keys_round_trip_through_cursors() {
        let mut draft = sample();
        draft.published_at = None;
        draft.pinned = true;
        let key = draft.sort_key();
        assert_eq!(key.at, draft.created_at.naive_utc(), "drafts sort by creation time");
        assert_eq!(SortKey::parse(&key.parts()).unwrap(), key);
        let key = sample().sort_key();
        assert_eq!(key.parts()[1], "2026-12-01T08:00:00.000000");
        assert_eq!(SortKey::parse(&key.parts()).unwrap(), key);
        for bad in [
            vec!["2".to_string(), key.parts()[1].clone(), key.id.clone()],
            vec!["1".to_string(), "yesterday".into(), key.id.clone()],
            vec!["1".to_string(), key.parts()[1].clone(), "x".into()],
            vec!["1".to_string()],
        ] {
            assert_eq!(SortKey::parse(&bad).unwrap_err().errors[0].field, "cursor");
        }
    }

    /// Every character as a `\uXXXX` escape: the largest JSON a client can send for a value.
    fn escaped(s: &str) -> String {
        let mut out = String::from("\"");
        for unit in s.encode_utf16() {
            out.push_str(&format!("\\u{unit:04x}"));
        }
        out.push('"');
        out
    }

    #[test]
    fn the_largest_valid_bulletin_fits_the_default_body_limit() {
        let uuid = |i: usize| format!("0192f0c4-3b9e-7c1a-8f00-{i:012}");
        let emoji = |i: usize| char::from_u32(0x1F600 + i as u32).unwrap_or('😀');
        let list = |items: Vec<String>| format!("[{}]", items.join(","));
        let attachments: Vec<String> = (0..MAX_ATTACHMENTS)
            .map(|i| {
                let url = format!("https://e.example/{}", "a".repeat(MAX_URL - 18 - 1)) + &i.to_string();
                format!(r#"{{"name":{},"url":{}}}"#, escaped(&emoji(i).to_string().repeat(200)), escaped(&url))
            })
            .collect();
        let json = format!(
            r#"{{"title":{},"body":{},"category":"market","importance":"urgent","audience":{{"all":true,"tiers":["strategic","key","standard","probation"],"regions":{},"channel_types":["direct","indirect"],"partner_ids":{}}},"attachments":{},"pinned":true,"expires_at":"2999-12-31T23:59:59.999999Z"}}"#,
            escaped(&"😀".repeat(MAX_TITLE)),
            escaped(&"a".repeat(MAX_BODY_BYTES)),
            list((0..MAX_AUDIENCE_REGIONS).map(|i| escaped(&emoji(i).to_string().repeat(100))).collect()),
            list((0..MAX_AUDIENCE_PARTNERS).map(|i| escaped(&uuid(i))).collect()),
            list(attachments),
        );
        let input: BulletinCreate = crate::http::extract::parse_json(json.as_bytes()).expect("parses");
        input.validate(Utc::now()).expect("the largest bulletin is valid");
        assert_eq!(input.body.len(), MAX_BODY_BYTES);
        let limit = crate::config::Config::from_lookup(|_| None).expect("defaults").body_limit_bytes;
        assert!(json.len() < limit, "{} bytes do not fit the default limit of {limit}", json.len());
    }
}
