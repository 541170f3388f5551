//! Amendments in the database: an amendment is planned in full (every change validated against
//! the locked contract and its terms) before anything is written, then applied and recorded in
//! the same transaction, with its audit record and `contract.amended` event.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use diesel::prelude::*;
use serde_json::{json, Value};

use super::model::*;
use crate::access::{Actor, Scope};
use crate::audit;
use crate::contracts::events::{ContractAmended, ContractSnapshot};
use crate::contracts::model::{Contract, ContractStatus};
use crate::contracts::store::{get, lock, partner_name, save};
use crate::contracts::terms::store::{all_terms, insert_term, write_term};
use crate::contracts::terms::{self, collect, Term, TermContent, TermCreate, TermUpdate};
use crate::db::schema::{contract_amendments as am, contract_terms as ct};
use crate::db::{self, json as dbjson, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::validation::Check;

fn amendment_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, Code::AmendmentNotFound, "amendment not found")
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = am)]
struct AmendmentRow {
    id: String,
    contract_id: String,
    number: i32,
    reason: String,
    changes: String,
    actor_key_id: String,
    actor_name: String,
    contract_version: i64,
    created_at: chrono::NaiveDateTime,
}

impl AmendmentRow {
    fn into_model(self) -> Result<Amendment, ApiError> {
        Ok(Amendment {
            id: self.id,
            contract_id: self.contract_id,
            number: i64::from(self.number),
            reason: self.reason,
            changes: dbjson::decode(&self.changes)?,
            amended_by: self.actor_name,
            amended_by_key_id: self.actor_key_id,
            contract_version: self.contract_version,
            created_at: self.created_at.and_utc(),
        })
    }
}

/// One validated change, ready to apply.
enum Planned {
    Add(TermContent),
    Modify(Term, TermContent),
    Remove(Term),
    Contract(Contract),
}

/// Validates every change of `req` against the contract and its terms; any error rejects all.
fn plan(req: &AmendmentRequest, contract: &Contract, terms: &[Term]) -> Result<Vec<Planned>, ApiError> {
    let mut c = Check::new();
    req.check_shape(&mut c);
    let by_id: HashMap<&str, &Term> = terms.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut planned = Vec::new();
    for (i, ch) in req.changes.iter().enumerate() {
        let prefix = format!("changes[{i}]");
        let term_of = |c: &mut Check| -> Option<Term> {
            // Malformed ids are reported by `check_shape`.
            let id = uuid::Uuid::parse_str(ch.term_id.as_deref()?).ok()?.hyphenated().to_string();
            match by_id.get(id.as_str()) {
                Some(t) => Some((*t).clone()),
                None => {
                    c.add(format!("{prefix}.term_id"), "no term with this id on the contract");
                    None
                }
            }
        };
        match ch.op {
            ChangeOp::Add => {
                let Some(value) = &ch.term else { continue };
                let parsed = terms::parse_at::<TermCreate>(value, &format!("{prefix}.term"));
                if let Some(input) = collect(&mut c, parsed) {
                    if let Some(content) = input.content(&mut c, &format!("{prefix}.term.")) {
                        planned.push(Planned::Add(content));
                    }
                }
            }
            ChangeOp::Modify => {
                let current = term_of(&mut c);
                let Some(value) = &ch.term else { continue };
                let parsed = terms::parse_at::<TermUpdate>(value, &format!("{prefix}.term"));
                if let (Some(patch), Some(current)) = (collect(&mut c, parsed), current) {
                    if let Some(content) = patch.apply(&current, &mut c, &format!("{prefix}.term.")) {
                        planned.push(Planned::Modify(current, content));
                    }
                }
            }
            ChangeOp::Remove => {
                if let Some(current) = term_of(&mut c) {
                    planned.push(Planned::Remove(current));
                }
            }
            ChangeOp::UpdateContract => {
                let Some(value) = &ch.contract else { continue };
                let parsed = terms::parse_at::<AmendmentContractUpdate>(value, &format!("{prefix}.contract"));
                if let Some(patch) = collect(&mut c, parsed) {
                    planned.push(Planned::Contract(patch.apply(contract, &mut c, &format!("{prefix}.contract."))));
                }
            }
        }
    }
    c.finish()?;
    Ok(planned)
}

/// Applies an amendment to an active contract in one go: every change valid or none applied.
pub fn amend(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    req: &AmendmentRequest,
) -> Result<(Contract, Amendment), ApiError> {
    let current = lock(conn, id)?;
    etag::check(expected, current.version)?;
    if current.status != ContractStatus::Active {
        let hint = if current.status == ContractStatus::Draft {
            "edit a draft's terms directly"
        } else {
            "the contract is closed"
        };
        return Err(ApiError::conflict(
            Code::ContractNotActive,
            format!("only active contracts are amended (this one is {}): {hint}", current.status),
        ));
    }
    let terms = all_terms(conn, id)?;
    let planned = plan(req, &current, &terms)?;
    let mut records = Vec::new();
    let mut next = current.clone();
    for step in planned {
        records.push(apply(conn, id, &current, &mut next, step)?);
    }
    save(conn, &current, &mut next)?;
    let amendment = record(conn, actor, &next, req, records)?;
    let name = partner_name(conn, &next.partner_id)?;
    let amended =
        ContractAmended { snapshot: ContractSnapshot::new(next.clone(), &name), amendment: amendment.clone() };
    events::emit(conn, &DomainEvent::ContractAmended(amended))?;
    Ok((next, amendment))
}

