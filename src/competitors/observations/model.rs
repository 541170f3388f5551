//! What was seen of a competitor's channels at one time and place: where (`region`), through which
//! channel (`channel_type`, `kind`, the same sets as partners'), with whom (`partner_names`), how
//! big (`market_share_bp`), how priced, with what strategy, when (`observed_on`) and from which
//! source. The market-share view reads each competitor's latest observation per region.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::types::{DateText, JsonText, UtcTime};
use crate::error::ApiError;
use crate::partners::model::{nullable, ChannelType, PartnerKind};
use crate::validation::{Check, MAX_LONG_TEXT, MAX_SHORT_TEXT};

crate::record!(Observation);

crate::text_enum! {
    /// Where the competitor's prices sit against ours: below, at par, above.
    PricePosition { Below => "below", Par => "par", Above => "above" }
}

/// 100% in basis points.
pub const FULL_SHARE_BP: i64 = 10_000;
pub const MAX_PARTNER_NAMES: usize = 100;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::competitor_observations, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Observation {
    pub id: String,
    pub competitor_id: String,
    pub region: Option<String>,
    pub channel_type: Option<ChannelType>,
    pub kind: Option<PartnerKind>,
    /// The partners (distributors, agents …) the competitor works with there.
    #[diesel(serialize_as = JsonText)]
    pub partner_names: Vec<String>,
    /// The competitor's share of that market, in basis points (0–10000).
    pub market_share_bp: Option<i64>,
    pub price_position: Option<PricePosition>,
    pub strategy: Option<String>,
    /// The day the observation holds for.
    #[diesel(serialize_as = DateText)]
    pub observed_on: NaiveDate,
    /// Where it comes from (a report, a visit, a partner's word …).
    pub source: Option<String>,
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservationCreate {
    #[schema(min_length = 1, max_length = 200)]
    pub region: Option<String>,
    /// When absent it follows from `kind` (agents, distributors … are indirect).
    pub channel_type: Option<ChannelType>,
    /// Must belong to `channel_type` when both are given (`other` fits either).
    pub kind: Option<PartnerKind>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub partner_names: Vec<String>,
    #[schema(minimum = 0, maximum = 10000)]
    pub market_share_bp: Option<i64>,
    pub price_position: Option<PricePosition>,
    #[schema(min_length = 1, max_length = 10000)]
    pub strategy: Option<String>,
    pub observed_on: NaiveDate,
    #[schema(min_length = 1, max_length = 200)]
    pub source: Option<String>,
}

/// A JSON merge patch: absent fields stay, `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservationUpdate {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 200)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub channel_type: Option<Option<ChannelType>>,
    #[serde(default, deserialize_with = "nullable")]
    pub kind: Option<Option<PartnerKind>>,
    #[schema(max_items = 100)]
    pub partner_names: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(minimum = 0, maximum = 10000)]
    pub market_share_bp: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub price_position: Option<Option<PricePosition>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 10000)]
    pub strategy: Option<Option<String>>,
    pub observed_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 200)]
    pub source: Option<Option<String>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ObservationFilter {
    #[param(min_length = 1, max_length = 200)]
    pub region: Option<String>,
    pub channel_type: Option<ChannelType>,
    pub kind: Option<PartnerKind>,
    pub price_position: Option<PricePosition>,
    /// Observed on or after this day.
    pub observed_from: Option<NaiveDate>,
    /// Observed on or before this day.
    pub observed_to: Option<NaiveDate>,
}

impl ObservationFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.opt_text("region", self.region.as_deref(), MAX_SHORT_TEXT);
        c.date("observed_from", self.observed_from);
        c.date("observed_to", self.observed_to);
        c.finish()
    }
}

/// Every field of an observation as it will be stored, checked as a whole (create and patch alike).
fn check(c: &mut Check, o: &Observation) {
    c.opt_text("region", o.region.as_deref(), MAX_SHORT_TEXT);
    if let (Some(kind), Some(channel_type)) = (o.kind, o.channel_type) {
        if let Some(expected) = kind.channel_type().filter(|t| *t != channel_type) {
            c.add("kind", format!("{kind} is a {expected} channel, not {channel_type}"));
        }
    }
    c.labels("partner_names", &o.partner_names, 0, MAX_PARTNER_NAMES);
    c.range("market_share_bp", o.market_share_bp, 0, FULL_SHARE_BP);
    c.opt_text("strategy", o.strategy.as_deref(), MAX_LONG_TEXT);
    c.date("observed_on", Some(o.observed_on));
    c.opt_text("source", o.source.as_deref(), MAX_SHORT_TEXT);
}

