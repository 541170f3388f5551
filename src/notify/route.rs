//! Which channels and webhooks an event goes to: the facts routing reads from an event, and the
//! match of those facts against subscriptions and channel bindings.

use diesel::prelude::*;
use serde_json::Value;

use super::model::{EventFacts, Importance, PartnerFacts};
use crate::db::schema::partners as p;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::events::Event;
use crate::partners::model::Tier;

/// Where payloads name the partners an event concerns besides its own `partner_id` (a bulletin's
/// recipients). A room whose payload says it elsewhere adds the pointer here.
const PARTNER_ID_LISTS: &[&str] =
    &["/partner_ids", "/recipient_ids", "/recipients", "/bulletin/partner_ids", "/bulletin/recipient_ids"];
/// Where payloads say "addressed to every partner" (a bulletin's `audience.all`).
const ALL_PARTNER_FLAGS: &[&str] = &["/audience/all", "/bulletin/audience/all"];
/// Where payloads carry a bulletin's importance.
const IMPORTANCE: &[&str] = &["/importance", "/bulletin/importance"];

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
    let all_partners = ALL_PARTNER_FLAGS.iter().any(|ptr| event.payload.pointer(ptr) == Some(&Value::Bool(true)));
    let importance = IMPORTANCE
        .iter()
        .find_map(|ptr| event.payload.pointer(ptr).and_then(Value::as_str))
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
    Ok(EventFacts { partners, all_partners, importance })
}
