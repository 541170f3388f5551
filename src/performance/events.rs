//! The payload of `performance.imported`: one bulk import (or one committed chunk of a CLI
//! import) of performance or cost records — what it wrote and which months it touched. It names
//! no partner: an import usually spans many, so it goes to internal channels only.

use serde::{Deserialize, Serialize};

crate::text_enum! {
    /// insert: every row is a new record (an existing one is a bad row). upsert: a row for an
    /// existing record replaces its figures (performance: same partner, month and product line;
    /// costs: a row with the `id` of an existing cost record).
    ImportMode { Insert => "insert", Upsert => "upsert" }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PerformanceImported {
    pub import_id: String,
    /// `performance` or `costs`.
    pub kind: String,
    pub mode: ImportMode,
    pub created: u64,
    pub updated: u64,
    /// The months written, `YYYY-MM`, in order.
    pub periods: Vec<String>,
}
