//! Read receipts (已读回执) of published bulletins: the acknowledgement a partner (or staff on its
//! behalf) sends, the receipt a recipient has, and the page of receipts with its totals.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::validation::Check;

/// Records that a partner read a bulletin. Partner keys acknowledge for their own partner (leave
/// `partner_id` out or name their own); managers and admins name the partner they record for.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgementCreate {
    /// The partner that read it: required for staff keys, optional for partner keys.
    #[schema(format = Uuid)]
    pub partner_id: Option<String>,
    /// The partner's contact who read it (one of that partner's contacts).
    #[schema(format = Uuid)]
    pub contact_id: Option<String>,
}

impl AcknowledgementCreate {
    pub fn validate(&mut self) -> Result<(), ApiError> {
        let mut c = Check::new();
        for (field, value) in [("partner_id", &mut self.partner_id), ("contact_id", &mut self.contact_id)] {
            if let Some(v) = value {
                match uuid::Uuid::parse_str(v) {
                    Ok(u) => *v = u.hyphenated().to_string(),
                    Err(_) => c.add(field, "must be a resource id (UUID)"),
                }
            }
        }
        c.finish()
    }
}

/// One recipient of a published bulletin and whether it has read it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Receipt {
    pub bulletin_id: String,
    pub partner_id: String,
    /// The partner's current name.
    pub partner_name: String,
    pub read: bool,
    /// When it was first acknowledged; null while unread. Acknowledging again keeps this time.
    pub read_at: Option<DateTime<Utc>>,
    pub contact_id: Option<String>,
    /// The contact's name as it was when the acknowledgement was recorded.
    pub contact_name: Option<String>,
    /// The name of the API key that recorded the acknowledgement (not shown to partner keys).
    pub recorded_by: Option<String>,
    /// True when staff recorded it on the partner's behalf.
    pub on_behalf: bool,
    /// 1 while unread, 2 once acknowledged (a receipt never changes after that).
    pub version: i64,
}

/// A receipt is keyed by its partner within the bulletin.
impl crate::db::Record for Receipt {
    fn id(&self) -> &str {
        &self.partner_id
    }
    fn version(&self) -> i64 {
        self.version
    }
}

impl Receipt {
    /// What a partner key sees: staff key names stay internal.
    pub fn for_partner(mut self) -> Self {
        self.recorded_by = None;
        self
    }
}

/// The recipients of a bulletin, a page at a time, with totals over all of them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptPage {
    /// How many partners the bulletin was addressed to.
    pub recipients: i64,
    pub read: i64,
    pub unread: i64,
    /// `read / recipients` in basis points (10000 = every recipient read it).
    pub read_rate: i64,
    pub items: Vec<Receipt>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiptFilter {
    /// Only recipients that have (true) or have not (false) read it.
    pub read: Option<bool>,
}

/// `read / recipients` in basis points, rounded down; 0 when there are no recipients.
pub fn read_rate_bp(read: i64, recipients: i64) -> i64 {
    if recipients <= 0 {
        0
    } else {
        read.clamp(0, recipients) * 10_000 / recipients
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_rate_is_in_basis_points() {
        assert_eq!(read_rate_bp(0, 0), 0);
        assert_eq!(read_rate_bp(1, 3), 3333);
        assert_eq!(read_rate_bp(2, 3), 6666);
        assert_eq!(read_rate_bp(4, 4), 10_000);
    }
}
