//! Which channels and webhooks an event goes to: the facts routing reads from an event, and the
//! match of those facts against subscriptions and channel bindings.

use diesel::prelude::*;
use serde_json::Value;

use super::model::{type_matches, EventFacts, Importance, PartnerFacts};
use crate::db::schema::partners as p;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::events::Event;
use crate::partners::model::Tier;

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
