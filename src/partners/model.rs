//! Partners (渠道成员) and contacts: wire types that are also their diesel rows, the enums of
//! channel type, kind, tier and status, and the validation rules.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::types::{JsonText, UtcTime};
use crate::error::ApiError;
use crate::validation::{Check, MAX_LONG_TEXT, MAX_SHORT_TEXT};

crate::record!(Partner, Contact);

crate::text_enum! {
    /// 直接渠道 direct (own sales team, telesales, online direct) or 间接渠道 indirect (agents,
    /// distributors, wholesalers, resellers).
    ChannelType { Direct => "direct", Indirect => "indirect" }
}

crate::text_enum! {
    PartnerKind {
        SalesTeam => "sales_team", Telesales => "telesales", OnlineDirect => "online_direct",
        Agent => "agent", Distributor => "distributor", Wholesaler => "wholesaler",
        Reseller => "reseller", Other => "other",
    }
}

crate::text_enum! {
    Tier { Strategic => "strategic", Key => "key", Standard => "standard", Probation => "probation" }
}

crate::text_enum! {
    /// prospect → onboarding → active ⇄ suspended; any state → terminated (final).
    PartnerStatus {
        Prospect => "prospect", Onboarding => "onboarding", Active => "active",
        Suspended => "suspended", Terminated => "terminated",
    }
}

crate::text_enum! {
    /// How the partner came to us (新渠道拓展): through a recruitment campaign of one of these kinds
    /// (`campaign_id` names it), or `inbound` (it approached us itself).
    PartnerSource {
        TradeShow => "trade_show", Seminar => "seminar", OnlineMarketing => "online_marketing",
        Partnership => "partnership", Referral => "referral", Other => "other", Inbound => "inbound",
    }
}

impl PartnerKind {
    /// The channel type a kind belongs to; `other` fits either.
    pub fn channel_type(self) -> Option<ChannelType> {
        match self {
            PartnerKind::SalesTeam | PartnerKind::Telesales | PartnerKind::OnlineDirect => Some(ChannelType::Direct),
            PartnerKind::Agent | PartnerKind::Distributor | PartnerKind::Wholesaler | PartnerKind::Reseller => {
                Some(ChannelType::Indirect)
            }
            PartnerKind::Other => None,
        }
    }
}

impl PartnerStatus {
    pub fn can_move_to(self, to: PartnerStatus) -> bool {
        use PartnerStatus::*;
        matches!((self, to), (Prospect, Onboarding) | (Onboarding, Active) | (Active, Suspended) | (Suspended, Active))
            || (to == Terminated && self != Terminated)
    }
}

// The API's view is also the row; the store writes `name_key` (the normalised name that the
// uniqueness rule compares) beside it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::partners, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Partner {
    pub id: String,
    pub name: String,
    pub channel_type: ChannelType,
    pub kind: PartnerKind,
    pub tier: Tier,
    pub status: PartnerStatus,
    pub region: Option<String>,
    #[diesel(serialize_as = JsonText)]
    pub territories: Vec<String>,
    #[diesel(serialize_as = JsonText)]
    pub industries: Vec<String>,
    pub owner: Option<String>,
    #[diesel(serialize_as = UtcTime)]
    pub next_review_at: Option<DateTime<Utc>>,
    pub notes: Option<String>,
    /// How the partner came to us.
    pub source: Option<PartnerSource>,
    /// The recruitment campaign that brought the partner in.
    pub campaign_id: Option<String>,
    /// When the partner first became `active` (kept when it is later suspended or terminated;
    /// the recruitment funnel measures time to active from it). Set by the service.
    #[diesel(serialize_as = UtcTime)]
    pub activated_at: Option<DateTime<Utc>>,
    /// Grows by one with every change; the `ETag` is this number in quotes.
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
    /// Set when the partner was deleted: hidden from lists, kept for history.
    #[diesel(serialize_as = UtcTime)]
    pub archived_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerCreate {
    /// 1–200 characters, unique among current partners ignoring case, width (全角/半角), invisible characters and surrounding spaces.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub channel_type: ChannelType,
    pub kind: PartnerKind,
    /// Defaults to `standard`.
    pub tier: Option<Tier>,
    #[schema(min_length = 1, max_length = 200)]
    pub region: Option<String>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub territories: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub industries: Vec<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub owner: Option<String>,
    pub next_review_at: Option<DateTime<Utc>>,
    #[schema(min_length = 1, max_length = 10000)]
    pub notes: Option<String>,
    pub source: Option<PartnerSource>,
    /// A current recruitment campaign.
    #[schema(format = Uuid)]
    pub campaign_id: Option<String>,
}

/// A JSON merge patch: absent fields stay, `null` clears an optional field. `status` moves the
/// partner along its lifecycle.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerUpdate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub channel_type: Option<ChannelType>,
    pub kind: Option<PartnerKind>,
    pub tier: Option<Tier>,
    pub status: Option<PartnerStatus>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 200)]
    pub region: Option<Option<String>>,
    #[schema(max_items = 100)]
    pub territories: Option<Vec<String>>,
    #[schema(max_items = 50)]
    pub industries: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 200)]
    pub owner: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub next_review_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 10000)]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub source: Option<Option<PartnerSource>>,
    /// A current recruitment campaign; `null` unlinks it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(format = Uuid)]
    pub campaign_id: Option<Option<String>>,
}

