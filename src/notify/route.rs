//! Which channels and webhooks an event goes to: the facts routing reads from an event (the
//! partners it concerns, a bulletin's importance), which subscriptions' filters and channels'
//! partner bindings are matched against.

use diesel::prelude::*;
use serde_json::Value;

use super::checks::type_matches;
use crate::db::schema::partners as p;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::events::Event;
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

/// Where payloads name the partners an event concerns besides its own `partner_id`, as the rooms
/// write them: meetings, action items and series `partner_ids` (ids) and `partners`
/// (`[{id, name}]`); bulletins `partner_ids` (the recipients resolved when it was published);
/// contracts and risks `partner_ids` (both sides of a risk between two partners). A room whose
/// payload says it elsewhere adds the pointer here.
const PARTNER_ID_LISTS: &[&str] = &["/partner_ids", "/partners"];
/// Where a bulletin's importance is, by event type (`min_importance` filters only these).
const IMPORTANCE: &[(&str, &str)] = &[("bulletin.*", "/importance")];

/// Partners are looked up in batches of this many.
const MAX_PARTNERS: usize = 1000;

/// The facts about `event` that subscriptions filter on and channel bindings scope by.
pub fn facts(conn: &mut DbConn, event: &Event) -> Result<EventFacts, ApiError> {
    let mut ids: Vec<String> = event.partner_id.iter().cloned().collect();
    for pointer in PARTNER_ID_LISTS {
        if let Some(list) = event.payload.pointer(pointer).and_then(Value::as_array) {
            for v in list {
                let id = v
                    .as_str()
                    .or_else(|| v.get("partner_id").and_then(Value::as_str))
                    .or_else(|| v.get("id").and_then(Value::as_str));
                if let Some(id) = id.filter(|id| !ids.iter().any(|x| x == id)) {
                    ids.push(id.to_string());
                }
            }
        }
    }
    let importance = IMPORTANCE
        .iter()
        .filter(|(pattern, _)| type_matches(pattern, &event.event_type))
        .find_map(|(_, ptr)| event.payload.pointer(ptr).and_then(Value::as_str))
        .and_then(|s| s.parse::<Importance>().ok());
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
