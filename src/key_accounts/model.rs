//! Key accounts (大客户), their partner assignments and primary product lines: wire types, rows and
//! validation rules.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::types::{JsonText, UtcTime};
use crate::error::ApiError;
use crate::partners::model::nullable;
use crate::validation::{Check, MAX_SHORT_TEXT};

crate::record!(KeyAccount, Assignment);

#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::key_accounts, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct KeyAccount {
    pub id: String,
    pub name: String,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub owner: Option<String>,
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub archived_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyAccountCreate {
    /// 1–200 characters, unique among current key accounts ignoring case, width, invisible characters and surrounding spaces.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(min_length = 1, max_length = 200)]
    pub industry: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub region: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyAccountUpdate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 200)]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 200)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 200)]
    pub owner: Option<Option<String>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyAccountFilter {
    #[param(min_length = 1, max_length = 200)]
    pub industry: Option<String>,
    #[param(min_length = 1, max_length = 200)]
    pub region: Option<String>,
    #[param(min_length = 1, max_length = 200)]
    pub owner: Option<String>,
    /// Text search over the name (case-insensitive substring).
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
}

impl KeyAccountFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.opt_text("industry", self.industry.as_deref(), MAX_SHORT_TEXT);
        c.opt_text("region", self.region.as_deref(), MAX_SHORT_TEXT);
        c.opt_text("owner", self.owner.as_deref(), MAX_SHORT_TEXT);
        c.opt_text("q", self.q.as_deref(), MAX_SHORT_TEXT);
        c.finish()
    }
}

impl KeyAccountCreate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.text("name", &self.name, 1, MAX_SHORT_TEXT);
        c.opt_text("industry", self.industry.as_deref(), MAX_SHORT_TEXT);
        c.opt_text("region", self.region.as_deref(), MAX_SHORT_TEXT);
        c.opt_text("owner", self.owner.as_deref(), MAX_SHORT_TEXT);
        c.finish()
    }
}

impl KeyAccountUpdate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(name) = &self.name {
            c.text("name", name, 1, MAX_SHORT_TEXT);
        }
        let inner = |v: &Option<Option<String>>| v.clone().flatten();
        c.opt_text("industry", inner(&self.industry).as_deref(), MAX_SHORT_TEXT);
        c.opt_text("region", inner(&self.region).as_deref(), MAX_SHORT_TEXT);
        c.opt_text("owner", inner(&self.owner).as_deref(), MAX_SHORT_TEXT);
        c.finish()
    }

    pub fn apply(&self, current: &KeyAccount) -> KeyAccount {
        let mut k = current.clone();
        if let Some(v) = &self.name {
            k.name = v.clone();
        }
        for (patch, field) in
            [(&self.industry, &mut k.industry), (&self.region, &mut k.region), (&self.owner, &mut k.owner)]
        {
            if let Some(v) = patch {
                *field = v.clone();
            }
        }
        k
    }
}

crate::text_enum! {
    /// primary: leads the account for its product lines (one per line); support: helps;
    /// referral: brought the account in.
    AssignmentRole { Primary => "primary", Support => "support", Referral => "referral" }
}

#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::key_account_assignments, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Assignment {
    pub id: String,
    pub key_account_id: String,
    pub partner_id: String,
    pub role: AssignmentRole,
    #[diesel(serialize_as = JsonText)]
    pub product_lines: Vec<String>,
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentCreate {
    #[schema(format = Uuid)]
    pub partner_id: String,
    pub role: AssignmentRole,
    /// 1–50 product lines this assignment covers.
    #[schema(min_items = 1, max_items = 50)]
    pub product_lines: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentUpdate {
    pub role: Option<AssignmentRole>,
    #[schema(min_items = 1, max_items = 50)]
    pub product_lines: Option<Vec<String>>,
}

impl AssignmentCreate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if uuid::Uuid::parse_str(&self.partner_id).is_err() {
            c.add("partner_id", "must be a partner id");
        }
        c.labels("product_lines", &self.product_lines, 1, 50);
        c.finish()
    }
}

impl AssignmentUpdate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(lines) = &self.product_lines {
            c.labels("product_lines", lines, 1, 50);
        }
        c.finish()
    }
}
