//! Contracts in the database. Every write locks its contract row first, so a status move and a
//! term or amendment write cannot interleave; `lock`, `save` and `get` are what the sub-resource
//! stores build on.

use actix_web::http::StatusCode;
use chrono::NaiveDate;
use diesel::prelude::*;

use super::events::{ContractSnapshot, ContractStatusChange, ContractUpdated};
use super::model::*;
use super::render::Links;
use crate::access::{Actor, Scope};
use crate::audit;
use crate::db::schema::{contract_terms as ct, contracts as k, partners};
use crate::db::{self, like_pattern, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::validation::comparison_key;

pub fn contract_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, Code::ContractNotFound, "contract not found")
}

fn number_taken(number: &str) -> ApiError {
    ApiError::conflict(
        Code::ContractNumberTaken,
        format!(
            "a contract numbered {number:?} already exists (numbers are unique ignoring case, width, invisible characters and surrounding spaces)"
        ),
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

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = k)]
#[diesel(treat_none_as_null = true)]
pub struct ContractRow {
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
    pub fn into_model(self) -> Result<Contract, ApiError> {
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
            title_key: title_key(&m.title),
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

pub fn ensure_number_free(conn: &mut DbConn, number: &str, except_id: Option<&str>) -> Result<(), ApiError> {
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

pub fn insert_contract(conn: &mut DbConn, contract: &Contract) -> Result<(), ApiError> {
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

/// Upgrade `contract_number_keys_v1`: recomputes every contract's `number_key` and `title_key`
/// under `validation::comparison_key` (they were trim + lower case before). Two contracts whose
/// numbers the new rule calls the same keep their old number keys (logged): someone must
/// renumber one, and until then neither blocks the other.
pub fn rekey_numbers(conn: &mut DbConn) -> Result<usize, ApiError> {
    let mut changed = 0;
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, String, String, String)> = k::table
            .filter(k::id.gt(&after))
            .order(k::id.asc())
            .limit(db::upgrades::BATCH)
            .select((k::id, k::number, k::number_key, k::title, k::title_key))
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        for (id, number, old_number_key, title, old_title_key) in rows {
            let (nk, tk) = (number_key(&number), title_key(&title));
            let mut touched = false;
            if tk != old_title_key {
                diesel::update(k::table.find(&id)).set(k::title_key.eq(&tk)).execute(conn)?;
                touched = true;
            }
            if nk != old_number_key {
                let set = |c: &mut DbConn| diesel::update(k::table.find(&id)).set(k::number_key.eq(&nk)).execute(c);
                if db::upgrades::try_in_savepoint(conn, set)? {
                    touched = true;
                } else {
                    tracing::warn!(contract_id = %id, number = %number, "contract number now equals another's; renumber one");
                }
            }
            changed += usize::from(touched);
        }
    }
    Ok(changed)
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
pub fn lock(conn: &mut DbConn, id: &str) -> Result<Contract, ApiError> {
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
        let pattern = like_pattern(&comparison_key(v));
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
pub fn save(conn: &mut DbConn, current: &Contract, next: &mut Contract) -> Result<(), ApiError> {
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

pub fn not_draft(contract: &Contract, what: &str) -> ApiError {
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

/// Number of the contracts linked to `contract` (predecessor, successor), for the document.
pub fn link_numbers(conn: &mut DbConn, contract: &Contract) -> Result<Links, ApiError> {
    let mut number = |id: &Option<String>| -> Result<Option<String>, ApiError> {
        match id {
            Some(id) => Ok(k::table.find(id).select(k::number).first(conn).optional()?),
            None => Ok(None),
        }
    };
    Ok(Links {
        predecessor_number: number(&contract.predecessor_id)?,
        successor_number: number(&contract.successor_id)?,
    })
}
