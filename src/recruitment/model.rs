//! Recruitment campaigns (新渠道拓展): trade shows, seminars, online marketing, partnerships and
//! referrals that bring in new partners, and the funnel that says how well each did. Wire types,
//! field rules and the funnel's arithmetic, pure and unit-tested.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::types::{DateText, UtcTime};
use crate::error::ApiError;
use crate::partners::model::{nullable, PartnerSource};
use crate::validation::{Check, MAX_LONG_TEXT, MAX_SHORT_TEXT};

crate::record!(Campaign);

crate::text_enum! {
    /// 展会 trade_show · 研讨会 seminar · 网络营销 online_marketing · 合作伙伴计划 partnership ·
    /// 推荐 referral · 其他 other.
    CampaignKind {
        TradeShow => "trade_show", Seminar => "seminar", OnlineMarketing => "online_marketing",
        Partnership => "partnership", Referral => "referral", Other => "other",
    }
}

impl CampaignKind {
    /// The partner `source` a partner recruited by such a campaign has.
    pub fn source(self) -> PartnerSource {
        match self {
            CampaignKind::TradeShow => PartnerSource::TradeShow,
            CampaignKind::Seminar => PartnerSource::Seminar,
            CampaignKind::OnlineMarketing => PartnerSource::OnlineMarketing,
            CampaignKind::Partnership => PartnerSource::Partnership,
            CampaignKind::Referral => PartnerSource::Referral,
            CampaignKind::Other => PartnerSource::Other,
        }
    }
}

pub const DEFAULT_CURRENCY: &str = "CNY";
/// The largest amount in minor units (10^15 fen is ten trillion yuan).
pub const MAX_MINOR: i64 = 1_000_000_000_000_000;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::recruitment_campaigns, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub kind: CampaignKind,
    #[diesel(serialize_as = DateText)]
    pub starts_on: NaiveDate,
    /// Last day; null = still running.
    #[diesel(serialize_as = DateText)]
    pub ends_on: Option<NaiveDate>,
    pub region: Option<String>,
    /// What the campaign cost, in minor units (fen for CNY) of `currency`.
    pub cost_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    pub notes: Option<String>,
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
    /// Set when the campaign was deleted: hidden from lists; its partners keep the link.
    #[diesel(serialize_as = UtcTime)]
    pub archived_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignCreate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: CampaignKind,
    pub starts_on: NaiveDate,
    /// Not before `starts_on`; absent = still running.
    pub ends_on: Option<NaiveDate>,
    #[schema(min_length = 1, max_length = 200)]
    pub region: Option<String>,
    /// Minor units, 0–10^15; default 0.
    #[serde(default, deserialize_with = "crate::contracts::whole::opt")]
    #[schema(minimum = 0, maximum = 1e15)]
    pub cost_minor: Option<i64>,
    /// ISO 4217 code (three capital letters), default CNY.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[schema(min_length = 1, max_length = 10000)]
    pub notes: Option<String>,
}

/// A JSON merge patch: absent fields stay, `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignUpdate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub kind: Option<CampaignKind>,
    pub starts_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "nullable")]
    pub ends_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 200)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::contracts::whole::opt")]
    #[schema(minimum = 0, maximum = 1e15)]
    pub cost_minor: Option<i64>,
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 10000)]
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignFilter {
    pub kind: Option<CampaignKind>,
    #[param(min_length = 1, max_length = 200)]
    pub region: Option<String>,
}

impl CampaignFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.opt_text("region", self.region.as_deref(), MAX_SHORT_TEXT);
        c.finish()
    }
}

