//! Amendments: the request (a reason and up to 50 changes, each shaped by its `op`), its
//! OpenAPI schema, the contract fields an amendment may change, and the recorded amendment.
//! Pure and unit-tested; the store applies them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{PartialSchema, ToSchema};

use crate::contracts::model::{check_currency, check_date, check_dates, check_money, check_notice, Contract};
use crate::contracts::terms::{TermCreate, TermUpdate};
use crate::contracts::whole;
use crate::partners::model::nullable;
use crate::validation::{Check, MAX_SHORT_TEXT};

pub const MAX_REASON_LEN: usize = 2000;
pub const MAX_CHANGES: usize = 50;

crate::text_enum! {
    /// add a term · modify a term · remove a term · update_contract (its commercial fields)
    ChangeOp { Add => "add", Modify => "modify", Remove => "remove", UpdateContract => "update_contract" }
}

/// Change the terms (and optionally the commercial fields) of an active contract, atomically:
/// any invalid change rejects the whole amendment.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendmentRequest {
    /// Why (补充协议 / 变更原因), 1–2000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
    /// 1–50 changes, applied in order.
    #[schema(value_type = Vec<AmendmentChange>, min_items = 1, max_items = 50)]
    pub changes: Vec<ChangeInput>,
}

/// One change as sent; which fields it needs depends on `op` (see [`AmendmentChange`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeInput {
    pub op: ChangeOp,
    pub term_id: Option<String>,
    pub term: Option<Value>,
    pub contract: Option<Value>,
}

/// The OpenAPI schema of one change: which fields it takes depends on `op`.
pub struct AmendmentChange;

impl utoipa::PartialSchema for AmendmentChange {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
        use utoipa::openapi::Ref;
        let op = |name: &str| ObjectBuilder::new().schema_type(Type::String).enum_values(Some([name]));
        let term_id = || {
            ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        };
        let variant =
            |description: &str,
             name: &str,
             fields: Vec<(&str, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>| {
                let mut object = ObjectBuilder::new()
                    .description(Some(description))
                    .property("op", op(name))
                    .required("op")
                    .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)));
                for (field, schema) in fields {
                    object = object.property(field, schema).required(field);
                }
                object
            };
        OneOfBuilder::new()
            .item(variant("Add a term.", "add", vec![("term", Ref::from_schema_name("TermCreate").into())]))
            .item(variant(
                "Change a term of this contract (merge patch).",
                "modify",
                vec![("term_id", term_id().into()), ("term", Ref::from_schema_name("TermUpdate").into())],
            ))
            .item(variant("Remove a term of this contract.", "remove", vec![("term_id", term_id().into())]))
            .item(variant(
                "Change the contract's commercial fields (at most once per amendment).",
                "update_contract",
                vec![("contract", Ref::from_schema_name("AmendmentContractUpdate").into())],
            ))
            .description(Some("One change of an amendment."))
            .into()
    }
}

impl ToSchema for AmendmentChange {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("AmendmentChange")
    }

    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        schemas.push((TermCreate::name().into_owned(), TermCreate::schema()));
        TermCreate::schemas(schemas);
        schemas.push((TermUpdate::name().into_owned(), TermUpdate::schema()));
        TermUpdate::schemas(schemas);
        schemas.push((AmendmentContractUpdate::name().into_owned(), AmendmentContractUpdate::schema()));
        AmendmentContractUpdate::schemas(schemas);
    }
}

/// The commercial fields an amendment may change (merge patch; `null` clears).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendmentContractUpdate {
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub effective_to: Option<Option<NaiveDate>>,
    pub auto_renew: Option<bool>,
    #[serde(default, deserialize_with = "whole::opt")]
    #[schema(minimum = 0, maximum = 730)]
    pub renewal_notice_days: Option<i64>,
    #[serde(default, deserialize_with = "whole::nullable")]
    #[schema(minimum = 0, maximum = 1e15)]
    pub total_value: Option<Option<i64>>,
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

impl AmendmentContractUpdate {
    /// Validates against `current`; field paths start with `prefix` (`changes[1].contract.`).
    pub fn apply(&self, current: &Contract, c: &mut Check, prefix: &str) -> Contract {
        if let Some(t) = &self.title {
            c.text(&format!("{prefix}title"), t, 1, MAX_SHORT_TEXT);
        }
        check_notice(c, &format!("{prefix}renewal_notice_days"), self.renewal_notice_days);
        check_money(c, &format!("{prefix}total_value"), self.total_value.flatten());
        if let Some(cur) = &self.currency {
            check_currency(c, &format!("{prefix}currency"), cur);
        }
        let mut k = current.clone();
        if let Some(v) = &self.title {
            k.title = v.clone();
        }
        if let Some(v) = self.effective_to {
            k.effective_to = v;
            check_date(c, &format!("{prefix}effective_to"), v);
            check_dates(c, &format!("{prefix}effective_to"), k.effective_from, k.effective_to);
        }
        if let Some(v) = self.auto_renew {
            k.auto_renew = v;
        }
        if let Some(v) = self.renewal_notice_days {
            k.renewal_notice_days = v;
        }
        if let Some(v) = self.total_value {
            k.total_value = v;
        }
        if let Some(v) = &self.currency {
            k.currency = v.clone();
        }
        k
    }
}