/// Tells `"field": null` (clear it) from an absent field (keep it) in a merge patch.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartnerFilter {
    pub status: Option<PartnerStatus>,
    pub tier: Option<Tier>,
    pub channel_type: Option<ChannelType>,
    pub kind: Option<PartnerKind>,
    #[param(min_length = 1, max_length = 200)]
    pub region: Option<String>,
    /// Partners whose territories include this one.
    #[param(min_length = 1, max_length = 100)]
    pub territory: Option<String>,
    #[param(min_length = 1, max_length = 200)]
    pub owner: Option<String>,
    /// Text search over the name (case-insensitive substring).
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
    pub source: Option<PartnerSource>,
    /// Partners brought in by this recruitment campaign.
    #[param(format = Uuid)]
    pub campaign_id: Option<String>,
}

impl PartnerFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        check_campaign_id(&mut c, self.campaign_id.as_deref());
        c.opt_text("region", self.region.as_deref(), MAX_SHORT_TEXT);
        c.opt_text("territory", self.territory.as_deref(), 100);
        c.opt_text("owner", self.owner.as_deref(), MAX_SHORT_TEXT);
        c.opt_text("q", self.q.as_deref(), MAX_SHORT_TEXT);
        c.finish()
    }
}

/// The fields both create and update write, checked the same way.
fn check_common(
    c: &mut Check,
    name: Option<&str>,
    region: Option<&str>,
    territories: Option<&[String]>,
    industries: Option<&[String]>,
    owner: Option<&str>,
    notes: Option<&str>,
) {
    if let Some(name) = name {
        c.text("name", name, 1, MAX_SHORT_TEXT);
    }
    c.opt_text("region", region, MAX_SHORT_TEXT);
    if let Some(t) = territories {
        c.labels("territories", t, 0, 100);
    }
    if let Some(i) = industries {
        c.labels("industries", i, 0, 50);
    }
    c.opt_text("owner", owner, MAX_SHORT_TEXT);
    c.opt_text("notes", notes, MAX_LONG_TEXT);
}

fn check_campaign_id(c: &mut Check, id: Option<&str>) {
    if id.is_some_and(|id| uuid::Uuid::parse_str(id).is_err()) {
        c.add("campaign_id", "must be a recruitment campaign id (UUID)");
    }
}

fn check_kind(c: &mut Check, channel_type: ChannelType, kind: PartnerKind) {
    if let Some(expected) = kind.channel_type() {
        if expected != channel_type {
            c.add("kind", format!("{kind} is a {expected} channel, not {channel_type}"));
        }
    }
}

impl PartnerCreate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        check_common(
            &mut c,
            Some(&self.name),
            self.region.as_deref(),
            Some(&self.territories),
            Some(&self.industries),
            self.owner.as_deref(),
            self.notes.as_deref(),
        );
        check_kind(&mut c, self.channel_type, self.kind);
        check_campaign_id(&mut c, self.campaign_id.as_deref());
        c.finish()
    }
}

impl PartnerUpdate {
    /// Validates the patch against the partner it applies to.
    pub fn validate(&self, current: &Partner) -> Result<(), ApiError> {
        let mut c = Check::new();
        check_common(
            &mut c,
            self.name.as_deref(),
            self.region.as_ref().and_then(|r| r.as_deref()),
            self.territories.as_deref(),
            self.industries.as_deref(),
            self.owner.as_ref().and_then(|o| o.as_deref()),
            self.notes.as_ref().and_then(|n| n.as_deref()),
        );
        check_campaign_id(&mut c, self.campaign_id.clone().flatten().as_deref());
        if self.channel_type.is_some() || self.kind.is_some() {
            check_kind(&mut c, self.channel_type.unwrap_or(current.channel_type), self.kind.unwrap_or(current.kind));
        }
        c.finish()
    }

    /// The partner after the patch (status moves are checked by the caller).
    pub fn apply(&self, current: &Partner) -> Partner {
        let mut p = current.clone();
        if let Some(v) = &self.name {
            p.name = v.clone();
        }
        if let Some(v) = self.channel_type {
            p.channel_type = v;
        }
        if let Some(v) = self.kind {
            p.kind = v;
        }
        if let Some(v) = self.tier {
            p.tier = v;
        }
        if let Some(v) = self.status {
            p.status = v;
        }
        if let Some(v) = &self.region {
            p.region = v.clone();
        }
        if let Some(v) = &self.territories {
            p.territories = v.clone();
        }
        if let Some(v) = &self.industries {
            p.industries = v.clone();
        }
        if let Some(v) = &self.owner {
            p.owner = v.clone();
        }
        if let Some(v) = &self.next_review_at {
            p.next_review_at = *v;
        }
        if let Some(v) = &self.notes {
            p.notes = v.clone();
        }
        if let Some(v) = self.source {
            p.source = v;
        }
        if let Some(v) = &self.campaign_id {
            p.campaign_id = v.as_ref().map(|id| id.to_ascii_lowercase());
        }
        p
    }
}