/// Every field of a campaign as it will be stored, checked as a whole (create and patch alike, so
/// a patched `ends_on` is compared with the stored `starts_on`).
fn check(campaign: &Campaign) -> Result<(), ApiError> {
    let mut c = Check::new();
    c.text("name", &campaign.name, 1, MAX_SHORT_TEXT);
    c.date("starts_on", Some(campaign.starts_on));
    c.date("ends_on", campaign.ends_on);
    if campaign.ends_on.is_some_and(|end| end < campaign.starts_on) {
        c.add("ends_on", format!("must not be before starts_on {}", campaign.starts_on));
    }
    c.opt_text("region", campaign.region.as_deref(), MAX_SHORT_TEXT);
    c.range("cost_minor", Some(campaign.cost_minor), 0, MAX_MINOR);
    if campaign.currency.len() != 3 || !campaign.currency.chars().all(|ch| ch.is_ascii_uppercase()) {
        c.add("currency", "must be an ISO 4217 currency code: three capital letters such as CNY");
    }
    c.opt_text("notes", campaign.notes.as_deref(), MAX_LONG_TEXT);
    c.finish()
}

impl CampaignCreate {
    /// The campaign this input makes, or 422 naming each bad field.
    pub fn to_campaign(&self, id: String, now: DateTime<Utc>) -> Result<Campaign, ApiError> {
        let campaign = Campaign {
            id,
            name: self.name.clone(),
            kind: self.kind,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            region: self.region.clone(),
            cost_minor: self.cost_minor.unwrap_or(0),
            currency: self.currency.clone().unwrap_or_else(|| DEFAULT_CURRENCY.to_string()),
            notes: self.notes.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        check(&campaign)?;
        Ok(campaign)
    }
}

impl CampaignUpdate {
    /// The campaign after the patch, or 422 naming each bad field.
    pub fn apply(&self, current: &Campaign) -> Result<Campaign, ApiError> {
        let mut next = current.clone();
        if let Some(v) = &self.name {
            next.name = v.clone();
        }
        if let Some(v) = self.kind {
            next.kind = v;
        }
        if let Some(v) = self.starts_on {
            next.starts_on = v;
        }
        if let Some(v) = self.ends_on {
            next.ends_on = v;
        }
        if let Some(v) = self.cost_minor {
            next.cost_minor = v;
        }
        if let Some(v) = &self.currency {
            next.currency = v.clone();
        }
        for (patch, field) in [(&self.region, &mut next.region), (&self.notes, &mut next.notes)] {
            if let Some(v) = patch {
                *field = v.clone();
            }
        }
        check(&next)?;
        Ok(next)
    }
}

// ---- the funnel ----

/// How a campaign's partners (current ones, archived excluded) stand now, and what it took.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Funnel {
    pub campaign_id: String,
    /// Every current partner the campaign brought in.
    pub recruited: i64,
    /// Still `prospect`.
    pub prospects: i64,
    /// Still `onboarding`.
    pub onboarding: i64,
    /// `active` now.
    pub active: i64,
    pub suspended: i64,
    pub terminated: i64,
    /// `active` / `recruited` in basis points, rounded half up; 0 when nobody was recruited.
    pub conversion_bp: i64,
    pub cost_minor: i64,
    pub currency: String,
    /// `cost_minor` / `active`, rounded half up; null when no partner is active.
    pub cost_per_active_minor: Option<i64>,
    /// The median, in days (one decimal), from a partner's `created_at` to its `activated_at`
    /// (the first time it became active), over the recruited partners that ever became active;
    /// null when none did.
    pub median_days_to_active: Option<f64>,
}

/// Partners per status, as the store counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub prospects: i64,
    pub onboarding: i64,
    pub active: i64,
    pub suspended: i64,
    pub terminated: i64,
}

/// `a / b` rounded half up, for non-negative `a` and positive `b`.
fn div_half_up(a: i64, b: i64) -> i64 {
    let (a, b) = (i128::from(a), i128::from(b));
    i64::try_from((2 * a + b) / (2 * b)).unwrap_or(i64::MAX)
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 0 { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] })
}