impl AmendmentRequest {
    /// The checks that need no database: reason, count, and per-op shape.
    pub fn check_shape(&self, c: &mut Check) {
        c.text("reason", &self.reason, 1, MAX_REASON_LEN);
        if self.changes.is_empty() || self.changes.len() > MAX_CHANGES {
            c.add("changes", format!("must have 1 to {MAX_CHANGES} changes (got {})", self.changes.len()));
        }
        let mut contract_changes = 0;
        for (i, ch) in self.changes.iter().enumerate() {
            let at = |f: &str| format!("changes[{i}].{f}");
            let (needs_id, needs_term, needs_contract) = match ch.op {
                ChangeOp::Add => (false, true, false),
                ChangeOp::Modify => (true, true, false),
                ChangeOp::Remove => (true, false, false),
                ChangeOp::UpdateContract => (false, false, true),
            };
            for (name, present, needed) in [
                ("term_id", ch.term_id.is_some(), needs_id),
                ("term", ch.term.is_some(), needs_term),
                ("contract", ch.contract.is_some(), needs_contract),
            ] {
                if needed && !present {
                    c.add(at(name), format!("is required for op {}", ch.op));
                } else if present && !needed {
                    c.add(at(name), format!("is not allowed for op {}", ch.op));
                }
            }
            if let Some(id) = &ch.term_id {
                if uuid::Uuid::parse_str(id).is_err() {
                    c.add(at("term_id"), "must be a term id (UUID)");
                } else if let Some(j) = self.changes[..i].iter().position(|o| {
                    matches!(o.op, ChangeOp::Modify | ChangeOp::Remove) && o.term_id.as_deref() == Some(id)
                }) {
                    c.add(at("term_id"), format!("is already changed by changes[{j}]"));
                }
            }
            if ch.op == ChangeOp::UpdateContract {
                contract_changes += 1;
                if contract_changes > 1 {
                    c.add(at("op"), "update_contract may appear only once per amendment");
                }
            }
        }
    }
}

/// What one change did: `before` and `after` are the term as the API showed it (null for an
/// added or removed term), or for `update_contract` the changed fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AmendmentChangeRecord {
    pub op: ChangeOp,
    pub term_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
}

/// A recorded amendment (补充协议): who, when, why, and before → after of each change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Amendment {
    pub id: String,
    pub contract_id: String,
    /// 1, 2, 3 … per contract.
    pub number: i64,
    pub reason: String,
    pub changes: Vec<AmendmentChangeRecord>,
    /// The API key's name that made the amendment.
    pub amended_by: String,
    pub amended_by_key_id: String,
    /// The contract's version after the amendment.
    pub contract_version: i64,
    pub created_at: DateTime<Utc>,
}

/// Amendments are history: written once, never changed, so every one is version 1.
impl crate::db::Record for Amendment {
    fn id(&self) -> &str {
        &self.id
    }
    fn version(&self) -> i64 {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::model::tests::sample;
    use serde_json::json;

    fn amendment(changes: Value) -> AmendmentRequest {
        serde_json::from_value(json!({"reason": "补充协议一", "changes": changes})).unwrap()
    }

    #[test]
    fn amendment_shapes_follow_the_op() {
        let id = "0192f0c4-3b9e-7c1a-8f00-000000000000";
        let req = amendment(json!([
            {"op": "add", "term_id": id, "term": {}},
            {"op": "modify", "term": {}},
            {"op": "remove", "term_id": id},
            {"op": "remove", "term_id": id},
            {"op": "update_contract", "contract": {}},
            {"op": "update_contract", "contract": {}},
            {"op": "remove", "term_id": "nope"},
        ]));
        let mut c = Check::new();
        req.check_shape(&mut c);
        let fields: Vec<_> = c.finish().unwrap_err().errors.into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["changes[0].term_id", "changes[1].term_id", "changes[3].term_id", "changes[5].op", "changes[6].term_id"]
        );
        let mut c = Check::new();
        amendment(json!([])).check_shape(&mut c);
        assert_eq!(c.finish().unwrap_err().errors[0].field, "changes");
    }

    #[test]
    fn amending_contract_fields_checks_paths_and_dates() {
        let current = sample();
        let patch: AmendmentContractUpdate =
            serde_json::from_value(json!({"effective_to": "2025-01-01", "currency": "rmb"})).unwrap();
        let mut c = Check::new();
        patch.apply(&current, &mut c, "changes[0].contract.");
        let fields: Vec<_> = c.finish().unwrap_err().errors.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["changes[0].contract.currency", "changes[0].contract.effective_to"]);
        let patch: AmendmentContractUpdate =
            serde_json::from_value(json!({"effective_to": "2027-06-30", "total_value": null})).unwrap();
        let mut c = Check::new();
        let next = patch.apply(&current, &mut c, "");
        assert!(c.is_ok());
        assert_eq!((next.effective_to, next.total_value), (NaiveDate::from_ymd_opt(2027, 6, 30), None));
    }
}