/// The key that makes names unique ignoring case (Unicode-aware, surrounding spaces ignored).
pub fn name_key(name: &str) -> String {
    crate::validation::comparison_key(name)
}

// ---- contacts ----

#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::partner_contacts, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Contact {
    pub id: String,
    pub partner_id: String,
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// WeCom (企业微信) userid, for @mentions and chat commands.
    pub wecom_userid: Option<String>,
    /// DingTalk (钉钉) userid, for @mentions and chat commands.
    pub dingtalk_userid: Option<String>,
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactCreate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[schema(pattern = r"^[0-9+() -]*[0-9][0-9+() -]*$", min_length = 3, max_length = 32)]
    pub phone: Option<String>,
    #[schema(format = Email, min_length = 3, max_length = 254)]
    pub email: Option<String>,
    #[schema(pattern = r"^[!-~]{1,64}$")]
    pub wecom_userid: Option<String>,
    #[schema(pattern = r"^[!-~]{1,64}$")]
    pub dingtalk_userid: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactUpdate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(pattern = r"^[0-9+() -]*[0-9][0-9+() -]*$", min_length = 3, max_length = 32)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(format = Email, min_length = 3, max_length = 254)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(pattern = r"^[!-~]{1,64}$")]
    pub wecom_userid: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(pattern = r"^[!-~]{1,64}$")]
    pub dingtalk_userid: Option<Option<String>>,
}

fn check_contact(
    c: &mut Check,
    name: Option<&str>,
    title: Option<&str>,
    phone: Option<&str>,
    email: Option<&str>,
    wecom: Option<&str>,
    dingtalk: Option<&str>,
) {
    if let Some(name) = name {
        c.text("name", name, 1, MAX_SHORT_TEXT);
    }
    c.opt_text("title", title, MAX_SHORT_TEXT);
    c.phone("phone", phone);
    c.email("email", email);
    c.userid("wecom_userid", wecom);
    c.userid("dingtalk_userid", dingtalk);
}

impl ContactCreate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        check_contact(
            &mut c,
            Some(&self.name),
            self.title.as_deref(),
            self.phone.as_deref(),
            self.email.as_deref(),
            self.wecom_userid.as_deref(),
            self.dingtalk_userid.as_deref(),
        );
        c.finish()
    }
}

impl ContactUpdate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        let inner = |v: &Option<Option<String>>| v.as_ref().and_then(|x| x.as_deref().map(str::to_string));
        check_contact(
            &mut c,
            self.name.as_deref(),
            inner(&self.title).as_deref(),
            inner(&self.phone).as_deref(),
            inner(&self.email).as_deref(),
            inner(&self.wecom_userid).as_deref(),
            inner(&self.dingtalk_userid).as_deref(),
        );
        c.finish()
    }

    pub fn apply(&self, current: &Contact) -> Contact {
        let mut c = current.clone();
        if let Some(v) = &self.name {
            c.name = v.clone();
        }
        for (patch, field) in [
            (&self.title, &mut c.title),
            (&self.phone, &mut c.phone),
            (&self.email, &mut c.email),
            (&self.wecom_userid, &mut c.wecom_userid),
            (&self.dingtalk_userid, &mut c.dingtalk_userid),
        ] {
            if let Some(v) = patch {
                *field = v.clone();
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::PartnerStatus::*;
    use super::*;

    #[test]
    fn status_machine_follows_the_design() {
        let allowed = [
            (Prospect, Onboarding),
            (Onboarding, Active),
            (Active, Suspended),
            (Suspended, Active),
            (Prospect, Terminated),
            (Onboarding, Terminated),
            (Active, Terminated),
            (Suspended, Terminated),
        ];
        for from in PartnerStatus::ALL {
            for to in PartnerStatus::ALL {
                assert_eq!(from.can_move_to(*to), allowed.contains(&(*from, *to)), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn kind_must_fit_channel_type() {
        let mut input = PartnerCreate {
            name: "华东代理".into(),
            channel_type: ChannelType::Direct,
            kind: PartnerKind::Agent,
            tier: None,
            region: None,
            territories: vec![],
            industries: vec![],
            owner: None,
            next_review_at: None,
            notes: None,
            source: None,
            campaign_id: None,
        };
        assert_eq!(input.validate().unwrap_err().errors[0].field, "kind");
        input.channel_type = ChannelType::Indirect;
        assert!(input.validate().is_ok());
        input.kind = PartnerKind::Other;
        input.channel_type = ChannelType::Direct;
        assert!(input.validate().is_ok());
    }

    #[test]
    fn names_compare_ignoring_case_and_outer_spaces() {
        assert_eq!(name_key(" Acme 渠道 "), name_key("ACME 渠道"));
        assert_ne!(name_key("Acme"), name_key("Acme2"));
    }
}
