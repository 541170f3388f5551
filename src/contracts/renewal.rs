//! Renewal: the successor of an active or expired contract, created as a draft with the
//! predecessor's partner, kind, renewal settings and a copy of its terms, linked both ways. It
//! writes contracts and terms, so it sits above both stores.

use super::events::{ContractRenewed, ContractSnapshot};
use super::model::*;
use super::store::{ensure_number_free, insert_contract, lock, partner_name, save};
use super::terms::store::{all_terms, insert_term};
use super::terms::TermContent;
use crate::access::Actor;
use crate::audit;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::validation::Check;

/// Creates the successor of an active or expired contract: a draft with the same partner, kind,
/// renewal settings and terms, linked both ways.
pub fn renew(conn: &mut DbConn, actor: &Actor, id: &str, input: &ContractRenewRequest) -> Result<Contract, ApiError> {
    let pred = lock(conn, id)?;
    if !matches!(pred.status, ContractStatus::Active | ContractStatus::Expired) {
        return Err(ApiError::conflict(
            Code::ContractNotRenewable,
            format!("only active or expired contracts can be renewed (this one is {})", pred.status),
        ));
    }
    if let Some(succ) = &pred.successor_id {
        return Err(ApiError::conflict(
            Code::ContractAlreadyRenewed,
            format!("the contract already has a successor ({succ})"),
        ));
    }
    let (from, to) = input.dates(&pred);
    let mut c = Check::new();
    check_date(&mut c, "effective_from", from);
    check_date(&mut c, "effective_to", to);
    check_dates(&mut c, "effective_to", from, to);
    c.finish()?;
    ensure_number_free(conn, &input.number, None)?;
    let now = db::now().and_utc();
    let successor = Contract {
        id: db::new_id(),
        partner_id: pred.partner_id.clone(),
        number: input.number.clone(),
        title: input.title.clone().unwrap_or_else(|| pred.title.clone()),
        kind: pred.kind,
        status: ContractStatus::Draft,
        signed_at: None,
        effective_from: from,
        effective_to: to,
        auto_renew: pred.auto_renew,
        renewal_notice_days: pred.renewal_notice_days,
        total_value: input.total_value.or(pred.total_value),
        currency: pred.currency.clone(),
        owner: input.owner.clone().or_else(|| pred.owner.clone()),
        notes: input.notes.clone(),
        predecessor_id: Some(pred.id.clone()),
        successor_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    insert_contract(conn, &successor)?;
    for term in all_terms(conn, &pred.id)? {
        insert_term(conn, &successor.id, &TermContent::of(&term))?;
    }
    let mut linked = pred.clone();
    linked.successor_id = Some(successor.id.clone());
    save(conn, &pred, &mut linked)?;
    audit::record(conn, actor, "create", "contract", &successor.id, audit::diff(None::<&Contract>, Some(&successor)))?;
    audit::record(conn, actor, "update", "contract", &pred.id, audit::diff(Some(&pred), Some(&linked)))?;
    let name = partner_name(conn, &pred.partner_id)?;
    let renewed = ContractRenewed { snapshot: ContractSnapshot::new(linked, &name), successor: successor.clone() };
    events::emit(conn, &DomainEvent::ContractRenewed(renewed))?;
    Ok(successor)
}
