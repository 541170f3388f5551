//! Contracts, terms and amendments in the database. Every write locks its contract row first, so
//! a status move and a term write cannot interleave.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::{json, Value};

use super::events::{ContractAmended, ContractRenewed, ContractSnapshot, ContractStatusChange, ContractUpdated};
use super::model::*;
use super::risks::{self, Risk, Subject, TermFact};
use super::terms::{self, Params, Term, TermContent, TermCreate, TermKind, TermUpdate, REQUIRED_KINDS};
use crate::access::Actor;
use crate::access::Scope;
use crate::audit;
use crate::db::like_pattern;
use crate::db::schema::{
    contract_amendments as am, contract_open_risks as open, contract_terms as ct, contracts as k, partners,
};
use crate::db::{self, json as dbjson, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::validation::Check;

pub fn contract_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, Code::ContractNotFound, "contract not found")
}

fn term_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, Code::TermNotFound, "term not found")
}

fn amendment_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, Code::AmendmentNotFound, "amendment not found")
}

fn number_taken(number: &str) -> ApiError {
    ApiError::conflict(
        Code::ContractNumberTaken,
        format!("a contract numbered {number:?} already exists (numbers are unique ignoring case)"),
    )
}

fn date_text(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

fn parse_date(text: Option<String>) -> Result<Option<NaiveDate>, ApiError> {
    text.map(|t| {
        NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .map_err(|e| ApiError::internal(format!("stored date {t:?} is malformed: {e}")))
    })
    .transpose()
}

// ---- contracts ----

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = k)]
#[diesel(treat_none_as_null = true)]
struct ContractRow {
    id: String,
    partner_id: String,
    number: String,
    number_key: String,
    title: String,
    title_key: String,
    kind: String,
    status: String,
    signed_at: Option<chrono::NaiveDateTime>,
    effective_from: Option<String>,
    effective_to: Option<String>,
    auto_renew: bool,
    renewal_notice_days: i32,
    total_value: Option<i64>,
    currency: String,
    owner: Option<String>,
    notes: Option<String>,
    predecessor_id: Option<String>,
    successor_id: Option<String>,
    version: i64,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

impl ContractRow {
    fn into_model(self) -> Result<Contract, ApiError> {
        Ok(Contract {
            id: self.id,
            partner_id: self.partner_id,
            number: self.number,
            title: self.title,
            kind: ContractKind::from_db(&self.kind)?,
            status: ContractStatus::from_db(&self.status)?,
            signed_at: self.signed_at.map(|t| t.and_utc()),
            effective_from: parse_date(self.effective_from)?,
            effective_to: parse_date(self.effective_to)?,
            auto_renew: self.auto_renew,
            renewal_notice_days: i64::from(self.renewal_notice_days),
            total_value: self.total_value,
            currency: self.currency,
            owner: self.owner,
            notes: self.notes,
            predecessor_id: self.predecessor_id,
            successor_id: self.successor_id,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }

    fn from_model(m: &Contract) -> Self {
        ContractRow {
            id: m.id.clone(),
            partner_id: m.partner_id.clone(),
            number: m.number.clone(),
            number_key: number_key(&m.number),
            title: m.title.clone(),
            title_key: m.title.to_lowercase(),
            kind: m.kind.as_str().into(),
            status: m.status.as_str().into(),
            signed_at: m.signed_at.map(|t| t.naive_utc()),
            effective_from: date_text(m.effective_from),
            effective_to: date_text(m.effective_to),
            auto_renew: m.auto_renew,
            // Validation keeps this within 0..=730.
            renewal_notice_days: i32::try_from(m.renewal_notice_days).unwrap_or(i32::MAX),
            total_value: m.total_value,
            currency: m.currency.clone(),
            owner: m.owner.clone(),
            notes: m.notes.clone(),
            predecessor_id: m.predecessor_id.clone(),
            successor_id: m.successor_id.clone(),
            version: m.version,
            created_at: m.created_at.naive_utc(),
            updated_at: m.updated_at.naive_utc(),
        }
    }
}

/// The partner of a contract write: it must exist and not be archived.
fn check_partner(conn: &mut DbConn, partner_id: &str) -> Result<String, ApiError> {
    let name: Option<String> = partners::table
        .filter(partners::id.eq(partner_id).and(partners::archived_at.is_null()))
        .select(partners::name)
        .first(conn)
        .optional()?;
    name.ok_or_else(|| ApiError::field("partner_id", "no such partner (or it is archived)"))
}

pub fn partner_name(conn: &mut DbConn, partner_id: &str) -> Result<String, ApiError> {
    let name: Option<String> = partners::table.find(partner_id).select(partners::name).first(conn).optional()?;
    name.ok_or_else(|| ApiError::internal(format!("contract partner {partner_id} is missing")))
}

fn ensure_number_free(conn: &mut DbConn, number: &str, except_id: Option<&str>) -> Result<(), ApiError> {
    let mut q = k::table.filter(k::number_key.eq(number_key(number))).into_boxed();
    if let Some(id) = except_id {
        q = q.filter(k::id.ne(id.to_string()));
    }
    let taken: i64 = q.count().get_result(conn)?;
    if taken > 0 {
        return Err(number_taken(number));
    }
    Ok(())
}

fn insert_contract(conn: &mut DbConn, contract: &Contract) -> Result<(), ApiError> {
    diesel::insert_into(k::table).values(ContractRow::from_model(contract)).execute(conn).map_err(|e| {
        // Two requests racing past the check: the unique index decides.
        if db::is_unique_violation(&e) {
            number_taken(&contract.number)
        } else {
            e.into()
        }
    })?;
    Ok(())
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: &ContractCreate) -> Result<Contract, ApiError> {
    let partner_name = check_partner(conn, &input.partner_id)?;
    ensure_number_free(conn, &input.number, None)?;
    let now = db::now().and_utc();
    let contract = Contract {
        id: db::new_id(),
        partner_id: input.partner_id.clone(),
        number: input.number.clone(),
        title: input.title.clone(),
        kind: input.kind,
        status: ContractStatus::Draft,
        signed_at: input.signed_at.map(truncate),
        effective_from: input.effective_from,
        effective_to: input.effective_to,
        auto_renew: input.auto_renew.unwrap_or(false),
        renewal_notice_days: input.renewal_notice_days.unwrap_or(DEFAULT_NOTICE_DAYS),
        total_value: input.total_value,
        currency: input.currency.clone().unwrap_or_else(|| DEFAULT_CURRENCY.into()),
        owner: input.owner.clone(),
        notes: input.notes.clone(),
        predecessor_id: None,
        successor_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    insert_contract(conn, &contract)?;
    audit::record(conn, actor, "create", "contract", &contract.id, audit::diff(None::<&Contract>, Some(&contract)))?;
    events::emit(conn, &DomainEvent::ContractCreated(ContractSnapshot::new(contract.clone(), &partner_name)))?;
    Ok(contract)
}

fn load(conn: &mut DbConn, id: &str) -> Result<Option<Contract>, ApiError> {
    let row: Option<ContractRow> = k::table.find(id).select(ContractRow::as_select()).first(conn).optional()?;
    row.map(ContractRow::into_model).transpose()
}

/// A contract visible in `scope` (partner keys: only their own; others are 404).
pub fn get(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<Contract, ApiError> {
    match load(conn, id)? {
        Some(c) if scope.allows(&c.partner_id) => Ok(c),
        _ => Err(contract_not_found()),
    }
}

/// Takes the contract's row lock for the rest of the transaction (a no-op update: portable, and
/// on Postgres it makes concurrent writers of the same contract wait their turn), then reads it.
fn lock(conn: &mut DbConn, id: &str) -> Result<Contract, ApiError> {
    diesel::update(k::table.find(id)).set(k::version.eq(k::version)).execute(conn)?;
    load(conn, id)?.ok_or_else(contract_not_found)
}

pub fn list(
    conn: &mut DbConn,
    filter: &ContractFilter,
    page: &PageRequest,
    scope: &Scope,
    today: NaiveDate,
) -> Result<Vec<Contract>, ApiError> {
    let mut q = k::table.into_boxed();
    if let Scope::Partner(own) = scope {
        q = q.filter(k::partner_id.eq(own.clone()));
    }
    if let Some(v) = &filter.partner_id {
        q = q.filter(k::partner_id.eq(v.clone()));
    }
    if let Some(v) = filter.status {
        q = q.filter(k::status.eq(v.as_str()));
    }
    if let Some(v) = filter.kind {
        q = q.filter(k::kind.eq(v.as_str()));
    }
    if let Some(v) = &filter.owner {
        q = q.filter(k::owner.eq(v.clone()));
    }
    if let Some(v) = &filter.q {
        let pattern = like_pattern(&v.to_lowercase());
        q = q.filter(k::number_key.like(pattern.clone()).escape('\\').or(k::title_key.like(pattern).escape('\\')));
    }
    let rows: Vec<ContractRow> = if let Some(days) = filter.expiring_within_days {
        // Soonest first, keyed by (effective_to, id).
        let until = today + chrono::Duration::days(days);
        q = q.filter(k::effective_to.ge(today.to_string()).and(k::effective_to.le(until.to_string())));
        if let Some(after) = &page.after {
            q = q.filter(
                k::effective_to
                    .gt(after[0].clone())
                    .or(k::effective_to.eq(after[0].clone()).and(k::id.gt(after[1].clone()))),
            );
        }
        q.order((k::effective_to.asc(), k::id.asc()))
            .limit(page.limit + 1)
            .select(ContractRow::as_select())
            .load(conn)?
    } else {
        if let Some(after) = &page.after {
            q = q.filter(k::id.lt(after[0].clone()));
        }
        q.order(k::id.desc()).limit(page.limit + 1).select(ContractRow::as_select()).load(conn)?
    };
    rows.into_iter().map(ContractRow::into_model).collect()
}

/// Writes `next` over `current` (locked by the caller) with the next version.
fn save(conn: &mut DbConn, current: &Contract, next: &mut Contract) -> Result<(), ApiError> {
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(k::table.filter(k::id.eq(&current.id).and(k::version.eq(current.version))))
        .set(ContractRow::from_model(next))
        .execute(conn)
        .map_err(|e| if db::is_unique_violation(&e) { number_taken(&next.number) } else { e.into() })?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    Ok(())
}

fn not_draft(contract: &Contract, what: &str) -> ApiError {
    let hint = match contract.status {
        ContractStatus::Active => "change an active contract through POST /api/v1/contracts/{id}/amendments",
        _ => "the contract is closed",
    };
    ApiError::conflict(
        Code::ContractNotDraft,
        format!("{what} only while the contract is a draft (it is {}): {hint}", contract.status),
    )
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &ContractUpdate,
) -> Result<Contract, ApiError> {
    let current = lock(conn, id)?;
    etag::check(expected, current.version)?;
    let mut next = patch.apply(&current);
    patch.validate(&next)?;
    if next.status != current.status && !current.status.can_move_to(next.status) {
        return Err(ApiError::conflict(
            Code::InvalidStatusTransition,
            format!("a contract cannot move from {} to {}", current.status, next.status),
        ));
    }
    if current.status != ContractStatus::Draft {
        let locked = locked_changes(&current, &next);
        if !locked.is_empty() {
            return Err(not_draft(&current, &format!("{} can change", locked.join(", "))));
        }
    }
    if next.status == ContractStatus::Active && current.status == ContractStatus::Draft && next.effective_from.is_none()
    {
        return Err(ApiError::conflict(Code::ContractIncomplete, "set effective_from before activating the contract"));
    }
    if next.partner_id != current.partner_id {
        check_partner(conn, &next.partner_id)?;
    }
    if number_key(&next.number) != number_key(&current.number) {
        ensure_number_free(conn, &next.number, Some(id))?;
    }
    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(current);
    }
    save(conn, &current, &mut next)?;
    audit::record(conn, actor, "update", "contract", id, changes.clone())?;
    let name = partner_name(conn, &next.partner_id)?;
    if next.status != current.status {
        let moved = ContractStatusChange {
            snapshot: ContractSnapshot::new(next.clone(), &name),
            from: current.status,
            to: next.status,
        };
        let event = match next.status {
            ContractStatus::Active => DomainEvent::ContractActivated(moved),
            ContractStatus::Expired => DomainEvent::ContractExpired(moved),
            ContractStatus::Terminated => DomainEvent::ContractTerminated(moved),
            // `can_move_to` (checked above) has no move back to draft.
            ContractStatus::Draft => return Err(ApiError::internal("a contract moved back to draft")),
        };
        events::emit(conn, &event)?;
    }
    if changes.as_object().is_some_and(|m| m.keys().any(|f| f != "status")) {
        let mut other = changes.clone();
        if let Some(m) = other.as_object_mut() {
            m.remove("status");
        }
        let updated = ContractUpdated { snapshot: ContractSnapshot::new(next.clone(), &name), changes: other };
        events::emit(conn, &DomainEvent::ContractUpdated(updated))?;
    }
    Ok(next)
}

/// Deletes a draft (with its terms); a draft successor is unlinked from its predecessor.
pub fn delete(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<(), ApiError> {
    let current = lock(conn, id)?;
    etag::check(expected, current.version)?;
    if current.status != ContractStatus::Draft {
        return Err(not_draft(&current, "a contract can be deleted"));
    }
    if let Some(pred_id) = &current.predecessor_id {
        let pred = lock(conn, pred_id)?;
        let mut next = pred.clone();
        next.successor_id = None;
        save(conn, &pred, &mut next)?;
        audit::record(conn, actor, "update", "contract", pred_id, audit::diff(Some(&pred), Some(&next)))?;
    }
    diesel::delete(ct::table.filter(ct::contract_id.eq(id))).execute(conn)?;
    diesel::delete(k::table.filter(k::id.eq(id))).execute(conn)?;
    audit::record(conn, actor, "delete", "contract", id, audit::diff(Some(&current), None::<&Contract>))?;
    let name = partner_name(conn, &current.partner_id)?;
    events::emit(conn, &DomainEvent::ContractDeleted(ContractSnapshot::new(current, &name)))?;
    Ok(())
}

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

// ---- terms ----

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ct)]
struct TermRow {
    id: String,
    contract_id: String,
    kind: String,
    title: String,
    text: String,
    obligated_party: String,
    params: String,
    version: i64,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

impl TermRow {
    fn into_model(self) -> Result<Term, ApiError> {
        Ok(Term {
            id: self.id,
            contract_id: self.contract_id,
            kind: TermKind::from_db(&self.kind)?,
            title: self.title,
            text: self.text,
            obligated_party: terms::Party::from_db(&self.obligated_party)?,
            params: dbjson::decode(&self.params)?,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }

    fn from_model(t: &Term) -> Self {
        TermRow {
            id: t.id.clone(),
            contract_id: t.contract_id.clone(),
            kind: t.kind.as_str().into(),
            title: t.title.clone(),
            text: t.text.clone(),
            obligated_party: t.obligated_party.as_str().into(),
            params: dbjson::encode(&t.params),
            version: t.version,
            created_at: t.created_at.naive_utc(),
            updated_at: t.updated_at.naive_utc(),
        }
    }
}

fn insert_term(conn: &mut DbConn, contract_id: &str, content: &TermContent) -> Result<Term, ApiError> {
    let now = db::now().and_utc();
    let term = Term {
        id: db::new_id(),
        contract_id: contract_id.to_string(),
        kind: content.kind,
        title: content.title.clone(),
        text: content.text.clone(),
        obligated_party: content.obligated_party,
        params: content.params.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(ct::table).values(TermRow::from_model(&term)).execute(conn)?;
    Ok(term)
}

fn write_term(conn: &mut DbConn, current: &Term, content: &TermContent) -> Result<Term, ApiError> {
    let next = Term {
        kind: content.kind,
        title: content.title.clone(),
        text: content.text.clone(),
        obligated_party: content.obligated_party,
        params: content.params.clone(),
        version: current.version + 1,
        updated_at: db::now().and_utc(),
        ..current.clone()
    };
    let updated = diesel::update(ct::table.filter(ct::id.eq(&current.id).and(ct::version.eq(current.version))))
        .set(TermRow::from_model(&next))
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    Ok(next)
}

/// Every term of a contract in the order they were added.
pub fn all_terms(conn: &mut DbConn, contract_id: &str) -> Result<Vec<Term>, ApiError> {
    let rows: Vec<TermRow> = ct::table
        .filter(ct::contract_id.eq(contract_id))
        .order(ct::id.asc())
        .select(TermRow::as_select())
        .load(conn)?;
    rows.into_iter().map(TermRow::into_model).collect()
}

/// The contract of a direct term write: it must be a draft.
fn draft_for_terms(conn: &mut DbConn, contract_id: &str) -> Result<Contract, ApiError> {
    let contract = lock(conn, contract_id)?;
    if contract.status != ContractStatus::Draft {
        return Err(not_draft(&contract, "terms can be written directly"));
    }
    Ok(contract)
}

pub fn create_term(conn: &mut DbConn, actor: &Actor, contract_id: &str, input: &TermCreate) -> Result<Term, ApiError> {
    let mut c = Check::new();
    let content = input.content(&mut c, "");
    c.finish()?;
    let content = content.ok_or_else(|| ApiError::internal("term content missing after validation"))?;
    draft_for_terms(conn, contract_id)?;
    let term = insert_term(conn, contract_id, &content)?;
    audit::record(conn, actor, "create", "contract_term", &term.id, audit::diff(None::<&Term>, Some(&term)))?;
    Ok(term)
}

pub fn get_term(conn: &mut DbConn, contract_id: &str, id: &str, scope: &Scope) -> Result<Term, ApiError> {
    get(conn, contract_id, scope)?;
    let row: Option<TermRow> = ct::table
        .filter(ct::id.eq(id).and(ct::contract_id.eq(contract_id)))
        .select(TermRow::as_select())
        .first(conn)
        .optional()?;
    row.ok_or_else(term_not_found)?.into_model()
}

pub fn list_terms(
    conn: &mut DbConn,
    contract_id: &str,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<Term>, ApiError> {
    get(conn, contract_id, scope)?;
    let mut q = ct::table.filter(ct::contract_id.eq(contract_id.to_string())).into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(ct::id.gt(after[0].clone()));
    }
    let rows: Vec<TermRow> = q.order(ct::id.asc()).limit(page.limit + 1).select(TermRow::as_select()).load(conn)?;
    rows.into_iter().map(TermRow::into_model).collect()
}

pub fn update_term(
    conn: &mut DbConn,
    actor: &Actor,
    contract_id: &str,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &TermUpdate,
) -> Result<Term, ApiError> {
    draft_for_terms(conn, contract_id)?;
    let current = get_term(conn, contract_id, id, &Scope::All)?;
    etag::check(expected, current.version)?;
    let mut c = Check::new();
    let content = patch.apply(&current, &mut c, "");
    c.finish()?;
    let content = content.ok_or_else(|| ApiError::internal("term content missing after validation"))?;
    if content == TermContent::of(&current) {
        return Ok(current);
    }
    let next = write_term(conn, &current, &content)?;
    audit::record(conn, actor, "update", "contract_term", id, audit::diff(Some(&current), Some(&next)))?;
    Ok(next)
}

pub fn delete_term(
    conn: &mut DbConn,
    actor: &Actor,
    contract_id: &str,
    id: &str,
    expected: &Option<Vec<i64>>,
) -> Result<(), ApiError> {
    draft_for_terms(conn, contract_id)?;
    let current = get_term(conn, contract_id, id, &Scope::All)?;
    etag::check(expected, current.version)?;
    diesel::delete(ct::table.filter(ct::id.eq(id))).execute(conn)?;
    audit::record(conn, actor, "delete", "contract_term", id, audit::diff(Some(&current), None::<&Term>))?;
    Ok(())
}

// ---- amendments ----

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

fn collect<T>(c: &mut Check, result: Result<T, ApiError>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            for f in e.errors {
                c.add(f.field, f.message);
            }
            None
        }
    }
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
        let record = match step {
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
                let after = if content == TermContent::of(&before) {
                    before.clone()
                } else {
                    write_term(conn, &before, &content)?
                };
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
                let diff = audit::diff(Some(&current), Some(&changed));
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
                next = changed;
                record
            }
        };
        records.push(record);
    }
    save(conn, &current, &mut next)?;
    let count: i64 = am::table.filter(am::contract_id.eq(id)).count().get_result(conn)?;
    let amendment = Amendment {
        id: db::new_id(),
        contract_id: id.to_string(),
        number: count + 1,
        reason: req.reason.clone(),
        changes: records,
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
        id,
        json!({ "amendment_id": amendment.id, "number": amendment.number, "reason": amendment.reason,
                "changes": amendment.changes }),
    )?;
    let name = partner_name(conn, &next.partner_id)?;
    let amended =
        ContractAmended { snapshot: ContractSnapshot::new(next.clone(), &name), amendment: amendment.clone() };
    events::emit(conn, &DomainEvent::ContractAmended(amended))?;
    Ok((next, amendment))
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

// ---- what the risk rules read ----

/// Every active contract with its partner's name and the terms the rules look at (the required
/// kinds, exclusivity and territory), without the clause texts.
pub fn risk_subjects(conn: &mut DbConn) -> Result<Vec<Subject>, ApiError> {
    let rows: Vec<(ContractRow, String)> = k::table
        .inner_join(partners::table)
        .filter(k::status.eq(ContractStatus::Active.as_str()))
        .order(k::id.asc())
        .select((ContractRow::as_select(), partners::name))
        .load(conn)?;
    let mut kinds: Vec<&str> = REQUIRED_KINDS.iter().map(|k| k.as_str()).collect();
    kinds.extend([TermKind::Exclusivity.as_str(), TermKind::Territory.as_str()]);
    let term_rows: Vec<(String, String, String, String)> = ct::table
        .inner_join(k::table)
        .filter(k::status.eq(ContractStatus::Active.as_str()))
        .filter(ct::kind.eq_any(kinds))
        .order(ct::id.asc())
        .select((ct::id, ct::contract_id, ct::kind, ct::params))
        .load(conn)?;
    let mut by_contract: BTreeMap<String, Vec<TermFact>> = BTreeMap::new();
    for (id, contract_id, kind, params) in term_rows {
        let kind = TermKind::from_db(&kind)?;
        let params = Params::from_stored(kind, &dbjson::decode(&params)?)?;
        by_contract.entry(contract_id).or_default().push(TermFact { id, kind, params });
    }
    rows.into_iter()
        .map(|(row, partner_name)| {
            let contract = row.into_model()?;
            let terms = by_contract.remove(&contract.id).unwrap_or_default();
            Ok(Subject { contract, partner_name, terms })
        })
        .collect()
}

/// The risks of every active contract on `today` that `scope` may see (a partner its own,
/// redacted), most severe first.
pub fn current_risks(conn: &mut DbConn, scope: &Scope, today: NaiveDate) -> Result<Vec<Risk>, ApiError> {
    let subjects = risk_subjects(conn)?;
    let mut found = risks::visible(risks::assess(&subjects, today), scope);
    found.sort_by_key(risks::list_order);
    Ok(found)
}

/// The risk keys announced and not yet cleared.
pub fn open_risk_keys(conn: &mut DbConn) -> Result<Vec<String>, ApiError> {
    Ok(open::table.select(open::risk_key).load(conn)?)
}

/// Records `key` as open (idempotent: a concurrent scanner may have recorded it first).
pub fn open_risk(conn: &mut DbConn, key: &str, code: &str, contract_id: &str) -> Result<(), ApiError> {
    let sql = match conn.backend() {
        db::Backend::Sqlite => {
            "INSERT INTO contract_open_risks (risk_key, code, contract_id, opened_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT DO NOTHING"
        }
        db::Backend::Postgres => {
            "INSERT INTO contract_open_risks (risk_key, code, contract_id, opened_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING"
        }
    };
    diesel::sql_query(sql)
        .bind::<diesel::sql_types::Text, _>(key)
        .bind::<diesel::sql_types::Text, _>(code)
        .bind::<diesel::sql_types::Text, _>(contract_id)
        .bind::<diesel::sql_types::Timestamp, _>(db::now())
        .execute(conn)?;
    Ok(())
}

pub fn close_risk(conn: &mut DbConn, key: &str) -> Result<(), ApiError> {
    diesel::delete(open::table.filter(open::risk_key.eq(key))).execute(conn)?;
    Ok(())
}

/// Number of the contracts linked to `contract` (predecessor, successor), for the document.
pub fn link_numbers(conn: &mut DbConn, contract: &Contract) -> Result<super::render::Links, ApiError> {
    let mut number = |id: &Option<String>| -> Result<Option<String>, ApiError> {
        match id {
            Some(id) => Ok(k::table.find(id).select(k::number).first(conn).optional()?),
            None => Ok(None),
        }
    };
    Ok(super::render::Links {
        predecessor_number: number(&contract.predecessor_id)?,
        successor_number: number(&contract.successor_id)?,
    })
}
