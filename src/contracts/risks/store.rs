//! What the risk rules read from the database (every active contract with its partner's name and
//! the terms the rules look at), and the risks the scan has announced and not yet seen clear.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use super::model::{list_order, visible, Risk, Subject, TermFact};
use super::rules::assess;
use crate::access::Scope;
use crate::contracts::model::ContractStatus;
use crate::contracts::store::ContractRow;
use crate::contracts::terms::{Params, TermKind, REQUIRED_KINDS};
use crate::db::schema::{contract_open_risks as open, contract_terms as ct, contracts as k, partners};
use crate::db::{self, json as dbjson, DbConn};
use crate::error::ApiError;

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
    let mut found = visible(assess(&subjects, today), scope);
    found.sort_by_key(list_order);
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