/// Applies one planned change of contract `id`; an `update_contract` change replaces `next`.
/// Returns what the amendment records of it.
fn apply(
    conn: &mut DbConn,
    id: &str,
    current: &Contract,
    next: &mut Contract,
    step: Planned,
) -> Result<AmendmentChangeRecord, ApiError> {
    Ok(match step {
        Planned::Add(content) => {
            let term = insert_term(conn, id, &content)?;
            AmendmentChangeRecord {
                op: ChangeOp::Add,
                term_id: Some(term.id.clone()),
                before: None,
                after: Some(json!(term)),
            }
        }
        Planned::Modify(before, content) => {
            let after =
                if content == TermContent::of(&before) { before.clone() } else { write_term(conn, &before, &content)? };
            AmendmentChangeRecord {
                op: ChangeOp::Modify,
                term_id: Some(before.id.clone()),
                before: Some(json!(before)),
                after: Some(json!(after)),
            }
        }
        Planned::Remove(before) => {
            diesel::delete(ct::table.filter(ct::id.eq(&before.id))).execute(conn)?;
            AmendmentChangeRecord {
                op: ChangeOp::Remove,
                term_id: Some(before.id.clone()),
                before: Some(json!(before)),
                after: None,
            }
        }
        Planned::Contract(changed) => {
            let diff = audit::diff(Some(current), Some(&changed));
            let side = |which: &str| -> Value {
                let fields: serde_json::Map<String, Value> =
                    diff.as_object().into_iter().flatten().map(|(f, v)| (f.clone(), v[which].clone())).collect();
                Value::Object(fields)
            };
            let record = AmendmentChangeRecord {
                op: ChangeOp::UpdateContract,
                term_id: None,
                before: Some(side("old")),
                after: Some(side("new")),
            };
            *next = changed;
            record
        }
    })
}

/// Records the amendment of `next` (already saved) with the next number, and its audit record.
fn record(
    conn: &mut DbConn,
    actor: &Actor,
    next: &Contract,
    req: &AmendmentRequest,
    changes: Vec<AmendmentChangeRecord>,
) -> Result<Amendment, ApiError> {
    let count: i64 = am::table.filter(am::contract_id.eq(&next.id)).count().get_result(conn)?;
    let amendment = Amendment {
        id: db::new_id(),
        contract_id: next.id.clone(),
        number: count + 1,
        reason: req.reason.clone(),
        changes,
        amended_by: actor.name.clone(),
        amended_by_key_id: actor.key_id.clone(),
        contract_version: next.version,
        created_at: next.updated_at,
    };
    diesel::insert_into(am::table)
        .values(AmendmentRow {
            id: amendment.id.clone(),
            contract_id: amendment.contract_id.clone(),
            number: i32::try_from(amendment.number).map_err(ApiError::internal)?,
            reason: amendment.reason.clone(),
            changes: dbjson::encode(&amendment.changes),
            actor_key_id: actor.key_id.clone(),
            actor_name: actor.name.clone(),
            contract_version: amendment.contract_version,
            created_at: amendment.created_at.naive_utc(),
        })
        .execute(conn)?;
    audit::record(
        conn,
        actor,
        "amend",
        "contract",
        &next.id,
        json!({ "amendment_id": amendment.id, "number": amendment.number, "reason": amendment.reason,
                "changes": amendment.changes }),
    )?;
    Ok(amendment)
}

pub fn list_amendments(
    conn: &mut DbConn,
    contract_id: &str,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<Amendment>, ApiError> {
    get(conn, contract_id, scope)?;
    let mut q = am::table.filter(am::contract_id.eq(contract_id.to_string())).into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(am::id.gt(after[0].clone()));
    }
    let rows: Vec<AmendmentRow> =
        q.order(am::id.asc()).limit(page.limit + 1).select(AmendmentRow::as_select()).load(conn)?;
    rows.into_iter().map(AmendmentRow::into_model).collect()
}

pub fn get_amendment(conn: &mut DbConn, contract_id: &str, id: &str, scope: &Scope) -> Result<Amendment, ApiError> {
    get(conn, contract_id, scope)?;
    let row: Option<AmendmentRow> = am::table
        .filter(am::id.eq(id).and(am::contract_id.eq(contract_id)))
        .select(AmendmentRow::as_select())
        .first(conn)
        .optional()?;
    row.ok_or_else(amendment_not_found)?.into_model()
}
