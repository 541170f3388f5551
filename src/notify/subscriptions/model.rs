//! Wire types of a bot channel's subscriptions and the filter rules that decide whether an event
//! passes one: event-type patterns, partner tiers, regions, partners and bulletin importance.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::types::{JsonText, UtcTime};
use crate::error::ApiError;
use crate::notify::checks::{check_event_types, event_types_schema, partner_ids_schema, type_matches};
use crate::notify::route::{EventFacts, Importance, PartnerFacts};
use crate::partners::model::{nullable, Tier};
use crate::validation::Check;

crate::record!(Subscription);
crate::json_column!(@read Vec<Tier>);

// The API's view is also the row (the lists are JSON text columns).
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::bot_subscriptions, treat_none_as_null = true)]
pub struct Subscription {
    pub id: String,
    pub channel_id: String,
    #[diesel(serialize_as = JsonText)]
    pub event_types: Vec<String>,
    /// Only events about partners of these tiers (empty: any).
    #[diesel(serialize_as = JsonText)]
    pub partner_tiers: Vec<Tier>,
    /// Only events about partners in these regions (empty: any).
    #[diesel(serialize_as = JsonText)]
    pub regions: Vec<String>,
    /// Only events about these partners (empty: any).
    #[diesel(serialize_as = JsonText)]
    pub partner_ids: Vec<String>,
    /// Only bulletins at least this important (other events are not filtered by it).
    pub min_importance: Option<Importance>,
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
}

impl Subscription {
    pub fn filters(&self) -> Filters {
        Filters {
            event_types: self.event_types.clone(),
            partner_tiers: self.partner_tiers.clone(),
            regions: self.regions.clone(),
            partner_ids: self.partner_ids.clone(),
            min_importance: self.min_importance,
        }
    }

    /// The subscription with `f` as its filters.
    pub fn with_filters(mut self, f: Filters) -> Self {
        self.event_types = f.event_types;
        self.partner_tiers = f.partner_tiers;
        self.regions = f.regions;
        self.partner_ids = f.partner_ids;
        self.min_importance = f.min_importance;
        self
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionCreate {
    #[schema(schema_with = event_types_schema)]
    pub event_types: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 4)]
    pub partner_tiers: Vec<Tier>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub regions: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = partner_ids_schema)]
    pub partner_ids: Vec<String>,
    pub min_importance: Option<Importance>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionUpdate {
    #[schema(schema_with = event_types_schema)]
    pub event_types: Option<Vec<String>>,
    #[schema(max_items = 4)]
    pub partner_tiers: Option<Vec<Tier>>,
    #[schema(max_items = 50)]
    pub regions: Option<Vec<String>>,
    #[schema(schema_with = partner_ids_schema)]
    pub partner_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub min_importance: Option<Option<Importance>>,
}

/// What a subscription says, after a create or a patch.
#[derive(Debug, Clone, PartialEq)]
pub struct Filters {
    pub event_types: Vec<String>,
    pub partner_tiers: Vec<Tier>,
    pub regions: Vec<String>,
    pub partner_ids: Vec<String>,
    pub min_importance: Option<Importance>,
}

impl Filters {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        check_event_types(&mut c, "event_types", &self.event_types);
        if self.partner_tiers.len() > 4 {
            c.add("partner_tiers", "must have at most 4 items");
        }
        c.labels("regions", &self.regions, 0, 50);
        if self.partner_ids.len() > 100 {
            c.add("partner_ids", "must have at most 100 items");
        }
        for (i, id) in self.partner_ids.iter().enumerate() {
            if uuid::Uuid::parse_str(id).is_err() {
                c.add(format!("partner_ids[{i}]"), "must be a UUID");
            } else if self.partner_ids[..i].contains(id) {
                c.add(format!("partner_ids[{i}]"), "is a duplicate");
            }
        }
        c.finish()
    }

    /// Tiers once each, ids in their canonical lowercase form.
    pub fn normalized(mut self) -> Self {
        let mut tiers = Vec::new();
        for t in self.partner_tiers {
            if !tiers.contains(&t) {
                tiers.push(t);
            }
        }
        self.partner_tiers = tiers;
        self.partner_ids = self.partner_ids.iter().map(|p| p.to_ascii_lowercase()).collect();
        self
    }

    /// True when an event of `event_type` with `facts` passes this subscription.
    pub fn matches(&self, event_type: &str, facts: &EventFacts) -> bool {
        if !self.event_types.iter().any(|p| type_matches(p, event_type)) {
            return false;
        }
        let any_partner = |ok: &dyn Fn(&PartnerFacts) -> bool| facts.partners.iter().any(ok);
        if !self.partner_tiers.is_empty() && !any_partner(&|p| p.tier.is_some_and(|t| self.partner_tiers.contains(&t)))
        {
            return false;
        }
        if !self.regions.is_empty() && !any_partner(&|p| p.region.as_ref().is_some_and(|r| self.regions.contains(r))) {
            return false;
        }
        if !self.partner_ids.is_empty() && !any_partner(&|p| self.partner_ids.contains(&p.id)) {
            return false;
        }
        if let (Some(min), Some(importance)) = (self.min_importance, facts.importance) {
            if importance.rank() < min.rank() {
                return false;
            }
        }
        true
    }
}

