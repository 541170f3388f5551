//! Which channels and webhooks an event goes to: the facts routing reads from an event (the
//! partners it concerns, a bulletin's importance), which subscriptions' filters and channels'
//! partner bindings are matched against. They come from the typed event
//! ([`DomainEvent::partner_ids`], [`DomainEvent::importance`]); an event whose row does not read
//! as a type this version knows is routed by its row's own partner alone.

use diesel::prelude::*;

use crate::db::schema::partners as p;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::events::{DomainEvent, Event};
use crate::partners::model::Tier;

crate::text_enum! {
    /// A bulletin's importance (bulletins issue), lowest first.
    Importance { Normal => "normal", Important => "important", Urgent => "urgent" }
}

impl Importance {
    pub fn rank(self) -> usize {
        Self::ALL.iter().position(|i| *i == self).unwrap_or(0)
    }
}

/// One partner an event concerns, as routing sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerFacts {
    pub id: String,
    pub tier: Option<Tier>,
    pub region: Option<String>,
}

/// What routing knows about an event (see [`facts`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFacts {
    /// The partners the event concerns: its own partner, a meeting's partners, a bulletin's
    /// recipients (a bulletin to `all` names every partner it reached), both sides of a risk.
    pub partners: Vec<PartnerFacts>,
    /// A bulletin's importance (other events have none).
    pub importance: Option<Importance>,
}

impl EventFacts {
    /// May a channel bound to `partner_id` see this event? Only if the event concerns that
    /// partner; an event about no partner in particular goes to unbound channels only.
    pub fn visible_to_partner(&self, partner_id: &str) -> bool {
        self.partners.iter().any(|p| p.id == partner_id)
    }
}

/// Partners are looked up in batches of this many.
const MAX_PARTNERS: usize = 1000;

/// The partners the event concerns: the subject's partner, then those its payload lists (a
/// meeting's partners, a bulletin's recipients, both sides of a risk), each once.
fn partners_of(event: &DomainEvent) -> Vec<String> {
    event.partner_ids().into_iter().map(str::to_string).collect()
}

/// The facts about `event` that subscriptions filter on and channel bindings scope by.
pub fn facts(conn: &mut DbConn, event: &Event) -> Result<EventFacts, ApiError> {
    let (ids, importance) = match event.domain() {
        Ok(typed) => (partners_of(&typed), typed.importance().and_then(|i| i.as_str().parse::<Importance>().ok())),
        // A newer room's type, or a payload not of its type: nothing in it can be trusted to
        // name partners, so only the row's own partner scopes it (fewer readers, never more).
        Err(_) => (event.partner_id.iter().cloned().collect(), None),
    };
    let mut partners = Vec::new();
    for chunk in ids.chunks(MAX_PARTNERS) {
        let rows: Vec<(String, String, Option<String>)> =
            p::table.filter(p::id.eq_any(chunk)).select((p::id, p::tier, p::region)).load(conn)?;
        for id in chunk {
            // A partner named by the event but unknown here still scopes (by id); it has no tier/region.
            let row = rows.iter().find(|r| &r.0 == id);
            partners.push(PartnerFacts {
                id: id.clone(),
                tier: row.and_then(|r| r.1.parse::<Tier>().ok()),
                region: row.and_then(|r| r.2.clone()),
            });
        }
    }
    Ok(EventFacts { partners, importance })
}
