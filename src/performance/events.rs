//! The payload of `performance.imported`: one bulk import (or one committed chunk of a CLI
//! import) of performance or cost records — what it wrote and which months it touched. It names
//! no partner: an import usually spans many, so it goes to internal channels only.

use serde::{Deserialize, Serialize};

use super::import::ImportMode;

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