impl SubscriptionCreate {
    pub fn filters(&self) -> Filters {
        Filters {
            event_types: self.event_types.clone(),
            partner_tiers: self.partner_tiers.clone(),
            regions: self.regions.clone(),
            partner_ids: self.partner_ids.clone(),
            min_importance: self.min_importance,
        }
    }
}

impl SubscriptionUpdate {
    pub fn apply(&self, current: &Filters) -> Filters {
        let mut next = current.clone();
        if let Some(v) = &self.event_types {
            next.event_types = v.clone();
        }
        if let Some(v) = &self.partner_tiers {
            next.partner_tiers = v.clone();
        }
        if let Some(v) = &self.regions {
            next.regions = v.clone();
        }
        if let Some(v) = &self.partner_ids {
            next.partner_ids = v.clone();
        }
        if let Some(v) = self.min_importance {
            next.min_importance = v;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(types: &[&str]) -> Filters {
        Filters {
            event_types: types.iter().map(|s| s.to_string()).collect(),
            partner_tiers: vec![],
            regions: vec![],
            partner_ids: vec![],
            min_importance: None,
        }
    }

    #[test]
    fn subscription_filters() {
        let p = |id: &str, tier, region: &str| PartnerFacts {
            id: id.into(),
            tier: Some(tier),
            region: Some(region.into()),
        };
        let facts = EventFacts { partners: vec![p("a", Tier::Key, "华东")], importance: None };
        assert!(filters(&["partner.*"]).matches("partner.created", &facts));
        assert!(!filters(&["meeting.*"]).matches("partner.created", &facts));
        let mut f = filters(&["*"]);
        f.partner_tiers = vec![Tier::Strategic];
        assert!(!f.matches("partner.created", &facts));
        f.partner_tiers.push(Tier::Key);
        assert!(f.matches("partner.created", &facts));
        f.regions = vec!["华北".into()];
        assert!(!f.matches("partner.created", &facts));
        f.regions = vec!["华东".into()];
        f.partner_ids = vec!["b".into()];
        assert!(!f.matches("partner.created", &facts));
        assert!(!f.matches("partner.created", &EventFacts::default()), "partner filters need a partner");
        let many = EventFacts {
            partners: vec![p("x", Tier::Standard, "华南"), p("b", Tier::Key, "华东")],
            importance: None,
        };
        assert!(f.matches("bulletin.published", &many), "one of several recipients passing is enough");
        assert!(many.visible_to_partner("b") && !many.visible_to_partner("a"));
        let mut imp = filters(&["bulletin.*"]);
        imp.min_importance = Some(Importance::Important);
        let urgent = EventFacts { importance: Some(Importance::Urgent), ..Default::default() };
        let normal = EventFacts { importance: Some(Importance::Normal), ..Default::default() };
        assert!(imp.matches("bulletin.published", &urgent));
        assert!(!imp.matches("bulletin.published", &normal));
        assert!(imp.matches("bulletin.archived", &EventFacts::default()), "no importance, no filter");
        assert!(facts.visible_to_partner("a") && !facts.visible_to_partner("b"));
        assert!(!EventFacts::default().visible_to_partner("a"));
    }

    #[test]
    fn subscription_validation_names_fields() {
        let mut f = filters(&["partner.*", "partner.*", "Bad"]);
        f.partner_ids = vec!["nope".into()];
        let err = f.validate().unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["event_types[1]", "event_types[2]", "partner_ids[0]"]);
        assert_eq!(filters(&[]).validate().unwrap_err().errors[0].field, "event_types");
    }
}
