//! The payloads of recruitment campaign events (`recruitment_campaign.*`). A campaign concerns no
//! single partner, so these events name none. Pure types; the enum that names them is
//! `crate::events::DomainEvent`, which this file never imports.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::Campaign;

/// `recruitment_campaign.created`, `recruitment_campaign.archived`: the campaign as it is now.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CampaignSnapshot {
    pub campaign: Campaign,
}

/// `recruitment_campaign.updated`: the campaign after the change, and what changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CampaignUpdated {
    pub campaign: Campaign,
    pub changes: Value,
}
