//! Who changed what: one audit event per create, update and delete, written in the same
//! transaction as the change.

pub mod api;

use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

crate::json_column!(Value);
use utoipa::ToSchema;

use crate::db::schema::audit_events as ae;
use crate::db::{self, DbConn};
use crate::error::ApiError;

use crate::access::Actor;

/// Field-by-field differences between two serialized versions: `{field: {old, new}}` for every
/// top-level field that differs. `old` of a create and `new` of a hard delete are `null`.
pub fn diff(old: Option<&impl Serialize>, new: Option<&impl Serialize>) -> Value {
    let as_map = |v: Option<Value>| match v {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let old = as_map(old.and_then(|o| serde_json::to_value(o).ok()));
    let new = as_map(new.and_then(|n| serde_json::to_value(n).ok()));
    let mut changes = Map::new();
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        // Bookkeeping fields change on every write and say nothing about what the user changed.
        if matches!(key.as_str(), "version" | "updated_at" | "created_at") {
            continue;
        }
        let (o, n) = (old.get(key).unwrap_or(&Value::Null), new.get(key).unwrap_or(&Value::Null));
        if o != n {
            changes.insert(key.clone(), serde_json::json!({ "old": o, "new": n }));
        }
    }
    Value::Object(changes)
}

pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    action: &str,
    resource_type: &str,
    resource_id: &str,
    changes: Value,
) -> Result<(), ApiError> {
    diesel::insert_into(ae::table)
        .values((
            ae::id.eq(db::new_id()),
            ae::occurred_at.eq(db::now()),
            ae::actor_key_id.eq(&actor.key_id),
            ae::actor_name.eq(&actor.name),
            ae::action.eq(action),
            ae::resource_type.eq(resource_type),
            ae::resource_id.eq(resource_id),
            ae::changes.eq(changes.to_string()),
            ae::request_id.eq(crate::telemetry::current_request_id()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = ae)]
pub struct AuditEvent {
    pub id: String,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub actor_key_id: String,
    pub actor_name: String,
    /// create, update, delete, revoke, …
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    /// `{field: {"old": …, "new": …}}`
    #[schema(value_type = Object)]
    pub changes: Value,
    pub request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct P {
        name: &'static str,
        tier: &'static str,
        version: i64,
    }

    #[test]
    fn diff_lists_changed_fields_only() {
        let a = P { name: "华东", tier: "standard", version: 1 };
        let b = P { name: "华东", tier: "key", version: 2 };
        assert_eq!(diff(Some(&a), Some(&b)), serde_json::json!({"tier": {"old": "standard", "new": "key"}}));
        let created = diff(None::<&P>, Some(&a));
        assert_eq!(created["name"], serde_json::json!({"old": null, "new": "华东"}));
        assert!(created.get("version").is_none());
    }
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// e.g. `partner`, `contact`, `key_account`, `api_key`.
    #[param(min_length = 1, max_length = 100)]
    pub resource_type: Option<String>,
    #[param(min_length = 1, max_length = 100)]
    pub resource_id: Option<String>,
    /// The acting API key's id or name.
    #[param(min_length = 1, max_length = 100)]
    pub actor: Option<String>,
}

impl AuditFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = crate::validation::Check::new();
        c.opt_text("resource_type", self.resource_type.as_deref(), 100);
        c.opt_text("resource_id", self.resource_id.as_deref(), 100);
        c.opt_text("actor", self.actor.as_deref(), 100);
        c.finish()
    }
}

/// Newest first; keyed by id (UUIDv7, so time-ordered).
pub fn list(
    conn: &mut DbConn,
    filter: &AuditFilter,
    page: &crate::http::pagination::PageRequest,
) -> Result<Vec<AuditEvent>, ApiError> {
    let mut q = ae::table.into_boxed();
    if let Some(t) = &filter.resource_type {
        q = q.filter(ae::resource_type.eq(t.clone()));
    }
    if let Some(id) = &filter.resource_id {
        q = q.filter(ae::resource_id.eq(id.clone()));
    }
    if let Some(actor) = &filter.actor {
        q = q.filter(ae::actor_key_id.eq(actor.clone()).or(ae::actor_name.eq(actor.clone())));
    }
    if let Some(after) = &page.after {
        q = q.filter(ae::id.lt(after[0].clone()));
    }
    Ok(q.order(ae::id.desc()).limit(page.limit + 1).select(AuditEvent::as_select()).load(conn)?)
}
