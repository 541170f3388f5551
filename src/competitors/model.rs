//! Competitors (渠道竞争分析): who else sells into our markets through channels. Wire types and
//! field rules, pure and unit-tested. A competitor's name is unique among current competitors
//! ignoring case, width and invisible characters (the stored `name_key`); deleting one archives it
//! so that its observations keep their history.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::types::UtcTime;
use crate::error::ApiError;
use crate::partners::model::nullable;
use crate::validation::{Check, MAX_LONG_TEXT, MAX_SHORT_TEXT};

crate::record!(Competitor);

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::competitors, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Competitor {
    pub id: String,
    pub name: String,
    /// The competitor's web site (absolute http(s) URL).
    pub website: Option<String>,
    pub notes: Option<String>,
    /// Grows by one with every change; the `ETag` is this number in quotes.
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
    /// Set when the competitor was deleted: hidden from lists, kept with its observations.
    #[diesel(serialize_as = UtcTime)]
    pub archived_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompetitorCreate {
    /// 1–200 characters, unique among current competitors ignoring case, width (全角/半角), invisible characters and surrounding spaces.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// An absolute http(s) URL, e.g. `https://www.example.cn`.
    #[schema(min_length = 1, max_length = 2000)]
    pub website: Option<String>,
    #[schema(min_length = 1, max_length = 10000)]
    pub notes: Option<String>,
}

/// A JSON merge patch: absent fields stay, `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompetitorUpdate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 2000)]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 10000)]
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompetitorFilter {
    /// Text search over the name (case- and width-insensitive substring).
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
}

impl CompetitorFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.opt_text("q", self.q.as_deref(), MAX_SHORT_TEXT);
        c.finish()
    }
}

fn check_fields(c: &mut Check, name: Option<&str>, website: Option<&str>, notes: Option<&str>) {
    if let Some(name) = name {
        c.text("name", name, 1, MAX_SHORT_TEXT);
    }
    c.web_url("website", website);
    c.opt_text("notes", notes, MAX_LONG_TEXT);
}

impl CompetitorCreate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        check_fields(&mut c, Some(&self.name), self.website.as_deref(), self.notes.as_deref());
        c.finish()
    }
}

impl CompetitorUpdate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        let inner = |v: &Option<Option<String>>| v.clone().flatten();
        check_fields(&mut c, self.name.as_deref(), inner(&self.website).as_deref(), inner(&self.notes).as_deref());
        c.finish()
    }

    pub fn apply(&self, current: &Competitor) -> Competitor {
        let mut next = current.clone();
        if let Some(v) = &self.name {
            next.name = v.clone();
        }
        for (patch, field) in [(&self.website, &mut next.website), (&self.notes, &mut next.notes)] {
            if let Some(v) = patch {
                *field = v.clone();
            }
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn website_must_be_an_absolute_web_url() {
        for good in ["https://www.example.cn", "http://例子.中国/渠道"] {
            let input = CompetitorCreate { name: "甲".into(), website: Some(good.into()), notes: None };
            assert!(input.validate().is_ok(), "{good}");
        }
        for bad in ["www.example.cn", "ftp://example.cn", "https://", "javascript:alert(1)", "https://a b.cn"] {
            let input = CompetitorCreate { name: "甲".into(), website: Some(bad.into()), notes: None };
            assert_eq!(input.validate().unwrap_err().errors[0].field, "website", "{bad}");
        }
    }

    #[test]
    fn a_patch_clears_with_null_and_keeps_what_is_absent() {
        let now = Utc::now();
        let current = Competitor {
            id: "c".into(),
            name: "甲".into(),
            website: Some("https://a.cn".into()),
            notes: Some("n".into()),
            version: 1,
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        let patch: CompetitorUpdate = serde_json::from_str(r#"{"website": null}"#).unwrap();
        let next = patch.apply(&current);
        assert_eq!(next.website, None);
        assert_eq!(next.notes.as_deref(), Some("n"));
        assert_eq!(next.name, "甲");
    }
}
