//! The payloads of competitor events (`competitor.*`). Competitor intelligence concerns no
//! partner, so these events name none: a bot channel bound to a partner never receives them,
//! only staff channels and webhooks that subscribe. Pure types over the API's view; the enum that
//! names them is `crate::events::DomainEvent`, which this file never imports.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::Competitor;
use super::observations::model::Observation;

/// `competitor.created`, `competitor.archived`: the competitor as it is now.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompetitorSnapshot {
    pub competitor: Competitor,
}

/// `competitor.updated`: the competitor after the change, and what changed (`{field: {old, new}}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompetitorUpdated {
    pub competitor: Competitor,
    pub changes: Value,
}

/// `competitor.observed`: a new observation of the competitor's channels.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompetitorObserved {
    pub competitor: Competitor,
    pub observation: Observation,
}
