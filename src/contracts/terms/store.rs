//! Contract terms in the database. A direct term write locks its contract first (it must be a
//! draft), so a status move and a term write cannot interleave. The helpers that write one term
//! are shared with amendments and renewals.

use actix_web::http::StatusCode;
use diesel::prelude::*;

use super::model::{Party, Term, TermContent, TermCreate, TermKind, TermUpdate};
use crate::access::{Actor, Scope};
use crate::audit;
use crate::contracts::model::{Contract, ContractStatus};
use crate::contracts::store::{get, lock, not_draft};
use crate::db::schema::contract_terms as ct;
use crate::db::{self, json as dbjson, DbConn};
use crate::error::{ApiError, Code};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::validation::Check;

fn term_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, Code::TermNotFound, "term not found")
}

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
            obligated_party: Party::from_db(&self.obligated_party)?,
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

pub fn insert_term(conn: &mut DbConn, contract_id: &str, content: &TermContent) -> Result<Term, ApiError> {
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

pub fn write_term(conn: &mut DbConn, current: &Term, content: &TermContent) -> Result<Term, ApiError> {
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