impl ObservationCreate {
    /// The observation this input makes (ids and times are the store's), or 422 naming each bad field.
    pub fn to_observation(&self, id: String, competitor_id: &str, now: DateTime<Utc>) -> Result<Observation, ApiError> {
        let observation = Observation {
            id,
            competitor_id: competitor_id.to_string(),
            region: self.region.clone(),
            channel_type: self.channel_type.or_else(|| self.kind.and_then(PartnerKind::channel_type)),
            kind: self.kind,
            partner_names: self.partner_names.clone(),
            market_share_bp: self.market_share_bp,
            price_position: self.price_position,
            strategy: self.strategy.clone(),
            observed_on: self.observed_on,
            source: self.source.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut c = Check::new();
        check(&mut c, &observation);
        c.finish()?;
        Ok(observation)
    }
}

impl ObservationUpdate {
    /// The observation after the patch, or 422 naming each bad field (the result is checked whole,
    /// so a new `kind` must fit the stored `channel_type`).
    pub fn apply(&self, current: &Observation) -> Result<Observation, ApiError> {
        let mut next = current.clone();
        for (patch, field) in
            [(&self.region, &mut next.region), (&self.strategy, &mut next.strategy), (&self.source, &mut next.source)]
        {
            if let Some(v) = patch {
                *field = v.clone();
            }
        }
        if let Some(v) = self.channel_type {
            next.channel_type = v;
        }
        if let Some(v) = self.kind {
            next.kind = v;
        }
        if let Some(v) = &self.partner_names {
            next.partner_names = v.clone();
        }
        if let Some(v) = self.market_share_bp {
            next.market_share_bp = v;
        }
        if let Some(v) = self.price_position {
            next.price_position = v;
        }
        if let Some(v) = self.observed_on {
            next.observed_on = v;
        }
        let mut c = Check::new();
        check(&mut c, &next);
        c.finish()?;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ObservationCreate {
        ObservationCreate {
            region: Some("华东".into()),
            channel_type: None,
            kind: Some(PartnerKind::Distributor),
            partner_names: vec!["上海百联".into()],
            market_share_bp: Some(2_500),
            price_position: Some(PricePosition::Below),
            strategy: None,
            observed_on: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            source: None,
        }
    }

    #[test]
    fn channel_type_follows_from_kind_and_must_agree_with_it() {
        let o = input().to_observation("o".into(), "c", Utc::now()).unwrap();
        assert_eq!(o.channel_type, Some(ChannelType::Indirect));
        let mut bad = input();
        bad.channel_type = Some(ChannelType::Direct);
        assert_eq!(bad.to_observation("o".into(), "c", Utc::now()).unwrap_err().errors[0].field, "kind");
        let patch = ObservationUpdate { kind: Some(Some(PartnerKind::Telesales)), ..Default::default() };
        assert_eq!(patch.apply(&o).unwrap_err().errors[0].field, "kind", "checked against the stored channel_type");
        let patch = ObservationUpdate { kind: Some(Some(PartnerKind::Other)), ..Default::default() };
        assert!(patch.apply(&o).is_ok());
    }

    #[test]
    fn share_is_basis_points_and_names_are_labels() {
        let mut bad = input();
        bad.market_share_bp = Some(10_001);
        bad.partner_names = vec!["甲".into(), "甲".into()];
        let err = bad.to_observation("o".into(), "c", Utc::now()).unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["partner_names[1]", "market_share_bp"]);
        let o = input().to_observation("o".into(), "c", Utc::now()).unwrap();
        let cleared: ObservationUpdate = serde_json::from_str(r#"{"market_share_bp": null}"#).unwrap();
        assert_eq!(cleared.apply(&o).unwrap().market_share_bp, None);
    }
}
