//! Action items (待办): what a meeting decided someone must do, with an owner, a partner and a
//! due date. Wire types and the rules that need no database; an item's partner is always one of
//! its meeting's partners, which is also what partner keys are scoped by.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Code};
use crate::meetings::model::{id_or_empty, normalize_id, opt_id, MAX_LINE};
use crate::partners::model::nullable;
use crate::validation::{Check, MAX_SHORT_TEXT};

crate::record!(ActionItem);

crate::text_enum! {
    /// open → done | cancelled; done and cancelled are final.
    ActionItemStatus { Open => "open", Done => "done", Cancelled => "cancelled" }
}

impl ActionItemStatus {
    pub fn can_move_to(self, to: ActionItemStatus) -> bool {
        self == to || (self == ActionItemStatus::Open && to != ActionItemStatus::Open)
    }
}

pub fn action_item_not_found() -> ApiError {
    ApiError::not_found(Code::ActionItemNotFound)
}

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
    due.map(due_text).unwrap_or_else(|| "9999-12-31".into())
}

/// A due date as stored (`YYYY-MM-DD`).
pub fn due_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The partner an item goes to, among its meeting's `partners`: the given one if it is one of
/// them, else the meeting's only partner.
pub fn item_partner(partners: &[String], given: Option<&str>) -> Result<String, &'static str> {
    match given {
        Some(raw) => {
            let id = id_or_empty(raw);
            if partners.contains(&id) {
                Ok(id)
            } else {
                Err("must be one of the meeting's partners")
            }
        }
        None => match partners {
            [only] => Ok(only.clone()),
            _ => Err("is required when the meeting has several partners"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_machine() {
        use ActionItemStatus as A;
        assert!(A::Open.can_move_to(A::Done) && A::Open.can_move_to(A::Cancelled));
        assert!(!A::Done.can_move_to(A::Open) && !A::Cancelled.can_move_to(A::Done));
    }

    #[test]
    fn due_dates_sort_undated_last() {
        assert_eq!(due_sort(NaiveDate::from_ymd_opt(2027, 1, 4)), "2027-01-04");
        assert!(due_sort(None) > due_sort(NaiveDate::from_ymd_opt(9000, 1, 1)));
    }

    #[test]
    fn an_item_goes_to_one_of_the_meetings_partners() {
        let one = vec!["0192f0c4-3b9e-7c1a-8f00-000000000001".to_string()];
        assert_eq!(item_partner(&one, None).as_deref(), Ok(one[0].as_str()));
        assert_eq!(item_partner(&one, Some("0192F0C4-3B9E-7C1A-8F00-000000000001")).as_deref(), Ok(one[0].as_str()));
        assert!(item_partner(&one, Some("0192f0c4-3b9e-7c1a-8f00-000000000002")).is_err());
        let two = vec![one[0].clone(), "0192f0c4-3b9e-7c1a-8f00-000000000002".into()];
        assert!(item_partner(&two, None).is_err());
    }
}
