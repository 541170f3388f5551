//! The payloads of bulletin events (`bulletin.*`): what the outbox stores, and what webhooks and
//! chat messages are made from. Self-contained, so a notifier can render a message without
//! reading back. Pure types that import only this room's `model`; the enum that names them is
//! `crate::events::DomainEvent`, which this file never imports (the outbox sits below the rooms).
//!
//! Field order is free: payloads are serialized through `serde_json::Value`, whose keys are
//! sorted (pinned by `tests/api/event_payloads.rs`).

use serde::{Deserialize, Serialize};

use super::model::{Bulletin, Category, Importance};

/// `bulletin.published`, `bulletin.archived`: the bulletin as staff see it (audience and
/// recipient count included), and the partners it was addressed to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BulletinSnapshot {
    pub bulletin: Bulletin,
    /// The bulletin's own `title`, `category` and `importance`, repeated at the top for filters
    /// and renderers that look no deeper.
    pub title: String,
    pub category: Category,
    pub importance: Importance,
    /// How many partners it was addressed to: `partner_ids.len()`.
    pub recipient_count: usize,
    /// The recipients resolved when it was published.
    pub partner_ids: Vec<String>,
}

impl BulletinSnapshot {
    pub fn new(bulletin: Bulletin, partner_ids: Vec<String>) -> Self {
        BulletinSnapshot {
            title: bulletin.title.clone(),
            category: bulletin.category,
            importance: bulletin.importance,
            recipient_count: partner_ids.len(),
            partner_ids,
            bulletin,
        }
    }
}