impl Funnel {
    /// The funnel of `campaign` from its partners' counts and, for those that became active, when
    /// they were created and activated.
    pub fn compute(campaign: &Campaign, counts: StatusCounts, activations: &[(DateTime<Utc>, DateTime<Utc>)]) -> Self {
        let recruited = counts.prospects + counts.onboarding + counts.active + counts.suspended + counts.terminated;
        let days: Vec<f64> = activations
            .iter()
            .map(|(created, activated)| (*activated - *created).num_seconds().max(0) as f64 / 86_400.0)
            .collect();
        Funnel {
            campaign_id: campaign.id.clone(),
            recruited,
            prospects: counts.prospects,
            onboarding: counts.onboarding,
            active: counts.active,
            suspended: counts.suspended,
            terminated: counts.terminated,
            conversion_bp: if recruited == 0 { 0 } else { div_half_up(counts.active * 10_000, recruited) },
            cost_minor: campaign.cost_minor,
            currency: campaign.currency.clone(),
            cost_per_active_minor: (counts.active > 0).then(|| div_half_up(campaign.cost_minor, counts.active)),
            median_days_to_active: median(days).map(|d| (d * 10.0).round() / 10.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn campaign(cost_minor: i64) -> Campaign {
        let input = CampaignCreate {
            name: "2026 上海渠道招募展".into(),
            kind: CampaignKind::TradeShow,
            starts_on: day("2026-03-01"),
            ends_on: Some(day("2026-03-03")),
            region: Some("华东".into()),
            cost_minor: Some(cost_minor),
            currency: None,
            notes: None,
        };
        input.to_campaign("c".into(), Utc::now()).unwrap()
    }

    #[test]
    fn every_campaign_kind_is_a_partner_source_and_inbound_is_the_one_more() {
        let sources: Vec<&str> = CampaignKind::ALL.iter().map(|k| k.source().as_str()).collect();
        let kinds: Vec<&str> = CampaignKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(sources, kinds);
        let mut all: Vec<&str> = PartnerSource::ALL.iter().map(|s| s.as_str()).collect();
        all.retain(|s| !kinds.contains(s));
        assert_eq!(all, ["inbound"]);
    }

    #[test]
    fn ends_on_may_not_precede_starts_on_also_after_a_patch() {
        let c = campaign(0);
        assert_eq!(c.currency, "CNY");
        let patch = CampaignUpdate { starts_on: Some(day("2026-03-04")), ..Default::default() };
        assert_eq!(patch.apply(&c).unwrap_err().errors[0].field, "ends_on");
        let patch: CampaignUpdate = serde_json::from_str(r#"{"ends_on": null, "starts_on": "2026-03-04"}"#).unwrap();
        assert_eq!(patch.apply(&c).unwrap().ends_on, None, "an open-ended campaign");
        let patch = CampaignUpdate { cost_minor: Some(-1), currency: Some("rmb".into()), ..Default::default() };
        let fields: Vec<_> = patch.apply(&c).unwrap_err().errors.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["cost_minor", "currency"]);
    }

    #[test]
    fn funnel_rounds_half_up_and_has_no_cost_per_active_without_actives() {
        let counts = StatusCounts { prospects: 3, onboarding: 2, active: 2, suspended: 0, terminated: 1 };
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let activations = [
            (t("2026-03-01T00:00:00Z"), t("2026-03-11T00:00:00Z")),
            (t("2026-03-01T00:00:00Z"), t("2026-03-31T12:00:00Z")),
            (t("2026-03-02T00:00:00Z"), t("2026-03-22T00:00:00Z")),
        ];
        let f = Funnel::compute(&campaign(1_000_001), counts, &activations);
        assert_eq!(f.recruited, 8);
        assert_eq!(f.conversion_bp, 2_500);
        assert_eq!(f.cost_per_active_minor, Some(500_001), "1000001 / 2 = 500000.5 → 500001");
        assert_eq!(f.median_days_to_active, Some(20.0));
        let even = Funnel::compute(&campaign(0), counts, &activations[..2]);
        assert_eq!(even.median_days_to_active, Some(20.3), "(10 + 30.5) / 2 = 20.25 → 20.3");
        let none = Funnel::compute(&campaign(5), StatusCounts { prospects: 3, ..Default::default() }, &[]);
        assert_eq!((none.conversion_bp, none.cost_per_active_minor, none.median_days_to_active), (0, None, None));
        let empty = Funnel::compute(&campaign(5), StatusCounts::default(), &[]);
        assert_eq!(empty.conversion_bp, 0);
        assert_eq!(div_half_up(2, 3), 1);
        assert_eq!(div_half_up(1, 3), 0);
    }
}
